// Secret recognition and redaction: the one place in Palisade that decides what is a secret
// and how it is hidden. Values are looked at here, in memory, to classify them; what leaves
// this module is a kind ("github-token") or a redacted string, never a value.
//
// Every path that shows or sends configuration uses these functions: discovery (normalize)
// redacts each server, `report` redacts the whole report again before it is spooled and
// uploaded, the rule engine redacts every message and piece of evidence, and the backend
// redacts every report it accepts (an old or hostile agent cannot store a secret).
//
// Redaction keeps the shape so an analyst still sees what is configured:
//   --token=<redacted:generic-secret>      postgresql://app:<redacted>@db.internal/prod
//   Authorization: Bearer <redacted>       {"apiKey":"<redacted:generic-secret>"}
//   https://mcp.example.com/sse/<redacted:openai-key>/   ?access_token=<redacted>

import { BoundedMemo } from './memo.js';

interface SecretPattern {
  type: string;
  re: RegExp;
}

// Well-known token shapes, found even when glued to other text (`--token=ghp_...`, a URL
// query, `x_AKIA...`, `token_ghp_...`). Prefixes distinctive enough on their own (ghp_ and
// 30+ characters, glpat-, xoxb-, AIza, a JWT) need no boundary before them; the shorter or
// commoner ones (AKIA, sk-, hf_, npm_, sk_live_) must not follow a letter or digit, so
// `risk-assessment-server` or `disk_test_...` are not taken for keys.
const PATTERNS: SecretPattern[] = [
  { type: 'github-token', re: /(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255})\b/ },
  { type: 'gitlab-token', re: /glpat-[A-Za-z0-9_-]{20,}\b/ },
  { type: 'slack-token', re: /xox[abposre]-[A-Za-z0-9-]{10,}\b/ },
  { type: 'slack-webhook', re: /hooks\.slack\.com\/services\/T[A-Za-z0-9]+\/B[A-Za-z0-9]+\/[A-Za-z0-9]{16,}/ },
  { type: 'aws-access-key', re: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  // sk-ant- before the general sk- shape, or Anthropic keys would be labelled openai-key
  { type: 'anthropic-key', re: /(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_-]{20,}\b/ },
  { type: 'openai-key', re: /(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b/ },
  { type: 'google-api-key', re: /AIza[0-9A-Za-z_-]{35}\b/ },
  { type: 'stripe-key', re: /(?<![A-Za-z0-9])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b/ },
  { type: 'stripe-webhook-secret', re: /(?<![A-Za-z0-9])whsec_[A-Za-z0-9]{24,}\b/ },
  { type: 'npm-token', re: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}\b/ },
  { type: 'huggingface-token', re: /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}\b/ },
  { type: 'jwt', re: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/ },
  { type: 'private-key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  // not a challenge's parameters (RFC 6750 / RFC 9728: `Bearer realm="..."`, `Bearer resource_metadata="..."`)
  { type: 'bearer-token', re: /\bBearer\s+(?!(?:realm|scope|error|error_description|error_uri|resource_metadata)\s*=)[A-Za-z0-9._~+/=-]{16,}/i },
];

// The same shapes for replacing: every occurrence, glued or not.
const GLOBAL_PATTERNS = PATTERNS.filter((p) => p.type !== 'private-key' && p.type !== 'bearer-token').map((p) => ({
  type: p.type,
  re: new RegExp(p.re.source, 'g'),
}));
// All the shapes in one pattern: most text holds none, and one scan says so.
// (case-sensitive like the shapes themselves; the one case-insensitive shape, Bearer, is added as its own alternative)
const ANY_KNOWN = new RegExp(
  [...PATTERNS.filter((p) => !p.re.flags.includes('i')).map((p) => `(?:${p.re.source})`), '\\b[Bb][Ee][Aa][Rr][Ee][Rr]\\s+[A-Za-z0-9._~+/=-]{16,}'].join('|'),
);
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;

/** What a redacted value is replaced with: `<redacted>` or `<redacted:kind>`. */
const MARKER = /<redacted(?::[a-z0-9-]{1,40})?>/g;
const ONLY_MARKERS = /^\s*<redacted(?::[a-z0-9-]{1,40})?>(?:\s*<redacted(?::[a-z0-9-]{1,40})?>)*\s*$/;

/** Bounds of the memos of pure judgements below (classifyValue, redactString): texts this short, this many of them. */
const REDACTED_MEMO_MAX_TEXT = 512;
const REDACTED_MEMO_MAX_ENTRIES = 4096;

// ---------------------------------------------------------------------------------------
// Names

// Words that make a name a secret's name on their own.
const STRONG_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'apikey',
  'pat',
  'credential',
  'credentials',
  'privatekey',
  'accesskey',
  'secretkey',
  'cookie',
  'authorization',
  'bearer',
  'dsn',
  'passcode',
  'pin',
]);
// Two-word names: api key, client secret, access token ...
const STRONG_PAIRS = new Set([
  'api key',
  'access key',
  'secret key',
  'private key',
  'client secret',
  'auth token',
  'access token',
  'refresh token',
  'signing key',
  'master key',
  'encryption key',
  'license key',
  'session key',
  'account key',
  'shared key',
  'webhook secret',
  'x api',
  'subscription key',
]);
// A name ending in one of these names something else about the secret (where it is, what
// kind, how long it lives), never the secret itself: GITHUB_TOKEN_URL, API_KEY_PATH, AUTH_TYPE.
const NOT_SECRET_LAST = new Set([
  'url',
  'uri',
  'urls',
  'endpoint',
  'host',
  'hostname',
  'port',
  'path',
  'paths',
  'file',
  'files',
  'dir',
  'directory',
  'folder',
  'model',
  'id',
  'ids',
  'name',
  'names',
  'user',
  'username',
  'login',
  'email',
  'mode',
  'type',
  'enabled',
  'enable',
  'disabled',
  'disable',
  'timeout',
  'header',
  'region',
  'scope',
  'scopes',
  'expiry',
  'expires',
  'expiration',
  'ttl',
  'env',
  'var',
  'variable',
  'limit',
  'limits',
  'count',
  'size',
  'length',
  'format',
  'version',
  'prefix',
  'location',
  'provider',
  'method',
  'kind',
  'strategy',
  'flow',
  'issuer',
  'audience',
  'realm',
  'domain',
  'tenant',
  'account',
  'bucket',
  'project',
  'org',
  'team',
  'level',
  'max',
  'min',
  'tokens',
  'ref',
  'cmd',
  'command',
  'helper',
  'store',
  'storage',
  'cache',
  'service',
  'server',
  'field',
  'param',
  'key_id',
  'keyid',
  'fingerprint',
  'hint',
  'rotation',
  'policy',
  'required',
  'optional',
]);
// A name whose last word is one of these is a secret's name unless the value says otherwise.
// (`--auth oauth` names a mode, `--auth admin:s3cret` a credential: the value decides)
const WEAK_LAST = new Set(['key', 'session', 'sessionid', 'salt', 'nonce', 'auth', 'sig', 'signature']);

/** The words of a name: FOO_API_KEY, fooApiKey, --foo-api-key, X-Api-Key all give [foo, api, key]. */
function nameWords(name: string): string[] {
  return name
    .replace(/^-+/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export type NameStrength = 'strong' | 'weak' | 'none' | 'not';

/**
 * How strongly a variable, flag, header or query parameter name announces a secret:
 * `strong` (PASSWORD, --api-key, Authorization), `weak` (--key, SESSION), `not` (the name
 * is about a secret but holds something else: TOKEN_URL, API_KEY_FILE) or `none`.
 */
export function nameStrength(name: string): NameStrength {
  if (typeof name !== 'string') return 'none';
  // names repeat (flags, env names across servers): remembered, up to a bound
  return strengths.get(name, judgeName);
}

const strengths = new BoundedMemo<string, NameStrength>(4096);

function judgeName(name: string): NameStrength {
  const w = nameWords(name);
  if (w.length === 0) return 'none';
  const last = w[w.length - 1]!;
  if (NOT_SECRET_LAST.has(last) && (w.length > 1 || last === 'url' || last === 'path' || last === 'file')) return 'not';
  for (let i = 0; i < w.length; i++) {
    if (STRONG_WORDS.has(w[i]!) && !(w[i] === 'pass' && i < w.length - 1) && !(w[i] === 'pin' && w.length > 1)) return 'strong';
    if (i > 0 && STRONG_PAIRS.has(`${w[i - 1]} ${w[i]}`)) return 'strong';
  }
  if (WEAK_LAST.has(last)) return 'weak';
  return 'none';
}

export function isSecretName(name: string): boolean {
  const s = nameStrength(name);
  return s === 'strong' || s === 'weak';
}

// ---------------------------------------------------------------------------------------
// Value shapes

// References to somewhere else, not literal values: ${VAR}, ${env:VAR}, ${input:id},
// ${VAR:-default}, $VAR, %VAR%, {{ secrets.X }}, {env:VAR} (OpenCode), op://vault/item (1Password).
const REFERENCE =
  /^\s*(?:[A-Za-z]+\s+)?(?:\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]+\}\}|\{(?:env|file|input):[^{}]+\}|op:\/\/\S+|keychain:\S+|vault:\S+|secretsmanager:\S+|azurekeyvault:\S+)\s*$/;
const CONTAINS_REFERENCE = /\$\{[^}]+\}|\{\{[^}]+\}\}|\{(?:env|file|input):[^{}]+\}/;

// Words people leave in examples in place of a value.
const PLACEHOLDER_WORDS = new Set([
  'your',
  'yours',
  'here',
  'replace',
  'insert',
  'placeholder',
  'changeme',
  'change',
  'example',
  'sample',
  'dummy',
  'todo',
  'tbd',
  'fixme',
  'enter',
  'redacted',
  'xxx',
  'xxxx',
  'xxxxx',
  'foo',
  'bar',
  'baz',
  'none',
  'null',
  'undefined',
  'nil',
  'empty',
  'secret',
  'password',
  'token',
  'key',
  'api',
  'apikey',
]);
const PLACEHOLDER_MARKERS = new Set([
  'your',
  'yours',
  'here',
  'replace',
  'insert',
  'placeholder',
  'changeme',
  'example',
  'sample',
  'dummy',
  'todo',
  'tbd',
  'fixme',
  'enter',
  'xxx',
  'xxxx',
  'xxxxx',
]);

/** An obvious placeholder: `<YOUR_TOKEN>`, `{secret}`, `sk-your-api-key`, `xxx`, `changeme`, `***`. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v === '') return true;
  if (/^(?:<[^<>]*>|\{[^{}]*\}|\[[^\][]*\]|\([^()]*\))$/.test(v)) return true;
  if (/^(?:x+|X+|\*+|\.+|#+|-+|_+|0+|\?+)$/.test(v) && v.length >= 3) return true;
  if (
    /^(?:changeme|change_me|change-me|placeholder|todo|tbd|fixme|none|null|nil|undefined|empty|secret|password|token|apikey|api[_-]key|redacted|example|sample|dummy|test|foo|bar|baz)$/i.test(
      v,
    )
  )
    return true;
  // made of placeholder words only (after a known token prefix): sk-your-api-key, YOUR_API_KEY_HERE
  if (/\d/.test(v)) return false;
  const rest = v.replace(/^(?:sk-(?:ant-|proj-)?|ghp_|gho_|github_pat_|xox[abp]-|glpat-|hf_|npm_|pk_|sk_(?:live|test)_|AKIA)/i, '');
  const words = nameWords(rest);
  if (words.length === 0) return false;
  return (
    words.some((x) => PLACEHOLDER_MARKERS.has(x) || /^x{3,}$/.test(x)) && words.every((x) => PLACEHOLDER_WORDS.has(x) || /^x{3,}$/.test(x) || x.length <= 12)
  );
}

export function isReference(value: string): boolean {
  return REFERENCE.test(value);
}

const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}(?::\d{1,5})?$|^(?:localhost|(?:\d{1,3}\.){3}\d{1,3})(?::\d{1,5})?$/;
const BOOL_OR_NUMBER = /^(?:true|false|yes|no|on|off|enabled|disabled|-?\d{1,6}(?:\.\d+)?|0x[0-9a-f]{1,8})$/i;
const MODEL =
  /^(?:[a-z0-9-]+\/)?(?:gpt|o[1-9]|chatgpt|claude|gemini|gemma|llama|codellama|mistral|mixtral|codestral|qwen|deepseek|text-embedding|embed|command|phi|sonnet|opus|haiku|grok|nomic|mxbai|all-minilm|bge|e5|jina|voyage|titan|nova)[a-z0-9.:_-]*$/i;
const PATH =
  /^(?:~|\.{1,2})?[\\/]|^[A-Za-z]:[\\/]|^%[A-Za-z_]+%[\\/]|^\$[A-Za-z_]+[\\/]|^[\w.-]+\.(?:pem|key|crt|cer|p12|pfx|json|ya?ml|toml|env|txt|conf|cfg|ini|jks|keystore|der|pub)$/;

/** A value whose shape says what it is (and that is not a secret): a path, email, host, model, number... */
export function benignShape(value: string): string | undefined {
  const v = value.trim();
  if (BOOL_OR_NUMBER.test(v)) return 'boolean-or-number';
  if (EMAIL.test(v)) return 'email';
  if (PATH.test(v) && !/\s/.test(v)) return 'path';
  if (HOST.test(v)) return 'host';
  if (MODEL.test(v)) return 'model';
  return undefined;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const TOKEN_CHARS = /^[A-Za-z0-9_\-.~+/=:]+$/;

/**
 * Random-looking: long, token characters only, letters and digits mixed, high entropy.
 * `strict` (for values under names that say nothing) also wants upper and lower case, so
 * ids, hashes and UUIDs are not called secrets; the loose form accepts them.
 */
export function looksRandom(value: string, strict = true): boolean {
  const v = value.trim();
  const min = strict ? 20 : 16;
  if (v.length < min || v.length > 4096 || !TOKEN_CHARS.test(v)) return false;
  if (!/[0-9]/.test(v) || !/[A-Za-z]/.test(v)) return false;
  if (strict && !(/[a-z]/.test(v) && /[A-Z]/.test(v))) return false;
  // words joined by dashes (a package or host name with a version) are not random
  if (/^(?:[a-z]+[-_.])+[a-z0-9.]*$/i.test(v) && !/[A-Z][^a-z]*[a-z]\D*[0-9]|[0-9]\D*[A-Z]/.test(v)) return false;
  return entropy(v) >= (strict ? 3.5 : 3.2);
}

export type ValueKind = 'empty' | 'reference' | 'secret' | 'value';

export interface ValueClass {
  kind: ValueKind;
  /** for kind 'secret': what it looks like */
  secretType?: string;
}

/** Does this string contain a well-known token shape? Returns its type. */
export function detectSecret(value: string): string | undefined {
  for (const p of PATTERNS) {
    const m = p.re.exec(value);
    // `sk-your-openai-api-key-here` has the shape of a key and is a placeholder
    if (m && !isPlaceholder(m[0])) return p.type;
  }
  return undefined;
}

/**
 * Classify one value (env, header, query parameter, flag value) by its name, its shape and
 * its entropy together. The value is not kept. In order:
 * empty; a reference (`${VAR}`, `${input:id}`, `{env:X}`, op://...); an obvious placeholder
 * (`<YOUR_TOKEN>`, `sk-your-api-key`, `changeme`); a known token shape anywhere (a secret,
 * whatever the name); a URL (a secret only with credentials inside); a path, email, host,
 * model name, boolean or number (not a secret); then the name decides: a strong secret name
 * (PASSWORD, API_KEY) makes any other literal a secret, a weak one (KEY, SESSION) one that is
 * not a plain word; under any other name only a random-looking value is a secret.
 */
export function classifyValue(name: string, value: string | undefined | null): ValueClass {
  return { ...classifyValueShared(name, value) };
}

/** classifyValue's result as remembered (no copy), for callers that only read it. */
export function classifyValueShared(name: string, value: string | undefined | null): Readonly<ValueClass> {
  // pure in (name, value), and the same pairs recur across servers (LOG_LEVEL=info, API_KEY=${API_KEY})
  if (typeof name !== 'string' || typeof value !== 'string' || name.length + value.length > REDACTED_MEMO_MAX_TEXT) return classify(name, value, false);
  return classifiedMemo.get(`${name}\0${value}`, () => classify(name, value, false));
}

const classifiedMemo = new BoundedMemo<string, ValueClass>(REDACTED_MEMO_MAX_ENTRIES);

function classify(name: string, value: string | undefined | null, nested: boolean): ValueClass {
  if (value === undefined || value === null || typeof value !== 'string' || value.trim() === '') return { kind: 'empty' };
  const v = value.trim();
  if (isReference(v)) return { kind: 'reference' };
  if (ONLY_MARKERS.test(v)) return { kind: 'value' };
  const known = detectSecret(v);
  if (known) return { kind: 'secret', secretType: known };
  // "Bearer ${TOKEN}" and similar are references with decoration.
  if (CONTAINS_REFERENCE.test(v)) return { kind: 'reference' };
  if (isPlaceholder(v)) return { kind: 'value' };
  // what is left beside redaction markers (an earlier pass) is what is judged
  const rest = v.includes('<redacted') ? v.replace(MARKER, ' ').trim() : v;
  if (rest !== v && rest.replace(/[^A-Za-z0-9]/g, '').length < 4) return { kind: 'value' };
  if (!nested && /^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    const r = redactUrl(rest);
    const secret = r.found.find((t) => t !== 'url-query-value');
    return secret ? { kind: 'secret', secretType: secret } : { kind: 'value' };
  }
  // Authorization-style values: the scheme is a word, the credential follows
  const scheme = /^(?:Bearer|Basic|Token|Digest|ApiKey|Key)\s+(\S+)$/i.exec(rest);
  if (scheme) return classify('token', scheme[1], true);
  // key=value text (a DSN or connection string given as one value)
  if (!nested && /[=;]/.test(rest) && /\S=\S/.test(rest)) {
    const inline = redactPairs(rest, true);
    if (inline.types.length) return { kind: 'secret', secretType: inline.types[0] };
  }
  const strength = nameStrength(name);
  if (strength === 'not') return { kind: 'value' };
  const shape = benignShape(rest);
  if (shape && !(shape === 'boolean-or-number' && strength === 'strong' && /^\d{7,}$/.test(rest))) return { kind: 'value' };
  if (strength === 'strong') return { kind: 'secret', secretType: 'generic-secret' };
  if (strength === 'weak' && (/\d/.test(rest) || /[a-z][^A-Z]*[A-Z]|[A-Z][^a-z]*[a-z]/.test(rest) || rest.length >= 16 || /^[^:\s]+:[^:\s]+$/.test(rest)))
    return { kind: 'secret', secretType: 'generic-secret' };
  if (looksRandom(rest, true)) return { kind: 'secret', secretType: 'high-entropy-string' };
  return { kind: 'value' };
}

// ---------------------------------------------------------------------------------------
// Redacting text

interface Redacted {
  text: string;
  /** kinds found, in order */
  types: string[];
}

/** Replace every known token shape, glued or not. */
function redactKnown(text: string, types: string[]): string {
  if (!ANY_KNOWN.test(text)) return text;
  let v = text;
  if (v.includes('PRIVATE KEY')) {
    v = v.replace(PRIVATE_KEY_BLOCK, () => {
      types.push('private-key');
      return '<redacted:private-key>';
    });
  }
  for (const p of GLOBAL_PATTERNS) {
    p.re.lastIndex = 0;
    if (!p.re.test(v)) continue;
    p.re.lastIndex = 0;
    v = v.replace(p.re, (m) => {
      if (isPlaceholder(m)) return m;
      types.push(p.type);
      return `<redacted:${p.type}>`;
    });
  }
  return v;
}

// Authorization-style schemes followed by a credential, anywhere in text.
const SCHEME_CREDENTIAL = /\b(Bearer|Basic|Token|Digest)(\s+)([A-Za-z0-9._~+/=-]{8,})/gi;

function redactSchemes(text: string, types: string[], always: boolean): string {
  if (!/bearer|basic|token|digest/i.test(text)) return text;
  return text.replace(SCHEME_CREDENTIAL, (m, scheme: string, space: string, cred: string) => {
    // in prose ("Token based", "Basic usage") only credential-shaped words go
    if (!always && !/bearer/i.test(scheme) && !(/\d/.test(cred) && /[A-Za-z]/.test(cred)) && !/=$/.test(cred)) return m;
    if (isPlaceholder(cred) || isReference(cred)) return m;
    types.push(/bearer/i.test(scheme) ? 'bearer-token' : 'generic-secret');
    return `${scheme}${space}<redacted>`;
  });
}

// name=value pairs inside text: --token=V, PASSWORD=V, password=V host=..., Password=V; (ADO),
// "apiKey":"V" (JSON), apiKey: V (YAML-ish). The value ends at whitespace, ; , & or a quote.
const PAIR_EQ = /(^|[\s;,&?([{'"`])(-{0,2}[A-Za-z_][A-Za-z0-9_.-]{0,80})(\s*=\s*)("(?:[^"\\\n]|\\.){0,4096}"|'[^'\n]{0,4096}'|[^\s;,&'"`)}\]]{1,4096})/g;
const PAIR_COLON = /(^|[\s;,&?([{'"`])([A-Za-z_][A-Za-z0-9_.-]{0,80})(["']?\s*:\s*)("(?:[^"\\\n]|\\.){0,4096}"|'[^'\n]{0,4096}'|[^\s;,&'"`)}\]]{1,4096})/g;

function redactPairs(text: string, nested = false): Redacted {
  const types: string[] = [];
  let out = text;
  // `=` pairs first, then `:` pairs, so a `name:` before a `--password=V` cannot hide it
  if (out.includes('='))
    out = out.replace(PAIR_EQ, (m, lead: string, name: string, sep: string, raw: string) => judgePair(m, lead, name, sep, raw, nested, types));
  if (out.includes(':'))
    out = out.replace(PAIR_COLON, (m, lead: string, name: string, sep: string, raw: string) => judgePair(m, lead, name, sep, raw, nested, types));
  return { text: out, types };
}

function judgePair(m: string, lead: string, name: string, sep: string, raw: string, nested: boolean, types: string[]): string {
  const colon = sep.trim().endsWith(':');
  const quotedName = sep.startsWith('"') || sep.startsWith("'");
  // a `:` pair only counts for JSON-ish "name": or a secret-named name (apiKey: V), never for a URL scheme
  if (colon && (raw.startsWith('//') || !(quotedName || isSecretName(name)))) return m;
  const quote = raw[0] === '"' || raw[0] === "'" ? raw[0] : '';
  const value = quote ? raw.slice(1, -1) : raw;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) return m; // a URL: redactUrl judges it
  // `password: the user's password` is prose: an unquoted `name: value` needs a credential-shaped value
  if (
    colon &&
    !quote &&
    !quotedName &&
    !(detectSecret(value) || looksRandom(value, false) || (/\d/.test(value) && /[A-Za-z]/.test(value) && value.length >= 8))
  )
    return m;
  const cls = classify(name, value, nested);
  if (cls.kind !== 'secret') return m;
  const type = cls.secretType ?? 'generic-secret';
  types.push(type);
  return `${lead}${name}${sep}${quote}<redacted:${type}>${quote}`;
}

// scheme://... anywhere in text, up to whitespace or a quote
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s"'`<>]+/g;

function redactUrlsIn(text: string, types: string[]): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (u) => {
    const r = redactUrl(u);
    types.push(...r.found);
    return r.url;
  });
}

// A header line: `Authorization: Bearer V`, `X-Api-Key: V`, `Cookie: a=b`.
const HEADER_LINE = /^(\s*)([A-Za-z][A-Za-z0-9_-]{0,80})(\s*:\s*)(\S(?:[^\r\n]*\S)?)(\s*)$/;

function redactHeaderLine(text: string, types: string[]): string | undefined {
  const m = HEADER_LINE.exec(text);
  if (!m) return undefined;
  const [, lead, name, sep, value, tail] = m as unknown as [string, string, string, string, string, string];
  if (value.startsWith('//')) return undefined; // a URL, not a header
  const strength = nameStrength(name);
  if (strength !== 'strong' && strength !== 'weak' && !/^(?:cookie|set-cookie|proxy-authorization)$/i.test(name)) return undefined;
  if (isReference(value) || CONTAINS_REFERENCE.test(value) || ONLY_MARKERS.test(value)) return text;
  const scheme = /^(Bearer|Basic|Token|Digest|ApiKey|Key|Splunk|SSWS)(\s+)(\S.*)$/i.exec(value);
  if (scheme) {
    const cred = scheme[3]!;
    if (isPlaceholder(cred) || isReference(cred) || ONLY_MARKERS.test(cred)) return text;
    types.push(detectSecret(cred) ?? (/bearer/i.test(scheme[1]!) ? 'bearer-token' : 'generic-secret'));
    return `${lead}${name}${sep}${scheme[1]}${scheme[2]}<redacted>${tail}`;
  }
  const cls = classifyValue(/^cookie$|^set-cookie$/i.test(name) ? 'cookie' : name, value);
  if (cls.kind !== 'secret') return text;
  types.push(cls.secretType ?? 'generic-secret');
  return `${lead}${name}${sep}<redacted>${tail}`;
}

/**
 * Redact anything secret-shaped in free text (a tool description, a message, one argument):
 * private keys, URLs with credentials or secret query values, header lines, name=value
 * pairs with secret names (flags, DSNs, JSON members), Authorization schemes and known token
 * shapes anywhere. Returns the text with the shape kept, and the kinds found.
 */
// Text with none of these can hold no secret redactString would find: no `:` or `=` (URLs,
// headers, pairs), no credential scheme word, no known token shape.
const MAYBE = /[:=]|bearer|basic|token|digest/i;

// Servers repeat the same words (`-y`, `run`, `--rm`, image and package names, `Bearer ${TOKEN}`)
// and findings repeat the same sentences: redactString is a pure function of its text, so a
// text seen before is answered from here (short texts only, a bounded number of them).
const redactedMemo = new BoundedMemo<string, Redacted>(REDACTED_MEMO_MAX_ENTRIES);

export function redactString(text: string): Redacted {
  const hit = redactStringShared(text);
  // a fresh result every time: callers may add to `types`
  return { text: hit.text, types: hit.types.slice() };
}

/** redactString's result as remembered (no copy): for callers in this module that only read it. */
function redactStringShared(text: string): Readonly<Redacted> {
  if (typeof text !== 'string' || text.length > REDACTED_MEMO_MAX_TEXT) return redactStringUncached(text);
  return redactedMemo.get(text, redactStringUncached);
}

/** redactString(text).text, without copying the types it found. */
function redactedText(text: string): string {
  if (typeof text !== 'string' || text.length > REDACTED_MEMO_MAX_TEXT) return redactStringUncached(text).text;
  return redactedMemo.get(text, redactStringUncached).text;
}

function redactStringUncached(text: string): Redacted {
  const types: string[] = [];
  if (typeof text !== 'string' || text === '') return { text: typeof text === 'string' ? text : '', types };
  if (!MAYBE.test(text) && !ANY_KNOWN.test(text)) return { text, types };
  let v = redactKnown(text, types);
  // a PostgreSQL password-file line, host:port:database:user:password (`*` allowed)
  const pgpass = /^([^:\s]+:(?:\d{1,5}|\*):[^:\s]+:[^:\s]+:)(\S+)$/.exec(v);
  if (pgpass && !ONLY_MARKERS.test(pgpass[2]!) && !isReference(pgpass[2]!)) {
    types.push('password');
    return { text: `${pgpass[1]}<redacted:password>`, types };
  }
  // `--header=Authorization: Bearer V`: the header line after a flag's `=`
  const flagEq = /^(--?[A-Za-z][A-Za-z0-9_-]{0,40}=)(.*)$/s.exec(v);
  const header = flagEq ? redactHeaderLine(flagEq[2]!, types) : redactHeaderLine(v, types);
  if (header !== undefined) return { text: flagEq ? flagEq[1] + header : header, types };
  // header lines quoted inside a longer string: curl -H "X-Api-Key: V" ...
  if (/["'][A-Za-z][A-Za-z0-9_-]{0,80}\s*:/.test(v)) {
    v = v.replace(/(["'])([A-Za-z][A-Za-z0-9_-]{0,80}\s*:[^"'\n]{1,4096})\1/g, (m, q: string, line: string) => {
      const r = redactHeaderLine(line, types);
      return r === undefined ? m : `${q}${r}${q}`;
    });
  }
  v = redactUrlsIn(v, types);
  const pairs = redactPairs(v);
  v = pairs.text;
  types.push(...pairs.types);
  v = redactSchemes(v, types, false);
  return { text: v, types };
}

/** Free text with every secret-shaped part redacted (the engine's last wall for findings). */
export function redactFreeText(text: string): string {
  if (typeof text !== 'string') return '';
  // long prose: one line at a time, so a header line inside it is seen as one
  if (!text.includes('\n')) return redactedText(text);
  return text.split('\n').map(redactedText).join('\n');
}

// ---------------------------------------------------------------------------------------
// URLs

export interface RedactedUrl {
  url: string;
  /**
   * kinds found: 'url-credentials' (user-info), 'url-query-secret' or a token type (query or
   * path), 'url-path-secret', and 'url-query-value' for a query value hidden only because it
   * is not plainly harmless (not a finding on its own)
   */
  found: string[];
  /** true when the URL had a password or a token as user-info */
  hadCredentials: boolean;
}

// Query values shown as they are: short words, numbers, booleans, language codes.
const HARMLESS_QUERY_VALUE = /^(?:[a-z]{1,24}|[A-Z][a-z]{0,23}|[A-Z]{1,8}|[A-Za-z]{2}[-_][A-Za-z]{2}|\d{1,10}|[a-z]+(?:[-_.][a-z0-9]+){0,3})$/;

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Is a user-info or path part, on its own, a credential? */
function credentialLike(part: string): string | undefined {
  const v = decodeSafe(part);
  if (v === '' || ONLY_MARKERS.test(v) || isReference(v) || CONTAINS_REFERENCE.test(v) || isPlaceholder(v)) return undefined;
  return detectSecret(v) ?? (looksRandom(v, false) ? 'url-path-secret' : undefined);
}

/**
 * Redact a URL of any scheme, keeping its shape: the password of user-info
 * (`postgresql://app:<redacted>@db/prod`, `redis://:<redacted>@cache:6379`; a user name that
 * is itself a token goes too), query and fragment values that are not plainly harmless
 * (names kept), and path segments that are tokens (`/sse/<redacted:openai-key>/`).
 */
export function redactUrl(raw: string): RedactedUrl {
  const found: string[] = [];
  if (typeof raw !== 'string') return { url: '', found, hadCredentials: false };
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)((?:\/[^?#]*)?)(\?[^#]*)?(#.*)?$/s.exec(raw);
  if (!m) {
    // not a URL: still scrub anything shaped like a token
    const types: string[] = [];
    const url = redactKnown(raw, types);
    return { url, found: types, hadCredentials: false };
  }
  const [, scheme, authority0, path0, query0, fragment0] = m as unknown as [string, string, string, string, string | undefined, string | undefined];
  let hadCredentials = false;
  // user-info: everything before the LAST @ of the authority
  let authority = authority0;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const info = authority.slice(0, at);
    const hostPart = authority.slice(at + 1);
    const colon = info.indexOf(':');
    const user = colon >= 0 ? info.slice(0, colon) : info;
    const pass = colon >= 0 ? info.slice(colon + 1) : '';
    const passSecret = pass !== '' && !ONLY_MARKERS.test(decodeSafe(pass)) && !isReference(decodeSafe(pass)) && !CONTAINS_REFERENCE.test(decodeSafe(pass));
    // a user name beside a password stays unless it is a token itself; alone, only a plain
    // lowercase name (git, oauth2, x-access-token) or an email stays: anything else is a token
    const plainUser = /^[a-z][a-z0-9._-]{0,31}$/.test(decodeSafe(user)) || EMAIL.test(decodeSafe(user));
    const userSecret =
      user !== '' &&
      !ONLY_MARKERS.test(decodeSafe(user)) &&
      !isReference(decodeSafe(user)) &&
      !CONTAINS_REFERENCE.test(decodeSafe(user)) &&
      (credentialLike(user) !== undefined || (colon < 0 && !plainUser));
    if (passSecret || userSecret) {
      hadCredentials = true;
      found.push('url-credentials');
      authority = `${userSecret ? '<redacted>' : user}${colon >= 0 ? `:${pass === '' ? '' : passSecret ? '<redacted>' : pass}` : ''}@${hostPart}`;
    }
  }
  // path segments
  let path = path0;
  if (path.length > 1) {
    const segs = path.split('/');
    let changed = false;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      if (seg.length < 8) continue;
      const known = detectSecret(decodeSafe(seg));
      if (known) {
        const types: string[] = [];
        segs[i] = redactKnown(decodeSafe(seg), types);
        found.push(...types);
        changed = true;
        continue;
      }
      const t = credentialLike(seg);
      if (t && !/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i.test(seg) && !/^v?\d+(?:\.\d+)+/.test(seg)) {
        segs[i] = `<redacted:${t}>`;
        found.push(t);
        changed = true;
      }
    }
    if (changed) path = segs.join('/');
  }
  const redactParams = (part: string | undefined, lead: string): string => {
    if (part === undefined) return '';
    const body = part.slice(1);
    if (body === '') return lead;
    const pieces = body.split('&').map((p) => {
      if (p === '') return p;
      const eq = p.indexOf('=');
      if (eq < 0) {
        // a bare value (?sk-... or #token): only a credential goes
        const t = credentialLike(p);
        if (t) {
          found.push(t);
          return '<redacted>';
        }
        const d = decodeSafe(p);
        if (HARMLESS_QUERY_VALUE.test(d) || ONLY_MARKERS.test(d) || benignShape(d)) return p;
        found.push('url-query-value');
        return '<redacted>';
      }
      const name = p.slice(0, eq);
      const value = p.slice(eq + 1);
      const decoded = decodeSafe(value);
      if (value === '' || ONLY_MARKERS.test(decoded) || isReference(decoded) || CONTAINS_REFERENCE.test(decoded)) return p;
      const cls = classifyValue(decodeSafe(name), decoded);
      if (cls.kind === 'secret') {
        found.push(
          cls.secretType === 'generic-secret' || cls.secretType === 'high-entropy-string' ? 'url-query-secret' : (cls.secretType ?? 'url-query-secret'),
        );
        return `${name}=<redacted>`;
      }
      if (HARMLESS_QUERY_VALUE.test(decoded) || benignShape(decoded) || isPlaceholder(decoded)) return p;
      if (looksRandom(decoded, false)) {
        found.push('url-query-secret');
        return `${name}=<redacted>`;
      }
      found.push('url-query-value');
      return `${name}=<redacted>`;
    });
    return lead + pieces.join('&');
  };
  const query = redactParams(query0, '?');
  const fragment = redactParams(fragment0, '#');
  let url = `${scheme}${authority}${path}${query}${fragment}`;
  // a token glued anywhere else (the host, an odd authority)
  const rest: string[] = [];
  url = redactKnown(url, rest);
  found.push(...rest);
  return { url, found, hadCredentials };
}

// ---------------------------------------------------------------------------------------
// Command lines

export interface RedactedArgs {
  args: string[];
  /** index and kind of each argument that was changed; kinds starting with `url-` are URL parts */
  found: Array<{ index: number; type: string }>;
}

// Database clients whose short option carries a password: mysql -pVALUE, redis-cli -a VALUE ...
const DB_PASSWORD_OPTION: Record<string, string> = {
  mysql: '-p',
  mysqldump: '-p',
  mysqladmin: '-p',
  mysqlsh: '-p',
  mariadb: '-p',
  'mariadb-dump': '-p',
  mycli: '-p',
  mongo: '-p',
  mongosh: '-p',
  mongodump: '-p',
  mongorestore: '-p',
  mongoexport: '-p',
  'redis-cli': '-a',
  sqlcmd: '-P',
  bcp: '-P',
  isql: '-P',
};

const DB_PROGRAM_HINT = /mysql|maria|mongo|redis|sqlcmd|bcp|isql|mycli/i;

// Patterns the per-argument checks below use, made once: a regular expression literal inside a
// function is a new object every time it runs, and these run for every argument of every server.
const TLS_OFF_FLAG_VALUE = /^--?(?:verify-ssl|ssl-verify|tls-verify|verify)=(?:false|0|no)$/i;
const ENV_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const FLAG_NAME = /^--?([A-Za-z][A-Za-z0-9_.-]{0,80})$/;
const WHITESPACE = /\s/;
const PATH_OR_URL_CHAR = /[/@:]/;
const HEX_OR_UUID = /^[0-9a-f-]+$/i;

function programOf(word: string): string | undefined {
  if (!DB_PROGRAM_HINT.test(word)) return undefined;
  const base = (word.split(/[\\/]/).pop() ?? '').replace(/\.(?:exe|cmd|bat)$/i, '').toLowerCase();
  return Object.hasOwn(DB_PASSWORD_OPTION, base) ? base : undefined;
}

/** `--token`, `--api-key`, `--client-secret`, `-k`? No: long options whose name is a secret's name. */
function secretFlag(word: string): NameStrength | undefined {
  if (word.charCodeAt(0) !== 45) return undefined; // '-'
  const m = FLAG_NAME.exec(word);
  if (!m) return undefined;
  if (word.length === 2) return undefined; // short options are the program's business (see DB_PASSWORD_OPTION)
  const s = nameStrength(m[1]!);
  return s === 'strong' || s === 'weak' ? s : undefined;
}

const HEADER_FLAG = /^(?:-H|--header|--headers|-header|--http-header|--extra-header)$/;

/** Judge the value after a secret-named flag (`--token V`, `--key V`). */
function redactFlagValue(flag: string, value: string): Redacted | undefined {
  const types: string[] = [];
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) {
    const r = redactUrl(value);
    return { text: r.url, types: r.found };
  }
  const cls = classifyValue(flag, value);
  if (cls.kind !== 'secret') return undefined;
  types.push(cls.secretType ?? 'generic-secret');
  return { text: `<redacted:${cls.secretType ?? 'generic-secret'}>`, types };
}

/** Redact one list of words; `depth` stops shell strings nesting without end. */
function redactWords(args: readonly string[], command: string | null | undefined, depth: number): RedactedArgs {
  const out: string[] = [];
  const found: RedactedArgs['found'] = [];
  let program = command ? programOf(command) : undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = typeof args[i] === 'string' ? args[i]! : String(args[i] ?? '');
    const prev = i > 0 ? String(args[i - 1] ?? '') : '';
    let result: Redacted | undefined;
    const p = programOf(arg);
    if (p) program = p;
    const dbOption = program ? DB_PASSWORD_OPTION[program] : undefined;
    const flag = secretFlag(prev);
    if (dbOption && arg.startsWith(dbOption) && arg.length > dbOption.length && !arg.startsWith('--')) {
      // mysql -pVALUE
      const value = arg.slice(dbOption.length);
      if (!isReference(value) && !CONTAINS_REFERENCE.test(value) && !ONLY_MARKERS.test(value))
        result = { text: `${dbOption}<redacted:password>`, types: ['password'] };
    } else if (dbOption && prev === dbOption && !arg.startsWith('-')) {
      // mysql -p VALUE
      if (!isReference(arg) && !CONTAINS_REFERENCE.test(arg) && !ONLY_MARKERS.test(arg)) result = { text: '<redacted:password>', types: ['password'] };
    } else if (flag && !arg.startsWith('-')) {
      result = redactFlagValue(prev, arg);
      if (!result) {
        const s = redactStringShared(arg);
        if (s.types.length) result = s;
      }
    } else if (HEADER_FLAG.test(prev)) {
      // -H "X-Api-Key: V", --header "Authorization: Bearer V"
      const s = redactStringShared(arg);
      if (s.types.length) result = s;
    } else if (WHITESPACE.test(arg) && depth < 2 && !HEADER_LINE.test(arg)) {
      // a shell string (`bash -c "mysql -psecret ..."`): judge its words in order, keep the spacing
      const whole = redactStringShared(arg);
      const parts = whole.text.split(/(\s+)/);
      const words = parts.filter((_, k) => k % 2 === 0).map((w) => w.replace(/^["']|["']$/g, ''));
      const inner = redactWords(words, null, depth + 1);
      const types = [...whole.types];
      if (inner.found.length) {
        let w = 0;
        for (let k = 0; k < parts.length; k += 2, w++) {
          if (inner.found.some((f) => f.index === w)) {
            const original = parts[k]!;
            const q = /^["']/.test(original) ? original[0] : '';
            const qe = /["']$/.test(original) && original.length > 1 ? original[original.length - 1] : '';
            parts[k] = `${q}${inner.args[w]}${qe}`;
          }
        }
        types.push(...inner.found.map((f) => f.type));
      }
      if (types.length) result = { text: parts.join(''), types };
    } else {
      const s = redactStringShared(arg);
      if (s.types.length) result = s;
      else if (depth === 0 && !arg.startsWith('-') && !PATH_OR_URL_CHAR.test(arg) && arg.length >= 32 && looksRandom(arg, true) && !HEX_OR_UUID.test(arg)) {
        // a bare, long random argument (a key passed by position)
        result = { text: '<redacted:high-entropy-string>', types: ['high-entropy-string'] };
      }
    }
    if (result && result.text !== arg) {
      out.push(result.text);
      const type = result.types.find((t) => t !== 'url-query-value') ?? result.types[0] ?? 'generic-secret';
      found.push({ index: i, type });
    } else out.push(arg);
  }
  return { args: out, found };
}

/**
 * Redact secret values in a command's arguments, keeping their shape: known token shapes
 * anywhere; `--token=V`, `--password V`, `--api-key V`, `--key V`, `--client-secret V`;
 * `-pV` / `-p V` for database clients (mysql, mariadb, mongosh; `-a` for redis-cli);
 * `-H "X-Api-Key: V"` and `--header "Authorization: Bearer V"`; URLs of any scheme with
 * user-info, secret query values or token path segments; DSN and ADO pairs
 * (`password=V host=...`, `Password=V;`); JSON documents (`{"apiKey":"V"}`); KEY=value pairs;
 * and the words of shell strings (`bash -c "..."`). `command` tells which program runs.
 */
export function redactArgs(args: readonly string[], command?: string | null): RedactedArgs {
  return redactWords(Array.isArray(args) ? args : [], command, 0);
}

/** Is this a URL kind of finding (PAL-C009) rather than a literal secret (PAL-C008)? */
export function isUrlSecretType(type: string): boolean {
  return type === 'url-credentials' || type === 'url-query-secret' || type === 'url-path-secret';
}

// ---------------------------------------------------------------------------------------
// TLS switches

/** Env settings that switch TLS verification (or transport security) off when they hold these values. */
const TLS_OFF: Record<string, RegExp> = {
  NODE_TLS_REJECT_UNAUTHORIZED: /^0$/,
  PYTHONHTTPSVERIFY: /^0$/,
  CURL_CA_BUNDLE: /^$/,
  REQUESTS_CA_BUNDLE: /^$/,
  GIT_SSL_NO_VERIFY: /^(?!(?:0|false|no|off)$).+$/i,
  OAUTHLIB_INSECURE_TRANSPORT: /^(?!(?:0|false|no|off)$).+$/i,
  SSL_VERIFY: /^(?:0|false|no)$/i,
  VERIFY_SSL: /^(?:0|false|no)$/i,
  TLS_VERIFY: /^(?:0|false|no)$/i,
  SSL_CERT_VERIFY: /^(?:0|false|no)$/i,
  INSECURE_SKIP_VERIFY: /^(?:1|true|yes)$/i,
  TLS_INSECURE: /^(?:1|true|yes)$/i,
  SKIP_TLS_VERIFY: /^(?:1|true|yes)$/i,
};

/** Names of the env settings envDisablesTls knows. */
export const TLS_ENV_NAMES: readonly string[] = Object.keys(TLS_OFF);

export function envDisablesTls(name: string, value: string | undefined | null): boolean {
  if (typeof name !== 'string') return false;
  const re = TLS_OFF[name.toUpperCase()];
  return re !== undefined && value !== undefined && value !== null && typeof value === 'string' && re.test(value.trim());
}

const TLS_OFF_ARGS =
  /^(?:--insecure|-k|--no-verify(?:-ssl|-tls)?|--ignore-certificate-errors|--disable-ssl-verification|--tls-skip-verify|--skip-tls-verify|--allow-insecure|--insecure-skip-tls-verify|--no-check-certificate)$/i;

export function argsDisableTls(args: readonly string[]): boolean {
  return args.some((a) => {
    if (typeof a !== 'string') return false;
    if (TLS_OFF_ARGS.test(a) || TLS_OFF_FLAG_VALUE.test(a)) return true;
    // env settings passed as arguments: `env NODE_TLS_REJECT_UNAUTHORIZED=0 node x`, `docker run -e ...`
    const kv = ENV_ASSIGNMENT.exec(a);
    return kv !== null && envDisablesTls(kv[1]!, kv[2]!);
  });
}
