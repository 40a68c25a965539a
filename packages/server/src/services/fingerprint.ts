// Identities the inventory is built on. A server DEFINITION is what a server runs and how
// it is wired, independent of which client or file configures it; its fingerprint keys
// one inventory entry. An INSTANCE is one definition configured on one host in one client
// at one config path. See docs/api.md ("Server fingerprint").
import { hashJson, type ScanReport, type ServerConfig } from '@palisade/core';

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

const sorted = (xs: readonly string[] | undefined): string[] => [...new Set(xs ?? [])].sort();

/** The client-independent definition of a server, normalised so equal setups compare equal. */
export function serverDefinition(s: ServerConfig): ServerDefinition {
  return {
    name: s.name,
    transport: s.transport,
    command: s.command,
    args: [...s.args],
    url: s.url,
    package: s.package ? { ecosystem: s.package.ecosystem, name: s.package.name, version: s.package.version ?? null } : null,
    envNames: sorted(s.envNames),
    headerNames: sorted(s.headerNames),
    tlsVerifyDisabled: s.tlsVerifyDisabled === true,
    autoApprove: sorted(s.autoApprove),
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
