// Identities every runtime shares: the agent, the backend and the gateway must agree on what
// "the same server" and "the same tool" mean, or a pin made by one would read as a change in
// another. A server DEFINITION is what a server runs and how it is wired, independent of the
// client or file that configures it; its fingerprint keys one inventory entry. An INSTANCE is
// one definition on one host in one client at one config path. A tool's definition hash
// covers the WHOLE definition, so a change anywhere (even only in the output schema) is a
// change of the tool (a rug pull), and pin status compares it with the first one approved.
import { hashJson } from './hash.js';
import type { ScanReport, ServerConfig, Tool } from './model.js';

export interface ServerDefinition {
  name: string;
  transport: ServerConfig['transport'];
  command: string | null;
  args: string[];
  url: string | null;
  package: { ecosystem: string; name: string; version: string | null } | null;
  envNames: string[];
  headerNames: string[];
  tlsVerifyDisabled: boolean;
  autoApprove: string[];
}

const sortedSet = (xs: readonly string[] | undefined): string[] => [...new Set(xs ?? [])].sort();

/** The client-independent definition of a server, normalised so equal setups compare equal. */
export function serverDefinition(s: ServerConfig): ServerDefinition {
  return {
    name: s.name,
    transport: s.transport,
    command: s.command,
    args: [...s.args],
    url: s.url,
    package: s.package ? { ecosystem: s.package.ecosystem, name: s.package.name, version: s.package.version ?? null } : null,
    envNames: sortedSet(s.envNames),
    headerNames: sortedSet(s.headerNames),
    tlsVerifyDisabled: s.tlsVerifyDisabled === true,
    autoApprove: sortedSet(s.autoApprove),
  };
}

export function serverFingerprint(s: ServerConfig): string {
  return hashJson(serverDefinition(s));
}

/** Where a server is configured on a host: stable across definition changes. */
export function instanceKey(s: Pick<ServerConfig, 'client' | 'configPath' | 'projectPath' | 'name'>): string {
  return hashJson({ client: s.client, configPath: s.configPath, projectPath: s.projectPath ?? null, name: s.name });
}

/**
 * Hash of what a report says about a host, without the parts that change on every scan
 * (scannedAt) or that the backend recomputes (findings, scores, levels, summary). Two
 * scans of an unchanged machine hash equally, which makes re-reports idempotent.
 */
export function reportHash(report: ScanReport): string {
  const servers = report.servers
    .map((s) => {
      const { findings: _f, score: _s, level: _l, ...config } = s;
      return config;
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const clients = [...report.clients].sort((a, b) => (a.id + a.configPath < b.id + b.configPath ? -1 : 1));
  return hashJson({ schemaVersion: report.schemaVersion, agent: report.agent, host: report.host, clients, servers });
}

/** The platform a report's host runs, from its `os` string ("linux 6.8.0", "darwin 24.1.0", "win32 10.0"). */
export function reportPlatform(os: string): 'darwin' | 'linux' | 'win32' {
  const first = os.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (first === 'darwin' || first.startsWith('mac')) return 'darwin';
  if (first === 'win32' || first.startsWith('windows')) return 'win32';
  return 'linux';
}

/** A tool definition as an MCP server lists it (tools/list), before any bounding. */
export interface ToolDefinition {
  name: unknown;
  title?: unknown;
  description?: unknown;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

/** The hash of the whole definition: what a pin holds. */
export function toolDefinitionHash(def: ToolDefinition): string {
  return hashJson({
    name: def.name,
    title: def.title ?? null,
    description: def.description ?? null,
    inputSchema: def.inputSchema ?? null,
    outputSchema: def.outputSchema ?? null,
    annotations: def.annotations ?? null,
  });
}

export type PinStatus = NonNullable<Tool['pin']>['status'];

/** The first approved definition of a tool, as whoever pinned it keeps it. */
export interface PinnedDefinition {
  hash: string;
  firstSeen: string;
}

/**
 * A tool's pin state against its pinned definition: `new` when nothing is pinned yet,
 * `unchanged` when the hash matches, `changed` (quarantine-worthy) when it does not.
 */
export function toolPin(pinned: PinnedDefinition | undefined, hash: string, seenAt?: string): NonNullable<Tool['pin']> {
  if (!pinned) return seenAt ? { status: 'new', firstSeen: seenAt } : { status: 'new' };
  if (pinned.hash === hash) return { status: 'unchanged', firstSeen: pinned.firstSeen };
  return { status: 'changed', firstSeen: pinned.firstSeen, previousHash: pinned.hash };
}
