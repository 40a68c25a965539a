// Connecting to one MCP server as a client (stdio, SSE or Streamable HTTP) and listing what it
// offers, within a deadline. The agent's probe and the gateway's upstream side both come here;
// nothing else in Palisade starts or connects to MCP servers.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, ListPromptsResultSchema, ListResourcesResultSchema, ListToolsResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { LIMITS, redactArgs } from '@palisade/core';
import { createStdioTransport, type StdioServerTransport } from './stdio.js';
import { truncate, type ListedTool } from './tools.js';

/** How to reach a server, with every reference already expanded (values live only in memory). */
export type ServerTarget =
  | { transport: 'stdio'; command: string; args: string[]; cwd?: string; env: Record<string, string> }
  | { transport: 'http' | 'sse'; url: URL; headers: Record<string, string> };

export interface ClientInfo {
  name: string;
  version: string;
}

export interface McpSession {
  client: Client;
  transport: Transport;
}

export interface ConnectOptions {
  clientInfo: ClientInfo;
  timeoutMs: number;
  signal: AbortSignal;
  /** called with every session as soon as it exists, so a caller can close it on timeout */
  onSession?: (s: McpSession) => void;
}

/**
 * Connect and initialize. Streamable HTTP servers from before that transport answer the POST
 * with 4xx: those fall back to SSE, as clients do (401 is about credentials, which SSE would
 * not fix).
 */
export async function connectServer(target: ServerTarget, opts: ConnectOptions): Promise<McpSession> {
  const open = async (transport: Transport): Promise<McpSession> => {
    const client = new Client(opts.clientInfo, { capabilities: {} });
    const session = { client, transport };
    opts.onSession?.(session);
    await client.connect(transport, { signal: opts.signal, timeout: opts.timeoutMs });
    return session;
  };
  if (target.transport === 'stdio') return open(createStdioTransport({ command: target.command, args: target.args, cwd: target.cwd, env: target.env }));
  if (target.url.protocol !== 'http:' && target.url.protocol !== 'https:') throw new McpUserError(`The URL uses ${target.url.protocol.replace(/:$/, '')}, but Palisade can only reach http and https servers.`);
  const requestInit: RequestInit = { headers: target.headers };
  if (target.transport === 'sse') return open(new SSEClientTransport(target.url, { requestInit }));
  try {
    return await open(new StreamableHTTPClientTransport(target.url, { requestInit }));
  } catch (err) {
    const code = err instanceof StreamableHTTPError ? err.code : undefined;
    if (code === undefined || code < 400 || code >= 500 || code === 401 || opts.signal.aborted) throw err;
    return open(new SSEClientTransport(target.url, { requestInit }));
  }
}

export async function closeSession(session: McpSession): Promise<void> {
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

/** The pid of a stdio session's process (read before closing: the SDK forgets it). */
export function sessionPid(session: McpSession | undefined): number | undefined {
  const p = (session?.transport as Partial<StdioServerTransport> | undefined)?.pid;
  return typeof p === 'number' ? p : undefined;
}

// A misbehaving server may page forever: stop after this many pages of any list.
const MAX_PAGES = 100;
const MAX_COUNTED = 100_000;

export interface Listed {
  tools: ListedTool[];
  prompts?: number;
  resources?: number;
}

/** Every tool definition (bounded), and counts of prompts and resources where offered. */
export async function listEverything(client: Client, options: { signal: AbortSignal; timeout: number }): Promise<Listed> {
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
export class McpUserError extends Error {}

export function isTimeoutError(err: unknown): boolean {
  return err instanceof McpError && err.code === ErrorCode.RequestTimeout;
}

/**
 * A sentence for a connection failure at the transport level, or undefined when the error is
 * not one this module knows (the caller words it). `where` is the host shown for remote
 * servers; `command` the command shown for stdio ones (redacted here).
 */
export function describeConnectError(err: unknown, target: { transport: 'stdio'; command: string } | { transport: 'http' | 'sse'; where: string }, session: McpSession | undefined): string | undefined {
  if (err instanceof McpUserError) return err.message;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (target.transport === 'stdio') {
    const shown = redactArgs([target.command]).args[0] ?? target.command;
    if (e?.code === 'ENOENT') return `The command "${shown}" was not found; install it, or put its folder on PATH or its full path in the config (servers are started with a minimal environment).`;
    if (e?.code === 'EACCES' || e?.code === 'EPERM') return `The command "${shown}" could not be run: permission denied.`;
    const stdio = session?.transport as Partial<StdioServerTransport> | undefined;
    if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) {
      const exit = stdio?.exitInfo?.();
      const line = lastLine(stdio?.stderrTail?.() ?? '');
      return `The server exited before it finished answering${exit ? ` (${exit})` : ''}${line ? `; its last error output: ${line}` : ''}.`;
    }
    return undefined;
  }
  const where = target.where;
  const status = err instanceof StreamableHTTPError || err instanceof SseError ? err.code : undefined;
  if (status === 401) return `The server at ${where} requires authorization (HTTP 401). Palisade sends only the headers written in the config; add the credentials there to reach it.`;
  if (status === 403) return `The server at ${where} refused access (HTTP 403) with the headers in the config.`;
  if (typeof status === 'number' && status > 0) return `The server at ${where} answered HTTP ${status}, so its tools could not be listed; check the URL and transport in the config.`;
  const code = e?.cause?.code ?? e?.code;
  if (code === 'ECONNREFUSED') return `Could not connect to ${where}: connection refused. Check that the server is running and the URL is right.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `The host of ${where} could not be found (DNS). Check the URL, or the network connection.`;
  if (typeof code === 'string' && /CERT|SSL|TLS/.test(code)) return `The TLS connection to ${where} failed (${code}); the server's certificate could not be verified.`;
  if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) return `The server at ${where} closed the connection before it finished answering.`;
  return undefined;
}

function lastLine(text: string): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
  return truncate(redactArgs(line.split(/\s+/)).args.join(' '), 300);
}
