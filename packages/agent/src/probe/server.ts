// Probes ONE server: start or contact it, initialize, list tools (and count prompts and
// resources), all within one deadline; then stop it. Never throws: a failure becomes a
// sentence in `probe.error`.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, ListPromptsResultSchema, ListResourcesResultSchema, ListToolsResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { LIMITS, redactArgs, type ServerConfig, type Tool } from '@palisade/core';
import type { RawServer } from '../clients/types.js';
import { AGENT_NAME, AGENT_VERSION } from '../version.js';
import { childEnvironment, expandRecord, expandReferences, type ExpandContext } from './env.js';
import { createStdioTransport, type ProbeStdioTransport } from './stdio.js';
import { toTool, truncate, type ListedTool } from './tools.js';

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

// A misbehaving server may page forever: stop after this many pages of any list.
const MAX_PAGES = 100;
const MAX_COUNTED = 100_000;

class ProbeTimeout extends Error {}

interface Session {
  client: Client;
  transport: Transport;
}

export async function probeServer(server: ServerConfig, raw: RawServer | undefined, opts: ProbeServerOptions): Promise<ServerProbe> {
  const started = Date.now();
  const done = (probe: Omit<ProbeResult, 'durationMs'>, extra: Omit<ServerProbe, 'probe'> = {}): ServerProbe => ({ probe: { ...probe, durationMs: Date.now() - started }, ...extra });
  if (server.disabled) return done({ ok: false, error: 'The server is disabled in its config, so Palisade did not start or contact it.' });
  if (!raw) return done({ ok: false, error: 'The server was not found in the config as read, so it could not be probed; run the scan again.' });

  const env = opts.env ?? process.env;
  const ctx: ExpandContext = { env, home: env.HOME || env.USERPROFILE || os.homedir(), projectPath: raw.projectPath };
  const secrets = secretValues(raw, ctx);
  const sessions: Session[] = [];
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
    const p = (sessions.at(-1)?.transport as Partial<ProbeStdioTransport> | undefined)?.pid;
    return typeof p === 'number' ? { pid: p } : {};
  };
  try {
    const work = (async () => {
      const session = await connect(server, raw, ctx, env, opts.timeoutMs, deadline.signal, (s) => sessions.push(s));
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
    return done({ ok: false, error: scrub(describeError(err, server, raw, ctx, opts.timeoutMs, last?.transport), secrets) }, pidOf());
  } finally {
    clearTimeout(timer);
    deadline.abort();
    await Promise.all(sessions.map((s) => closeQuietly(s)));
  }
}

async function closeQuietly(session: Session): Promise<void> {
  try {
    await session.client.close();
  } catch {
    // closing a broken connection may fail; the process is still killed by the transport
  }
  try {
    await session.transport.close();
  } catch {
    // already closed
  }
}

async function connect(
  server: ServerConfig,
  raw: RawServer,
  ctx: ExpandContext,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs: number,
  signal: AbortSignal,
  onSession: (s: Session) => void,
): Promise<Session> {
  const open = async (transport: Transport): Promise<Session> => {
    const client = new Client({ name: AGENT_NAME, version: AGENT_VERSION }, { capabilities: {} });
    const session = { client, transport };
    onSession(session);
    await client.connect(transport, { signal, timeout: timeoutMs });
    return session;
  };

  if (server.transport === 'stdio') {
    if (!raw.command) throw new UserError('The config gives no command to start this server.');
    const command = expandReferences(raw.command, ctx);
    const args = (raw.args ?? []).map((a) => expandReferences(a, ctx));
    const cwd = raw.cwd ? await workingFolder(expandReferences(raw.cwd, ctx), raw, server) : undefined;
    return open(createStdioTransport({ command, args, cwd, env: childEnvironment(expandRecord(raw.env, ctx), env) }));
  }

  if (!raw.url) throw new UserError('The config gives no URL for this remote server.');
  let url: URL;
  try {
    url = new URL(expandReferences(raw.url, ctx));
  } catch {
    throw new UserError('The URL in the config is not a valid URL; fix it in the config file.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError(`The URL uses ${url.protocol.replace(/:$/, '')}, but Palisade can only probe http and https servers.`);
  const requestInit: RequestInit = { headers: expandRecord(raw.headers, ctx) };
  if (server.transport === 'sse') return open(new SSEClientTransport(url, { requestInit }));
  try {
    return await open(new StreamableHTTPClientTransport(url, { requestInit }));
  } catch (err) {
    // Servers from before Streamable HTTP answer the POST with 4xx: fall back to SSE, as
    // clients do. 401 is about credentials, which SSE would not fix.
    const code = err instanceof StreamableHTTPError ? err.code : undefined;
    if (code === undefined || code < 400 || code >= 500 || code === 401 || signal.aborted) throw err;
    return open(new SSEClientTransport(url, { requestInit }));
  }
}

/** A relative cwd is taken from the project folder or the config file's folder; it must exist. */
async function workingFolder(cwd: string, raw: RawServer, server: ServerConfig): Promise<string> {
  const resolved = path.resolve(raw.projectPath ?? path.dirname(server.configPath), cwd);
  const st = await fs.stat(resolved).catch(() => undefined);
  if (!st?.isDirectory()) throw new UserError(`The working folder in the config (${cwd}) does not exist, so the server was not started; fix "cwd" in the config file.`);
  return resolved;
}

interface Listed {
  tools: ListedTool[];
  prompts?: number;
  resources?: number;
}

async function listEverything(client: Client, options: { signal: AbortSignal; timeout: number }): Promise<Listed> {
  const caps = client.getServerCapabilities() ?? {};
  const listed: Listed = { tools: [] };
  if (caps.tools) {
    let cursor: string | undefined;
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES && listed.tools.length < LIMITS.tools; page++) {
      // request() rather than listTools(): listTools compiles every output schema with ajv,
      // which a hostile schema can make slow or throw; we only read the definitions.
      const res = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema, options);
      listed.tools.push(...(res.tools as ListedTool[]).slice(0, LIMITS.tools - listed.tools.length));
      cursor = res.nextCursor;
      if (!cursor || seen.has(cursor)) break;
      seen.add(cursor);
    }
  }
  // Counts only, and optional: a server that fails these still has its tools reported.
  if (caps.prompts) listed.prompts = await countPages((cursor) => client.request({ method: 'prompts/list', params: cursor ? { cursor } : {} }, ListPromptsResultSchema, options).then((r) => ({ n: r.prompts.length, next: r.nextCursor })));
  if (caps.resources) listed.resources = await countPages((cursor) => client.request({ method: 'resources/list', params: cursor ? { cursor } : {} }, ListResourcesResultSchema, options).then((r) => ({ n: r.resources.length, next: r.nextCursor })));
  return listed;
}

async function countPages(page: (cursor?: string) => Promise<{ n: number; next?: string }>): Promise<number | undefined> {
  let total = 0;
  let cursor: string | undefined;
  const seen = new Set<string>();
  try {
    for (let i = 0; i < MAX_PAGES && total < MAX_COUNTED; i++) {
      const r = await page(cursor);
      total += r.n;
      cursor = r.next;
      if (!cursor || seen.has(cursor)) break;
      seen.add(cursor);
    }
  } catch {
    return total || undefined;
  }
  return total;
}

/** An error whose message is already a sentence for the user. */
class UserError extends Error {}

function describeError(err: unknown, server: ServerConfig, raw: RawServer, ctx: ExpandContext, timeoutMs: number, transport: Transport | undefined): string {
  const seconds = Math.round(timeoutMs / 100) / 10;
  if (err instanceof ProbeTimeout || (err instanceof McpError && err.code === ErrorCode.RequestTimeout))
    return `No answer within ${seconds} s (the limit covers starting, initializing and listing tools); Palisade stopped the server. If it is only slow to start, probe again with a longer limit (palisade scan --probe --probe-timeout SECONDS).`;
  if (err instanceof UserError) return err.message;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (server.transport === 'stdio') {
    const command = raw.command ? expandReferences(raw.command, ctx) : '';
    const shown = redactArgs([command]).args[0] ?? command;
    if (e?.code === 'ENOENT') return `The command "${shown}" was not found; install it, or put its folder on PATH or its full path in the config (servers are started with a minimal environment).`;
    if (e?.code === 'EACCES' || e?.code === 'EPERM') return `The command "${shown}" could not be run: permission denied.`;
    const stdio = transport as Partial<ProbeStdioTransport> | undefined;
    if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) {
      const exit = stdio?.exitInfo?.();
      const line = lastLine(stdio?.stderrTail?.() ?? '');
      return `The server exited before it finished answering${exit ? ` (${exit})` : ''}${line ? `; its last error output: ${line}` : ''}.`;
    }
  } else {
    const where = hostOf(raw.url, ctx);
    if ((err instanceof StreamableHTTPError || err instanceof SseError) && err.code === 401)
      return `The server at ${where} requires authorization (HTTP 401). Palisade sends only the headers written in the config; add the credentials there to probe it.`;
    if ((err instanceof StreamableHTTPError || err instanceof SseError) && err.code === 403) return `The server at ${where} refused access (HTTP 403) with the headers in the config.`;
    if ((err instanceof StreamableHTTPError || err instanceof SseError) && typeof err.code === 'number' && err.code > 0)
      return `The server at ${where} answered HTTP ${err.code}, so its tools could not be listed; check the URL and transport in the config.`;
    const code = e?.cause?.code ?? e?.code;
    if (code === 'ECONNREFUSED') return `Could not connect to ${where}: connection refused. Check that the server is running and the URL is right.`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `The host of ${where} could not be found (DNS). Check the URL, or the network connection.`;
    if (typeof code === 'string' && /CERT|SSL|TLS/.test(code)) return `The TLS connection to ${where} failed (${code}); the server's certificate could not be verified.`;
    if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) return `The server at ${where} closed the connection before it finished answering.`;
  }
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

function lastLine(text: string): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
  return truncate(redactArgs(line.split(/\s+/)).args.join(' '), 300);
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
