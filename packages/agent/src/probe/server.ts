// Probes ONE server: start or contact it, initialize, list tools (and count prompts and
// resources), all within one deadline; then stop it. Never throws: a failure becomes a
// sentence in `probe.error`.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LIMITS, type ServerConfig, type Tool } from '@palisade/core';
import {
  childEnvironment,
  closeSession,
  connectServer,
  describeConnectError,
  expandRecord,
  expandReferences,
  isTimeoutError,
  listEverything,
  McpUserError,
  sessionPid,
  toTool,
  truncate,
  type ExpandContext,
  type McpSession,
  type ServerTarget,
} from '@palisade/mcp';
import type { RawServer } from '../clients/types.js';
import { AGENT_NAME, AGENT_VERSION } from '../version.js';

export type ProbeResult = NonNullable<ServerConfig['probe']>;

export interface ProbeServerOptions {
  timeoutMs: number;
  /** the environment references are expanded from and child processes inherit from */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ServerProbe {
  probe: ProbeResult;
  tools?: Tool[];
  /** the pid of the started process (stdio), for tests and diagnostics */
  pid?: number;
}

class ProbeTimeout extends Error {}

export async function probeServer(server: ServerConfig, raw: RawServer | undefined, opts: ProbeServerOptions): Promise<ServerProbe> {
  const started = Date.now();
  const done = (probe: Omit<ProbeResult, 'durationMs'>, extra: Omit<ServerProbe, 'probe'> = {}): ServerProbe => ({ probe: { ...probe, durationMs: Date.now() - started }, ...extra });
  if (server.disabled) return done({ ok: false, error: 'The server is disabled in its config, so Palisade did not start or contact it.' });
  if (!raw) return done({ ok: false, error: 'The server was not found in the config as read, so it could not be probed; run the scan again.' });

  const env = opts.env ?? process.env;
  const ctx: ExpandContext = { env, home: env.HOME || env.USERPROFILE || os.homedir(), projectPath: raw.projectPath };
  const secrets = secretValues(raw, ctx);
  const sessions: McpSession[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new AbortController();
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      deadline.abort();
      reject(new ProbeTimeout());
    }, opts.timeoutMs);
  });
  timedOut.catch(() => undefined);
  // read before closing: the SDK's transport forgets its process once closed
  const pidOf = (): { pid?: number } => {
    const p = sessionPid(sessions.at(-1));
    return p === undefined ? {} : { pid: p };
  };
  try {
    const work = (async () => {
      const target = await targetOf(server, raw, ctx, env);
      const session = await connectServer(target, { clientInfo: { name: AGENT_NAME, version: AGENT_VERSION }, timeoutMs: opts.timeoutMs, signal: deadline.signal, onSession: (s) => sessions.push(s) });
      return listEverything(session.client, { signal: deadline.signal, timeout: opts.timeoutMs });
    })();
    work.catch(() => undefined);
    const listed = await Promise.race([work, timedOut]);
    const tools: Tool[] = [];
    for (const def of listed.tools) {
      try {
        tools.push(toTool(def));
      } catch {
        // a definition too deep to hash: keep its name so rules still see it
        tools.push({ name: truncate(String(def.name), LIMITS.shortString) });
      }
    }
    const probe: Omit<ProbeResult, 'durationMs'> = { ok: true };
    const info = sessions.at(-1)?.client.getServerVersion();
    if (info) probe.serverInfo = { name: truncate(String(info.name), LIMITS.shortString), version: truncate(String(info.version), LIMITS.shortString) };
    if (listed.prompts !== undefined) probe.prompts = listed.prompts;
    if (listed.resources !== undefined) probe.resources = listed.resources;
    return done(probe, { tools, ...pidOf() });
  } catch (err) {
    const last = sessions.at(-1);
    return done({ ok: false, error: scrub(describeError(err, server, raw, ctx, opts.timeoutMs, last), secrets) }, pidOf());
  } finally {
    clearTimeout(timer);
    deadline.abort();
    await Promise.all(sessions.map((s) => closeSession(s)));
  }
}

/** Where and how the server is reached, with the config's references expanded (in memory only). */
async function targetOf(server: ServerConfig, raw: RawServer, ctx: ExpandContext, env: Readonly<Record<string, string | undefined>>): Promise<ServerTarget> {
  if (server.transport === 'stdio') {
    if (!raw.command) throw new McpUserError('The config gives no command to start this server.');
    const command = expandReferences(raw.command, ctx);
    const args = (raw.args ?? []).map((a) => expandReferences(a, ctx));
    const cwd = raw.cwd ? await workingFolder(expandReferences(raw.cwd, ctx), raw, server) : undefined;
    return { transport: 'stdio', command, args, ...(cwd ? { cwd } : {}), env: childEnvironment(expandRecord(raw.env, ctx), env) };
  }
  if (server.transport === 'builtin') throw new McpUserError('This server is built into the client and has no command or URL of its own, so Palisade cannot start it; its tools are listed by the client itself.');
  if (server.transport === 'extension') throw new McpUserError("A client extension starts this server with a command the config file does not hold, so Palisade cannot start it; check the extension's own settings.");
  if (!raw.url) throw new McpUserError('The config gives no URL for this remote server.');
  let url: URL;
  try {
    url = new URL(expandReferences(raw.url, ctx));
  } catch {
    throw new McpUserError('The URL in the config is not a valid URL; fix it in the config file.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new McpUserError(`The URL uses ${url.protocol.replace(/:$/, '')}, but Palisade can only probe http and https servers.`);
  return { transport: server.transport === 'sse' ? 'sse' : 'http', url, headers: expandRecord(raw.headers, ctx) };
}

/** A relative cwd is taken from the project folder or the config file's folder; it must exist. */
async function workingFolder(cwd: string, raw: RawServer, server: ServerConfig): Promise<string> {
  const resolved = path.resolve(raw.projectPath ?? path.dirname(server.configPath), cwd);
  const st = await fs.stat(resolved).catch(() => undefined);
  if (!st?.isDirectory()) throw new McpUserError(`The working folder in the config (${cwd}) does not exist, so the server was not started; fix "cwd" in the config file.`);
  return resolved;
}

function describeError(err: unknown, server: ServerConfig, raw: RawServer, ctx: ExpandContext, timeoutMs: number, session: McpSession | undefined): string {
  const seconds = Math.round(timeoutMs / 100) / 10;
  if (err instanceof ProbeTimeout || isTimeoutError(err))
    return `No answer within ${seconds} s (the limit covers starting, initializing and listing tools); Palisade stopped the server. If it is only slow to start, probe again with a longer limit (palisade scan --probe --probe-timeout SECONDS).`;
  const target = server.transport === 'stdio' ? { transport: 'stdio' as const, command: raw.command ? expandReferences(raw.command, ctx) : '' } : { transport: server.transport === 'sse' ? ('sse' as const) : ('http' as const), where: hostOf(raw.url, ctx) };
  const known = describeConnectError(err, target, session);
  if (known) return known;
  const message = err instanceof Error ? err.message : String(err);
  return `The probe failed: ${truncate(message.replace(/\s+/g, ' ').trim(), 500)}`;
}

function hostOf(url: string | null | undefined, ctx: ExpandContext): string {
  try {
    return new URL(expandReferences(url ?? '', ctx)).host;
  } catch {
    return 'the configured URL';
  }
}

/** Values from the config (env, headers) that must never reach a message, however they got there. */
function secretValues(raw: RawServer, ctx: ExpandContext): string[] {
  const values = [...Object.values(raw.env ?? {}), ...Object.values(raw.headers ?? {})].map((v) => expandReferences(String(v), ctx));
  // "Bearer <token>": the token alone may be echoed too
  values.push(...values.flatMap((v) => v.split(/\s+/)));
  // short values (ports, "true") would blank out ordinary words
  return [...new Set(values)].filter((v) => v.length >= 8).sort((a, b) => b.length - a.length);
}

function scrub(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) out = out.split(s).join('<redacted>');
  return truncate(out, LIMITS.longString);
}
