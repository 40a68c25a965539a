// The scan model: the one wire format the agent writes, the server validates and the
// dashboard reads. Schema version 1 is a public, documented contract (docs/scan-format.md,
// schema/scan-v1.schema.json): add optional fields only; never rename or remove.
import { z } from 'zod';

export const SCHEMA_VERSION = 1 as const;

export const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const levels = ['critical', 'high', 'medium', 'low', 'none'] as const;
export const transports = ['stdio', 'http', 'sse', 'builtin', 'extension'] as const;

/** Limits shared by the agent (what it will emit) and the server (what it will accept). */
export const LIMITS = {
  shortString: 512,
  longString: 8192,
  description: 16384,
  args: 256,
  names: 512,
  tools: 1000,
  servers: 5000,
  clients: 200,
  findingsPerServer: 200,
} as const;

// The zod schemas are built on first use, not when the module loads: building them costs
// ~10 ms, and the agent's scan never validates its own output (the backend and tests do).
// Each export is a stand-in that builds them all on first touch and then forwards to the
// real schema, so `ScanReportSchema.safeParse(...)` and the types read exactly as before.
function buildSchemas() {
  const SeveritySchema = z.enum(severities);
  const LevelSchema = z.enum(levels);
  // builtin: part of the client itself (Goose's developer extension); extension: started by a
  // client extension that supplies its own command (Zed). Neither has a command or URL in the file.
  const TransportSchema = z.enum(transports);
  const ScopeSchema = z.enum(['user', 'project', 'managed']);

  const short = z.string().max(LIMITS.shortString);
  const long = z.string().max(LIMITS.longString);

  const FindingSchema = z.object({
    ruleId: z.string().regex(/^PAL-[A-Z]\d{3}$/),
    severity: SeveritySchema,
    title: short,
    message: long,
    evidence: long,
  });

  const CrossFindingSchema = FindingSchema.extend({
    /** ids of the servers involved */
    servers: z.array(short).max(LIMITS.servers),
    client: short.optional(),
  });

  const EcosystemSchema = z.enum(['npm', 'PyPI', 'docker', 'git', 'unknown']);

  const PackageRefSchema = z.object({
    ecosystem: EcosystemSchema,
    name: short,
    /** the version pinned in the config, if any (exact version or range as written) */
    version: short.optional(),
    /** the version found installed in a local cache (npx, uv) when the config left it open */
    resolvedVersion: short.optional(),
    /** true when the config names one exact version */
    pinned: z.boolean(),
    /** the launcher that fetches it: npx, uvx, pipx, docker, ... */
    runner: short.optional(),
  });

  const ToolSchema = z.object({
    name: short,
    description: z.string().max(LIMITS.description).optional(),
    /** sha256 of the canonical JSON of the input schema */
    inputSchemaHash: short.optional(),
    annotations: z.record(z.string().max(64), z.union([z.string().max(LIMITS.shortString), z.boolean(), z.number(), z.null()])).optional(),
    /** sha256 of the canonical JSON of the whole definition (name, description, input schema, annotations) */
    definitionHash: short.optional(),
    /** pin state against the first definition seen: new, unchanged or changed (rug pull) */
    pin: z
      .object({ status: z.enum(['new', 'unchanged', 'changed']), firstSeen: short.optional(), previousHash: short.optional() })
      .optional(),
    /** text gathered from the input schema's property descriptions, for tool rules */
    schemaText: z.string().max(LIMITS.description).optional(),
  });

  const SecretLocationSchema = z.enum(['env', 'header', 'arg', 'url']);
  const SecretSignalSchema = z.object({
    location: SecretLocationSchema,
    /** env or header name, or the argument index / url part */
    name: short,
    /** the kind of secret recognised, e.g. github-token, aws-access-key, generic-secret */
    type: short,
  });

  /** What discovery produces for one server: everything the rules see. No secret values, ever. */
  const ServerConfigSchema = z.object({
    /** stable id: hash of client, config path, project and name */
    id: short,
    name: short,
    client: short,
    configPath: long,
    scope: ScopeSchema,
    /** for per-project entries (e.g. projects in ~/.claude.json) the project folder */
    projectPath: long.optional(),
    /** the line (1-based) where the server's entry starts in configPath, when it could be found */
    configLine: z.number().int().min(1).max(10_000_000).optional(),
    transport: TransportSchema,
    command: long.nullable(),
    args: z.array(long).max(LIMITS.args),
    cwd: long.nullable(),
    url: long.nullable(),
    envNames: z.array(short).max(LIMITS.names),
    headerNames: z.array(short).max(LIMITS.names),
    /** literal secrets recognised in env values, header values, args or the URL (values not kept) */
    secrets: z.array(SecretSignalSchema).max(LIMITS.names).optional(),
    /** the config turns TLS verification off (NODE_TLS_REJECT_UNAUTHORIZED=0 and the like) */
    tlsVerifyDisabled: z.boolean().optional(),
    /** tools approved without asking ("*" for all) */
    autoApprove: z.array(short).max(LIMITS.names).optional(),
    disabled: z.boolean().optional(),
    package: PackageRefSchema.optional(),
    tools: z.array(ToolSchema).max(LIMITS.tools).optional(),
    probe: z
      .object({
        ok: z.boolean(),
        error: long.optional(),
        serverInfo: z.object({ name: short, version: short }).partial().optional(),
        prompts: z.number().int().nonnegative().optional(),
        resources: z.number().int().nonnegative().optional(),
        durationMs: z.number().nonnegative().optional(),
      })
      .optional(),
  });

  const ScoredServerSchema = ServerConfigSchema.extend({
    findings: z.array(FindingSchema).max(LIMITS.findingsPerServer),
    score: z.number().int().min(0).max(100),
    level: LevelSchema,
  });

  const ClientResultSchema = z.object({
    id: short,
    name: short,
    configPath: long,
    serverCount: z.number().int().nonnegative(),
    error: long.optional(),
  });

  const levelCounts = z.object({
    critical: z.number().int().nonnegative(),
    high: z.number().int().nonnegative(),
    medium: z.number().int().nonnegative(),
    low: z.number().int().nonnegative(),
    none: z.number().int().nonnegative(),
  });

  const SummarySchema = z.object({
    clients: z.number().int().nonnegative(),
    servers: z.number().int().nonnegative(),
    findings: z.number().int().nonnegative(),
    errors: z.number().int().nonnegative(),
    byLevel: levelCounts,
    maxLevel: LevelSchema,
  });

  const ScanReportSchema = z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    agent: z.object({ name: short, version: short }),
    host: z.object({ hostname: short, os: short, user: short }),
    scannedAt: z.iso.datetime({ offset: true }),
    clients: z.array(ClientResultSchema).max(LIMITS.clients * 50),
    servers: z.array(ScoredServerSchema).max(LIMITS.servers),
    findings: z.array(CrossFindingSchema).max(LIMITS.servers),
    summary: SummarySchema,
  });
  return { SeveritySchema, LevelSchema, TransportSchema, ScopeSchema, FindingSchema, CrossFindingSchema, EcosystemSchema, PackageRefSchema, ToolSchema, SecretLocationSchema, SecretSignalSchema, ServerConfigSchema, ScoredServerSchema, ClientResultSchema, SummarySchema, ScanReportSchema };
}

let built: ReturnType<typeof buildSchemas> | undefined;
const schemas = (): ReturnType<typeof buildSchemas> => (built ??= buildSchemas());

function lazySchema<K extends keyof ReturnType<typeof buildSchemas>>(key: K): ReturnType<typeof buildSchemas>[K] {
  const real = (): object => schemas()[key];
  return new Proxy({} as ReturnType<typeof buildSchemas>[K], {
    get: (_t, p) => Reflect.get(real(), p, real()),
    set: (_t, p, v) => Reflect.set(real(), p, v, real()),
    has: (_t, p) => Reflect.has(real(), p),
    ownKeys: () => Reflect.ownKeys(real()),
    // reported configurable: the stand-in itself holds none of these properties
    getOwnPropertyDescriptor: (_t, p) => {
      const d = Reflect.getOwnPropertyDescriptor(real(), p);
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}

export const SeveritySchema = lazySchema('SeveritySchema');
export const LevelSchema = lazySchema('LevelSchema');
export const TransportSchema = lazySchema('TransportSchema');
export const ScopeSchema = lazySchema('ScopeSchema');
export const FindingSchema = lazySchema('FindingSchema');
export const CrossFindingSchema = lazySchema('CrossFindingSchema');
export const EcosystemSchema = lazySchema('EcosystemSchema');
export const PackageRefSchema = lazySchema('PackageRefSchema');
export const ToolSchema = lazySchema('ToolSchema');
export const SecretLocationSchema = lazySchema('SecretLocationSchema');
export const SecretSignalSchema = lazySchema('SecretSignalSchema');
export const ServerConfigSchema = lazySchema('ServerConfigSchema');
export const ScoredServerSchema = lazySchema('ScoredServerSchema');
export const ClientResultSchema = lazySchema('ClientResultSchema');
export const SummarySchema = lazySchema('SummarySchema');
export const ScanReportSchema = lazySchema('ScanReportSchema');

export type Severity = z.infer<typeof SeveritySchema>;
export type Level = z.infer<typeof LevelSchema>;
export type Transport = z.infer<typeof TransportSchema>;
export type Scope = z.infer<typeof ScopeSchema>;
export type Finding = z.infer<typeof FindingSchema>;
export type CrossFinding = z.infer<typeof CrossFindingSchema>;
export type Ecosystem = z.infer<typeof EcosystemSchema>;
export type PackageRef = z.infer<typeof PackageRefSchema>;
export type Tool = z.infer<typeof ToolSchema>;
export type SecretSignal = z.infer<typeof SecretSignalSchema>;
export type ServerConfig = z.infer<typeof ServerConfigSchema>;
export type ScoredServer = z.infer<typeof ScoredServerSchema>;
export type ClientResult = z.infer<typeof ClientResultSchema>;
export type Summary = z.infer<typeof SummarySchema>;
export type ScanReport = z.infer<typeof ScanReportSchema>;

export const severityRank: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
export const levelRank: Record<Level, number> = { critical: 4, high: 3, medium: 2, low: 1, none: 0 };
