// Reads gateway.yaml / gateway.json: validates it against the published JSON Schema, points
// at the line of every error, and resolves ${ENV} references. Secret values (upstream env
// values, header values, redis, backend key) may only be references, never literals.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { classifyValue, isSecretName, levels, type Level } from '@palisade/core';
import { gatewayConfigSchema } from './schema.js';

export interface UpstreamConfig {
  name: string;
  transport: 'stdio' | 'http' | 'sse';
  command?: string;
  args: string[];
  /** resolved values (references expanded); never logged */
  env: Record<string, string>;
  /** names only, as written, for risk rules */
  envNames: string[];
  cwd?: string;
  url?: string;
  headers: Record<string, string>;
  headerNames: string[];
  allowPrivateAddress: boolean;
  prefix: string;
  rename: Record<string, string>;
  timeoutMs: number;
  protocol: 'legacy' | 'auto';
  disabled: boolean;
  /** issue 16: one instance per principal (always for an oauth upstream) */
  isolation?: 'shared' | 'per-user';
  /** per-user: instances at once in this process (default 50) */
  maxInstances?: number;
  /** per-user OAuth to a remote upstream (oauth/*.ts); clientSecret resolved, never logged */
  auth?: UpstreamOAuthConfig;
}

export interface UpstreamOAuthConfig {
  type: 'oauth';
  clientId: string;
  clientSecret?: string;
  scopes: string[];
  authorizationServer?: string;
}

export interface AllowDeny {
  allow?: string[];
  deny?: string[];
}

export interface VirtualServerConfig {
  name: string;
  upstreams: string[];
  tools: AllowDeny;
  resources: AllowDeny;
  prompts: AllowDeny;
}

export interface TokenConfig {
  name: string;
  sha256: string;
  virtualServers?: string[];
  expiresAt?: string;
}

export interface OAuthConfig {
  issuer: string;
  audience?: string;
  jwksUri?: string;
  scopes?: string[];
  virtualServersClaim?: string;
}

export interface GatewayConfig {
  /** the file it came from (absolute) */
  path: string;
  listen: { host: string; port: number; allowedHosts?: string[]; allowedOrigins: string[]; publicUrl?: string };
  store: string;
  upstreams: Map<string, UpstreamConfig>;
  virtualServers: Map<string, VirtualServerConfig>;
  auth?: { tokens: TokenConfig[]; oauth?: OAuthConfig };
  policy: {
    blockLevel: Level;
    pinning: boolean;
    stripHiddenText: boolean;
    redactSecretsInResults: boolean;
    allowUpstreams: string[];
    allowTools: string[];
    relistIntervalMs: number;
    alertWebhook?: string;
  };
  limits: {
    maxMessageBytes: number;
    maxDepth: number;
    maxStringLength: number;
    maxArrayLength: number;
    maxResultBytes: number;
    callsPerMinute: number;
    callTimeoutMs: number;
    /** items per page of the gateway's own tools/prompts/resources/templates lists */
    pageSize: number;
    /** rate windows per principal, virtual server and tool (shared through Redis when set); see docs/gateway.md */
    rate?: { principal?: RateRuleConfig; virtualServer?: RateRuleConfig; tool?: RateRuleConfig };
    /** calls in flight per principal and per upstream in one process, with a bounded queue */
    concurrency?: { perPrincipal?: number; perUpstream?: number; queue?: number; queueTimeoutMs?: number };
    /** stop a stdio upstream after this long without calls (0 or absent: never); the next call starts it */
    upstreamIdleMs?: number;
  };
  audit: { file?: string; logPayloads: boolean };
  /** the admin API (admin.ts): off unless enabled; loopback only; token required */
  admin: { enabled: boolean; host?: string; port?: number; token?: string; tokenSha256?: string };
  redis?: string;
  backend?: { url?: string; key?: string };
  /** OpenTelemetry traces (telemetry.ts): off unless an OTLP endpoint is set here or in OTEL_EXPORTER_OTLP_*_ENDPOINT */
  telemetry?: TelemetryConfig;
  /** AES-256-GCM key material for per-user upstream tokens (>= 32 characters) */
  tokenEncryptionKey?: string;
}

export interface RateRuleConfig {
  limit: number;
  windowSeconds: number;
}

export const DEFAULT_LIMITS: GatewayConfig['limits'] = {
  maxMessageBytes: 1_048_576,
  maxDepth: 30,
  maxStringLength: 262_144,
  maxArrayLength: 10_000,
  maxResultBytes: 4_194_304,
  callsPerMinute: 600,
  callTimeoutMs: 60_000,
  pageSize: 100,
};

/** A problem in the config file, with where it is. `message` is a full sentence. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: { line?: number; column?: number; path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(value: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(gatewayConfigSchema);
  return validator(value) ? [] : (validator.errors ?? []);
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Expand ${VAR} references; a missing variable is an error naming it. */
export function expandEnv(value: string, env: Readonly<Record<string, string | undefined>>, where: string): string {
  return value.replace(REF, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw new ConfigError(`${where} refers to the environment variable ${name}, which is not set; set it before starting the gateway.`);
    return v;
  });
}

function hasReference(value: string): boolean {
  return /\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(value);
}

export async function loadConfig(file: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<GatewayConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the gateway config ${abs} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path given to --config.`);
  }
  return parseConfig(text, abs, env);
}

export function parseConfig(text: string, abs: string, env: Readonly<Record<string, string | undefined>> = process.env): GatewayConfig {
  const lines = new LineCounter();
  // JSON is read by the YAML parser too, so both formats get line numbers
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] ?? e.message };
    });
    throw new ConfigError(`${path.basename(abs)} is not valid YAML/JSON:\n${problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n')}`, problems);
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const errors = validate(raw);
  if (errors.length > 0) {
    const problems = errors.filter((e) => e.keyword !== 'if').map((e) => describeSchemaError(e, doc, lines));
    const unique = [...new Map(problems.map((p) => [`${p.line}:${p.message}`, p])).values()].slice(0, 20);
    throw new ConfigError(
      `${path.basename(abs)} does not match the gateway config schema (schema/gateway.schema.json):\n${unique.map((p) => `  line ${p.line ?? '?'}: ${p.path || '(top)'} ${p.message}`).join('\n')}`,
      unique,
    );
  }
  const lineOf = (p: (string | number)[]): number | undefined => {
    const node = doc.getIn(p, true);
    return isNode(node) && node.range ? lines.linePos(node.range[0]).line : undefined;
  };
  return build(raw as RawConfig, abs, env, lineOf);
}

function describeSchemaError(e: ErrorObject, doc: Document, lines: LineCounter): { line?: number; column?: number; path: string; message: string } {
  const segments = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.getIn(segments, true);
  // the key itself for unknown properties
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') message = `has an unknown key "${String((e.params as { additionalProperty?: string }).additionalProperty)}"`;
  else if (e.keyword === 'enum') message = `must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`;
  else if (e.keyword === 'oneOf') message = 'must have either "command" (stdio) or "url" (http/sse), not both';
  else if (e.keyword === 'propertyNames' || e.keyword === 'pattern') message = `${message} (names: letters, digits, _ and -, up to 64)`;
  let pos: { line: number; col: number } | undefined;
  while (segments.length >= 0) {
    if (isNode(node) && node.range) {
      pos = lines.linePos(node.range[0]);
      break;
    }
    if (segments.length === 0) break;
    segments.pop();
    node = doc.getIn(segments, true);
  }
  return { line: pos?.line, column: pos?.col, path: e.instancePath.replace(/^\//, '').replace(/\//g, '.'), message };
}

interface RawUpstream {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  transport?: 'stdio' | 'http' | 'sse';
  headers?: Record<string, string>;
  allowPrivateAddress?: boolean;
  prefix?: string;
  rename?: Record<string, string>;
  timeoutMs?: number;
  protocol?: 'legacy' | 'auto';
  disabled?: boolean;
  isolation?: 'shared' | 'per-user';
  maxInstances?: number;
  auth?: { type: 'oauth'; clientId: string; clientSecret?: string; scopes?: string[]; authorizationServer?: string };
}

export interface TelemetryConfig {
  /** false turns tracing off even when OTEL_EXPORTER_OTLP_ENDPOINT is set */
  enabled?: boolean;
  /** OTLP/HTTP traces URL (JSON), e.g. http://127.0.0.1:4318/v1/traces */
  otlpEndpoint?: string;
  serviceName?: string;
  sampleRatio?: number;
}

interface RawConfig {
  listen?: { host?: string; port?: number; allowedHosts?: string[]; allowedOrigins?: string[]; publicUrl?: string };
  store?: string;
  upstreams: Record<string, RawUpstream>;
  virtualServers?: Record<string, { upstreams: string[]; tools?: AllowDeny; resources?: AllowDeny; prompts?: AllowDeny }>;
  auth?: { tokens?: TokenConfig[]; oauth?: OAuthConfig };
  policy?: Partial<GatewayConfig['policy']>;
  limits?: Partial<GatewayConfig['limits']>;
  audit?: { file?: string; logPayloads?: boolean };
  admin?: { enabled?: boolean; host?: string; port?: number; token?: string; tokenSha256?: string };
  redis?: string;
  backend?: { url?: string; key?: string };
  telemetry?: TelemetryConfig;
  tokenEncryptionKey?: string;
}

function build(
  raw: RawConfig,
  abs: string,
  env: Readonly<Record<string, string | undefined>>,
  lineOf: (p: (string | number)[]) => number | undefined,
): GatewayConfig {
  const dir = path.dirname(abs);
  const at = (p: (string | number)[]) => {
    const line = lineOf(p);
    return `${path.basename(abs)}${line ? ` line ${line}` : ''} (${p.join('.')})`;
  };
  const upstreamAuth = (a: NonNullable<RawUpstream['auth']>, p: string[]): UpstreamOAuthConfig => {
    if (a.clientSecret !== undefined && !hasReference(a.clientSecret))
      throw new ConfigError(`${at([...p, 'clientSecret'])}: write the client secret as an environment reference ("\${NAME}"), not a literal.`);
    const secret = a.clientSecret === undefined ? undefined : expandEnv(a.clientSecret, env, at([...p, 'clientSecret']));
    return { type: 'oauth', clientId: a.clientId, ...(secret ? { clientSecret: secret } : {}), scopes: a.scopes ?? [], authorizationServer: a.authorizationServer };
  };
  const upstreams = new Map<string, UpstreamConfig>();
  for (const [name, u] of Object.entries(raw.upstreams)) {
    const transport = u.command ? 'stdio' : (u.transport ?? (u.url && /\/sse\/?(?:\?|$)/i.test(u.url) ? 'sse' : 'http'));
    if (u.command && u.transport && u.transport !== 'stdio')
      throw new ConfigError(`${at(['upstreams', name, 'transport'])}: an upstream with a command is stdio; remove "transport" or give a "url" instead.`);
    const envOut: Record<string, string> = {};
    for (const [k, v] of Object.entries(u.env ?? {})) {
      const cls = classifyValue(k, v);
      if (cls.kind === 'secret' || (isSecretName(k) && !hasReference(v) && v.trim() !== '')) {
        throw new ConfigError(
          `${at(['upstreams', name, 'env', k])}: the value of ${k} looks like a secret written in the file; write it as a reference such as "\${${k}}" and set that environment variable instead.`,
        );
      }
      envOut[k] = expandEnv(v, env, at(['upstreams', name, 'env', k]));
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(u.headers ?? {})) {
      if (!hasReference(v))
        throw new ConfigError(
          `${at(['upstreams', name, 'headers', k])}: header values must come from the environment, written as references such as "Bearer \${DOCS_TOKEN}"; literal header values are refused so no credential sits in the file.`,
        );
      headers[k] = expandEnv(v, env, at(['upstreams', name, 'headers', k]));
    }
    let url: string | undefined;
    if (u.url) {
      const expanded = expandEnv(u.url, env, at(['upstreams', name, 'url']));
      let parsed: URL;
      try {
        parsed = new URL(expanded);
      } catch {
        throw new ConfigError(`${at(['upstreams', name, 'url'])}: "${u.url}" is not a valid URL.`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        throw new ConfigError(`${at(['upstreams', name, 'url'])}: only http and https upstream URLs are supported.`);
      if (parsed.username || parsed.password)
        throw new ConfigError(`${at(['upstreams', name, 'url'])}: credentials in the URL are refused; put them in a header from an environment reference.`);
      url = parsed.href;
    }
    upstreams.set(name, {
      name,
      transport,
      command: u.command,
      args: u.args ?? [],
      env: envOut,
      envNames: Object.keys(u.env ?? {}),
      cwd: u.cwd ? path.resolve(dir, u.cwd) : undefined,
      url,
      headers,
      headerNames: Object.keys(u.headers ?? {}),
      allowPrivateAddress: u.allowPrivateAddress ?? false,
      prefix: u.prefix ?? name,
      rename: u.rename ?? {},
      timeoutMs: u.timeoutMs ?? 30_000,
      protocol: u.protocol ?? 'legacy',
      disabled: u.disabled ?? false,
      isolation: u.auth ? 'per-user' : (u.isolation ?? 'shared'),
      maxInstances: u.maxInstances ?? 50,
      ...(u.auth ? { auth: upstreamAuth(u.auth, ['upstreams', name, 'auth']) } : {}),
    });
    if (u.auth && transport === 'stdio')
      throw new ConfigError(`${at(['upstreams', name, 'auth'])}: OAuth applies to remote upstreams (url); a stdio upstream takes its credentials from env.`);
  }
  const virtualServers = new Map<string, VirtualServerConfig>();
  for (const [name, v] of Object.entries(raw.virtualServers ?? {})) {
    v.upstreams.forEach((u, i) => {
      if (!upstreams.has(u))
        throw new ConfigError(
          `${at(['virtualServers', name, 'upstreams', i])}: there is no upstream named "${u}"; add it under "upstreams" or remove it here.`,
        );
    });
    virtualServers.set(name, { name, upstreams: v.upstreams, tools: v.tools ?? {}, resources: v.resources ?? {}, prompts: v.prompts ?? {} });
  }
  const tokens = raw.auth?.tokens ?? [];
  tokens.forEach((t, i) => {
    for (const vs of t.virtualServers ?? [])
      if (!virtualServers.has(vs))
        throw new ConfigError(`${at(['auth', 'tokens', i, 'virtualServers'])}: token "${t.name}" names the virtual server "${vs}", which is not defined.`);
    if (t.expiresAt && Number.isNaN(Date.parse(t.expiresAt))) throw new ConfigError(`${at(['auth', 'tokens', i, 'expiresAt'])}: not a valid date-time.`);
  });
  const host = raw.listen?.host ?? '127.0.0.1';
  const port = raw.listen?.port ?? 8090;
  const blockLevel = raw.policy?.blockLevel ?? 'high';
  if (!levels.includes(blockLevel)) throw new ConfigError(`${at(['policy', 'blockLevel'])}: unknown level.`);
  const secretRef = (value: string | undefined, p: string[]): string | undefined => {
    if (value === undefined) return undefined;
    if (!hasReference(value)) throw new ConfigError(`${at(p)}: write this value as an environment reference ("\${NAME}"), not a literal.`);
    const out = expandEnv(value, env, at(p));
    return out === '' ? undefined : out;
  };
  const cfg: GatewayConfig = {
    path: abs,
    listen: { host, port, allowedHosts: raw.listen?.allowedHosts, allowedOrigins: raw.listen?.allowedOrigins ?? [], publicUrl: raw.listen?.publicUrl },
    store: path.resolve(dir, raw.store ?? './.palisade-gateway'),
    upstreams,
    virtualServers,
    policy: {
      blockLevel,
      pinning: raw.policy?.pinning ?? true,
      stripHiddenText: raw.policy?.stripHiddenText ?? true,
      redactSecretsInResults: raw.policy?.redactSecretsInResults ?? false,
      allowUpstreams: raw.policy?.allowUpstreams ?? [],
      allowTools: raw.policy?.allowTools ?? [],
      relistIntervalMs: raw.policy?.relistIntervalMs ?? 0,
      alertWebhook: raw.policy?.alertWebhook ? expandEnv(raw.policy.alertWebhook, env, at(['policy', 'alertWebhook'])) : undefined,
    },
    limits: { ...DEFAULT_LIMITS, ...raw.limits },
    audit: { file: raw.audit?.file ? path.resolve(dir, raw.audit.file) : undefined, logPayloads: raw.audit?.logPayloads ?? false },
    admin: {
      enabled: raw.admin?.enabled ?? false,
      host: raw.admin?.host ?? '127.0.0.1',
      port: raw.admin?.port ?? 8091,
      token: secretRef(raw.admin?.token, ['admin', 'token']),
      tokenSha256: raw.admin?.tokenSha256?.toLowerCase(),
    },
    redis: secretRef(raw.redis, ['redis']),
  };
  if (raw.telemetry !== undefined) {
    const t = raw.telemetry;
    const endpoint = t.otlpEndpoint ? expandEnv(t.otlpEndpoint, env, at(['telemetry', 'otlpEndpoint'])) : undefined;
    if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint))
      throw new ConfigError(`${at(['telemetry', 'otlpEndpoint'])}: an http:// or https:// URL of an OTLP/HTTP traces receiver, e.g. http://127.0.0.1:4318/v1/traces.`);
    cfg.telemetry = { enabled: t.enabled, otlpEndpoint: endpoint, serviceName: t.serviceName, sampleRatio: t.sampleRatio };
  }
  if (cfg.admin.enabled) {
    const h = cfg.admin.host ?? '127.0.0.1';
    if (!['127.0.0.1', '::1', 'localhost'].includes(h) && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h))
      throw new ConfigError(`${at(['admin', 'host'])}: the admin API listens on a loopback address only (127.0.0.1, ::1 or localhost), not ${h}.`);
    if (!cfg.admin.token && !cfg.admin.tokenSha256)
      throw new ConfigError(`${at(['admin', 'enabled'])}: the admin API needs a token: set admin.token to an environment reference ("\${PALISADE_ADMIN_TOKEN}") or admin.tokenSha256 to its SHA-256.`);
    if (cfg.admin.token !== undefined && cfg.admin.token.length < 24)
      throw new ConfigError(`${at(['admin', 'token'])}: the admin token is too short (${cfg.admin.token.length} characters); use at least 24 random characters.`);
  }
  if (raw.auth) cfg.auth = { tokens, ...(raw.auth.oauth ? { oauth: raw.auth.oauth } : {}) };
  if (raw.tokenEncryptionKey !== undefined) cfg.tokenEncryptionKey = secretRef(raw.tokenEncryptionKey, ['tokenEncryptionKey']);
  const oauthUpstream = [...upstreams.values()].find((u) => u.auth && !u.disabled);
  if (oauthUpstream) {
    if (!cfg.tokenEncryptionKey)
      throw new ConfigError(
        `${at(['upstreams', oauthUpstream.name, 'auth'])}: per-user OAuth tokens are stored encrypted; set tokenEncryptionKey to an environment reference ("\${PALISADE_GATEWAY_TOKEN_KEY}") holding at least 32 random characters.`,
      );
    if (cfg.tokenEncryptionKey.length < 32)
      throw new ConfigError(`${at(['tokenEncryptionKey'])}: the token encryption key is too short (${cfg.tokenEncryptionKey.length} characters); use at least 32 random characters.`);
  }
  if (raw.backend) cfg.backend = { url: raw.backend.url, key: secretRef(raw.backend.key, ['backend', 'key']) };
  return cfg;
}

/** Loopback addresses the gateway may bind without auth. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
