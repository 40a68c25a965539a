// Secret recognition and redaction. Values are looked at here, in memory, to classify
// them; what leaves this module is a kind ("github-token") or a redacted string, never a value.

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
  { type: 'slack-token', re: /xox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { type: 'aws-access-key', re: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  // sk-ant- before the general sk- shape, or Anthropic keys would be labelled openai-key
  { type: 'anthropic-key', re: /(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_-]{20,}\b/ },
  { type: 'openai-key', re: /(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b/ },
  { type: 'google-api-key', re: /AIza[0-9A-Za-z_-]{35}\b/ },
  { type: 'stripe-key', re: /(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/ },
  { type: 'npm-token', re: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}\b/ },
  { type: 'huggingface-token', re: /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}\b/ },
  { type: 'jwt', re: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/ },
  { type: 'private-key', re: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
  { type: 'bearer-token', re: /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/i },
];

// Names that announce a secret: FOO_API_KEY, GITHUB_TOKEN, DB_PASSWORD, X-Api-Key ...
const SECRET_NAME = /(?:^|[_.-])(?:api[_-]?key|apikey|token|secret|password|passwd|pwd|auth|authorization|credential|credentials|private[_-]?key|access[_-]?key|client[_-]?secret|session|cookie|pat)(?:$|[_.-])/i;

// References to somewhere else, not literal values: ${VAR}, ${env:VAR}, ${input:id},
// ${VAR:-default}, $VAR, %VAR%, {{ secrets.X }}, op://vault/item (1Password).
const REFERENCE = /^\s*(?:\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]+\}\}|op:\/\/\S+|keychain:\S+)\s*$/;
const CONTAINS_REFERENCE = /\$\{[^}]+\}|\{\{[^}]+\}\}/;

// Placeholders people leave in examples: not secrets.
const PLACEHOLDER = /^(?:<[^>]*>|\[[^\]]*\]|x{3,}|\*{3,}|\.{3}|your[_-].*|changeme|placeholder|example.*|todo|none|null|undefined|true|false|\d{1,6})$/i;

export type ValueKind = 'empty' | 'reference' | 'secret' | 'value';

export interface ValueClass {
  kind: ValueKind;
  /** for kind 'secret': what it looks like */
  secretType?: string;
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

/** Does this string contain a well-known token shape? Returns its type. */
export function detectSecret(value: string): string | undefined {
  for (const p of PATTERNS) if (p.re.test(value)) return p.type;
  return undefined;
}

export function isReference(value: string): boolean {
  return REFERENCE.test(value);
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function looksRandom(value: string): boolean {
  return value.length >= 16 && !/\s/.test(value) && entropy(value) >= 3.5 && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
}

/**
 * Classify one env or header value by its name and value. The value is not kept.
 * A literal value under a secret-sounding name, or any value shaped like a known
 * token, is a secret; `${VAR}`-style values are references.
 */
export function classifyValue(name: string, value: string | undefined | null): ValueClass {
  if (value === undefined || value === null || value.trim() === '') return { kind: 'empty' };
  if (isReference(value)) return { kind: 'reference' };
  const known = detectSecret(value);
  if (known) return { kind: 'secret', secretType: known };
  // "Bearer ${TOKEN}" and similar are references with decoration.
  if (CONTAINS_REFERENCE.test(value)) return { kind: 'reference' };
  if (PLACEHOLDER.test(value.trim())) return { kind: 'value' };
  if (isSecretName(name)) return { kind: 'secret', secretType: 'generic-secret' };
  if (looksRandom(value)) return { kind: 'secret', secretType: 'high-entropy-string' };
  return { kind: 'value' };
}

const FLAG_WITH_SECRET = /^(--?[A-Za-z0-9][A-Za-z0-9_-]*(?:api[_-]?key|apikey|token|secret|password|passwd|pat|credential)[A-Za-z0-9_-]*)=(.+)$/i;

export interface RedactedArgs {
  args: string[];
  /** index and kind of each argument that held a secret */
  found: Array<{ index: number; type: string }>;
}

/**
 * Redact secret-looking values in a command's arguments: known token shapes anywhere,
 * `--token=value` forms, and the value following a `--token` flag.
 */
export function redactArgs(args: readonly string[]): RedactedArgs {
  const out: string[] = [];
  const found: RedactedArgs['found'] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const prev = i > 0 ? (args[i - 1] ?? '') : '';
    const known = detectSecret(arg);
    const flagEq = FLAG_WITH_SECRET.exec(arg);
    if (/^https?:\/\//i.test(arg)) {
      const r = redactUrl(arg);
      if (r.found.length) found.push({ index: i, type: r.found[0]! });
      out.push(r.url);
    } else if (flagEq && !isReference(flagEq[2]!) && !CONTAINS_REFERENCE.test(flagEq[2]!)) {
      const type = detectSecret(flagEq[2]!) ?? 'generic-secret';
      found.push({ index: i, type });
      out.push(`${flagEq[1]}=<redacted:${type}>`);
    } else if (known) {
      found.push({ index: i, type: known });
      out.push(redactKnown(arg));
    } else if (
      /^--?[A-Za-z0-9-]*(?:api-?key|apikey|token|secret|password|passwd|credential)$/i.test(prev) &&
      !arg.startsWith('-') &&
      !arg.includes('<redacted:') &&
      !isReference(arg) &&
      !CONTAINS_REFERENCE.test(arg) &&
      !PLACEHOLDER.test(arg)
    ) {
      found.push({ index: i, type: 'generic-secret' });
      out.push('<redacted:generic-secret>');
    } else if (/^[A-Z][A-Z0-9_]*=/.test(arg)) {
      // KEY=value pairs passed as args (docker -e, env ...)
      const eq = arg.indexOf('=');
      const name = arg.slice(0, eq);
      const value = arg.slice(eq + 1);
      // a value that already went through redaction stays as it is (redaction is idempotent)
      const cls = value.includes('<redacted:') ? { kind: 'value' as const } : classifyValue(name, value);
      if (cls.kind === 'secret') {
        found.push({ index: i, type: cls.secretType ?? 'generic-secret' });
        out.push(`${name}=<redacted:${cls.secretType ?? 'generic-secret'}>`);
      } else out.push(arg);
    } else out.push(arg);
  }
  return { args: out, found };
}

function redactKnown(value: string): string {
  let v = value;
  for (const p of PATTERNS) v = v.replace(new RegExp(p.re.source, p.re.flags.includes('g') ? p.re.flags : p.re.flags + 'g'), `<redacted:${p.type}>`);
  return v;
}

export interface RedactedUrl {
  url: string;
  /** kinds found: 'url-credentials', 'url-query-secret', or a token type */
  found: string[];
  /** true when the URL had user:password@ */
  hadCredentials: boolean;
}

/**
 * Redact user-info and query-string values of a URL. Query parameter names are kept
 * (they tell what kind of thing was there); every value goes.
 */
export function redactUrl(raw: string): RedactedUrl {
  const found: string[] = [];
  let hadCredentials = false;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // not a URL we can parse: still scrub anything shaped like a token
    const t = detectSecret(raw);
    return { url: t ? redactKnown(raw) : raw, found: t ? [t] : [], hadCredentials: false };
  }
  if (u.username || u.password) {
    hadCredentials = true;
    found.push('url-credentials');
    u.username = u.username ? 'redacted' : '';
    u.password = u.password ? 'redacted' : '';
  }
  const params = [...u.searchParams.keys()];
  if (params.length) {
    const search = new URLSearchParams();
    for (const key of params) {
      const values = u.searchParams.getAll(key);
      for (const v of values) {
        const cls = classifyValue(key, v);
        if (cls.kind === 'secret') found.push(cls.secretType ?? 'url-query-secret');
        search.append(key, v === '' ? '' : 'redacted');
      }
    }
    u.search = search.toString();
  }
  if (u.hash) u.hash = '';
  let out = u.toString();
  // user-info placeholders read better in angle brackets
  out = out.replace('redacted:redacted@', '<redacted>:<redacted>@').replace('//redacted@', '//<redacted>@').replace(/=redacted(?=&|$)/g, '=<redacted>');
  // path segments can carry tokens too (e.g. /mcp/ghp_...)
  const t = detectSecret(decodeURIComponentSafe(u.pathname));
  if (t) {
    found.push(t);
    out = redactKnown(out);
  }
  return { url: out, found, hadCredentials };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Env settings that switch TLS verification off when they hold these values. */
const TLS_OFF: Record<string, RegExp> = {
  NODE_TLS_REJECT_UNAUTHORIZED: /^0$/,
  PYTHONHTTPSVERIFY: /^0$/,
  CURL_CA_BUNDLE: /^$/,
  REQUESTS_CA_BUNDLE: /^$/,
  GIT_SSL_NO_VERIFY: /^(?:1|true)$/i,
  SSL_VERIFY: /^(?:0|false|no)$/i,
  VERIFY_SSL: /^(?:0|false|no)$/i,
  TLS_VERIFY: /^(?:0|false|no)$/i,
  INSECURE_SKIP_VERIFY: /^(?:1|true|yes)$/i,
};

export function envDisablesTls(name: string, value: string | undefined | null): boolean {
  const re = TLS_OFF[name.toUpperCase()];
  return re !== undefined && value !== undefined && value !== null && re.test(value.trim());
}

const TLS_OFF_ARGS = /^(?:--insecure|-k|--no-verify(?:-ssl|-tls)?|--ignore-certificate-errors|--disable-ssl-verification|--tls-skip-verify|--skip-tls-verify|--allow-insecure)$/i;

export function argsDisableTls(args: readonly string[]): boolean {
  return args.some((a) => TLS_OFF_ARGS.test(a) || /^--?(?:verify-ssl|ssl-verify|tls-verify)=(?:false|0|no)$/i.test(a));
}
