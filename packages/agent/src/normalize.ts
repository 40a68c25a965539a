// Turns a RawServer (as the config wrote it, values and all) into a ServerConfig that holds
// no secret value: env and header values are classified then dropped, args and URLs redacted.
import { argsDisableTls, classifyEnvAndHeaders, LIMITS, parsePackageRef, redactServer, sha256, type ServerConfig, type Transport } from '@palisade/core';
import type { RawServer } from './clients/types.js';

export interface NormalizeInput {
  clientId: string;
  configPath: string;
  raw: RawServer;
  scope: ServerConfig['scope'];
}

// OpenCode's substitutions ({env:VAR}, {file:path}) are references, like ${VAR}: core's classifier knows them.

export function inferTransport(raw: RawServer): Transport {
  const t = (raw.type ?? '').toLowerCase().replace(/[_\s]/g, '-');
  if (t === 'sse') return 'sse';
  if (t === 'http' || t === 'streamable-http' || t === 'streamablehttp' || t === 'streamable' || t === 'remote') return 'http';
  if (t === 'stdio' || t === 'local' || t === 'command') return raw.command || !raw.url ? 'stdio' : 'http';
  if (raw.command) return 'stdio';
  if (raw.url) return /\/sse\/?(?:\?|$)/i.test(raw.url) ? 'sse' : 'http';
  return 'stdio';
}

export function serverId(clientId: string, configPath: string, projectPath: string | undefined, name: string): string {
  return sha256(`${clientId}\0${configPath}\0${projectPath ?? ''}\0${name}`).slice(0, 16);
}

/** Keep what the agent emits inside the scan model's limits, so a huge config cannot make an invalid report. */
function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The list itself when every item is already inside the limits (the usual case), else a clipped copy. */
function clipList(list: string[], maxItems: number, maxLength: number): string[] {
  if (list.length <= maxItems) {
    let i = 0;
    while (i < list.length && list[i]!.length <= maxLength) i++;
    if (i === list.length) return list;
  }
  return list.slice(0, maxItems).map((x) => clip(x, maxLength));
}

function clipServer(s: ServerConfig): ServerConfig {
  s.name = clip(s.name, LIMITS.shortString);
  s.configPath = clip(s.configPath, LIMITS.longString);
  if (s.projectPath) s.projectPath = clip(s.projectPath, LIMITS.longString);
  if (s.command) s.command = clip(s.command, LIMITS.longString);
  if (s.cwd) s.cwd = clip(s.cwd, LIMITS.longString);
  if (s.url) s.url = clip(s.url, LIMITS.longString);
  s.args = clipList(s.args, LIMITS.args, LIMITS.longString);
  s.envNames = clipList(s.envNames, LIMITS.names, LIMITS.shortString);
  s.headerNames = clipList(s.headerNames, LIMITS.names, LIMITS.shortString);
  if (s.secrets) s.secrets = s.secrets.slice(0, LIMITS.names).map((x) => ({ ...x, name: clip(x.name, LIMITS.shortString), type: clip(x.type, LIMITS.shortString) }));
  if (s.autoApprove) s.autoApprove = clipList(s.autoApprove, LIMITS.names, LIMITS.shortString);
  if (s.package) {
    s.package.name = clip(s.package.name, LIMITS.shortString);
    if (s.package.version) s.package.version = clip(s.package.version, LIMITS.shortString);
  }
  return s;
}

export function normalizeServer({ clientId, configPath, raw, scope }: NormalizeInput): ServerConfig {
  // env and header values are classified in core, in memory; only names and signals go on
  const values = classifyEnvAndHeaders(raw.env, raw.headers);
  const { envNames, headerNames, secrets } = values;
  let tlsOff = values.tlsVerifyDisabled;
  const rawArgs = raw.args ?? [];
  if (argsDisableTls(rawArgs)) tlsOff = true;
  // args, command and URL still hold their values here; core's redactServer (the same
  // function `report` and the backend use) redacts them and records what it found
  const server: ServerConfig = {
    id: serverId(clientId, configPath, raw.projectPath, raw.name),
    name: raw.name,
    client: clientId,
    configPath,
    scope: raw.scope ?? scope,
    transport: inferTransport(raw),
    command: raw.command ?? null,
    // read only: redactServer below gives the server a new, redacted list
    args: rawArgs,
    cwd: raw.cwd ?? null,
    url: raw.url ?? null,
    envNames: envNames.sort(),
    headerNames: headerNames.sort(),
  };
  if (raw.projectPath) server.projectPath = raw.projectPath;
  if (secrets.length) server.secrets = secrets;
  if (tlsOff) server.tlsVerifyDisabled = true;
  if (raw.autoApprove?.length) server.autoApprove = raw.autoApprove;
  if (raw.disabled) server.disabled = true;
  const redacted = redactServer(server).server;
  // the package is read from the redacted command line, so a secret given where a package
  // name would stand (`npx --token V`) cannot become a package name
  const pkg = parsePackageRef(redacted.command, redacted.args);
  if (pkg) redacted.package = pkg;
  return clipServer(redacted);
}
