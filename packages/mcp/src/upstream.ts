// One long-lived connection to an MCP server (the gateway's upstreams) (stdio, SSE or Streamable HTTP): list
// everything it offers (all pages, bounded), call it with deadlines and cancellation, hear its
// list_changed notifications, reconnect after a crash. Remote URLs pass the SSRF guard on
// every request and redirect. stdio servers get only an allowlisted environment and their
// whole process tree is killed on close.
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  CompleteResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  GetPromptResultSchema,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  ProgressNotificationSchema,
  PromptListChangedNotificationSchema,
  ReadResourceResultSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallCancel } from './cancel.js';
import { childEnvironment } from './env.js';
import { LeanHttpCalls } from './http-lean.js';
import { guardedFetch, type AddressPolicy, type Resolver } from './ssrf.js';
import { createStdioTransport, ProcessGroupStdioTransport } from './stdio.js';

export type UpstreamTarget =
  | { transport: 'stdio'; command: string; args: string[]; cwd?: string; env: Record<string, string> }
  | {
      transport: 'http' | 'sse';
      url: URL;
      headers: Record<string, string>;
      allowPrivateAddress: boolean;
      resolver?: Resolver;
      addressPolicy?: AddressPolicy;
      /**
       * 'legacy' (default): the 2025-11-25 handshake (SDK v1 client). 'auto' (Streamable HTTP
       * only): the SDK v2 client, which speaks 2026-07-28 (server/discover, stateless requests)
       * to servers that do, and falls back to initialize for the others.
       */
      protocol?: 'legacy' | 'auto';
      /**
       * Headers computed for every request (after `headers`), e.g. the calling user's current
       * OAuth access token, refreshed before it expires. Its errors fail the request.
       */
      dynamicHeaders?: () => Promise<Record<string, string>>;
    };

/** What UpstreamClient uses of an MCP client: the SDK v1 Client, or the v2 one behind an adapter. */
interface Peer {
  request(req: { method: string; params?: Record<string, unknown> }, schema: unknown, opts?: { signal?: AbortSignal; timeout?: number }): Promise<Record<string, unknown>>;
  getServerCapabilities(): Record<string, unknown> | undefined;
  getServerVersion(): { name: string; version: string } | undefined;
  getInstructions(): string | undefined;
  subscribeResource(p: { uri: string }, o?: { timeout?: number }): Promise<unknown>;
  unsubscribeResource(p: { uri: string }, o?: { timeout?: number }): Promise<unknown>;
  setLoggingLevel(level: never, o?: { timeout?: number }): Promise<unknown>;
  close(): Promise<void>;
}

export type ListKind = 'tools' | 'prompts' | 'resources';

export interface UpstreamOptions {
  clientInfo: { name: string; version: string };
  timeoutMs: number;
  onListChanged?: (kind: ListKind) => void;
  onLog?: (params: unknown) => void;
  onResourceUpdated?: (uri: string) => void;
  /** a sampling or elicitation request from the server, to route to the client that caused it */
  onServerRequest?: (
    method: 'sampling/createMessage' | 'elicitation/create',
    params: Record<string, unknown>,
    signal: AbortSignal,
    /** a 2026-07-28 server's own key for the request in its input_required result */
    inputKey?: string,
  ) => Promise<Record<string, unknown>>;
  onClose?: () => void;
  /** the environment stdio servers inherit from (allowlisted names only) */
  inheritEnv?: Readonly<Record<string, string | undefined>>;
}

const MAX_PAGES = 100;
const MAX_ITEMS = 5000;

export interface CallOptions {
  signal?: AbortSignal;
  /** the call's cancellation as a CallCancel (the gateway's lean path): its signal is made only where one is needed */
  cancel?: CallCancel;
  timeoutMs?: number;
  onprogress?: (p: { progress: number; total?: number; message?: string }) => void;
}

export class UpstreamClient {
  private client?: Peer;
  /** the spec revision the connection speaks (set once connected) */
  protocolVersion?: string;
  private transport?: Transport;
  private connecting?: Promise<void>;
  /** closes the pinned-address connection pool of the current HTTP connection */
  private closeFetch?: () => Promise<void>;
  /** tools/call's lean path on the current Streamable HTTP connection (SDK v1 client) */
  private leanHttp?: { transport: Transport; calls: LeanHttpCalls };
  /** the logging level asked for, set again after a reconnect */
  private logLevel?: string;
  private closed = false;
  private readonly progress = new Map<string | number, (p: { progress: number; total?: number; message?: string }) => void>();
  /** set when the connection dropped: the next use reconnects */
  private broken = false;
  lastError?: string;

  constructor(
    readonly name: string,
    private readonly target: UpstreamTarget,
    private readonly opts: UpstreamOptions,
  ) {}

  get pid(): number | undefined {
    const p = (this.transport as { pid?: number | null } | undefined)?.pid;
    return typeof p === 'number' ? p : undefined;
  }

  /** true once the handshake finished (not while it runs: a caller then waits for it in connect()) */
  get connected(): boolean {
    return !!this.client && !this.broken && !this.closed && !this.connecting;
  }

  capabilities(): Record<string, unknown> {
    return (this.client?.getServerCapabilities() as Record<string, unknown> | undefined) ?? {};
  }

  serverInfo(): { name: string; version: string } | undefined {
    return this.client?.getServerVersion();
  }

  instructions(): string | undefined {
    return this.client?.getInstructions();
  }

  async connect(): Promise<void> {
    if (this.closed) throw new Error(`upstream ${this.name} is closed`);
    if (this.connected) return;
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    await this.dispose();
    const open = async (transport: Transport): Promise<void> => {
      const routes = !!this.opts.onServerRequest;
      const client = new Client(this.opts.clientInfo, { capabilities: routes ? { sampling: {}, elicitation: {} } : {} });
      if (routes) {
        client.setRequestHandler(
          CreateMessageRequestSchema,
          (req, extra) => this.opts.onServerRequest!('sampling/createMessage', req.params as Record<string, unknown>, extra.signal) as never,
        );
        client.setRequestHandler(
          ElicitRequestSchema,
          (req, extra) => this.opts.onServerRequest!('elicitation/create', req.params as Record<string, unknown>, extra.signal) as never,
        );
      }
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.opts.onListChanged?.('tools'));
      client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.opts.onListChanged?.('prompts'));
      client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.opts.onListChanged?.('resources'));
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => this.opts.onLog?.(n.params));
      // progress is routed here rather than by the SDK, whose handler is dropped as soon as the
      // response arrives, losing a last progress notification sent just before it
      client.setNotificationHandler(ProgressNotificationSchema, (n) => {
        const { progressToken, ...rest } = n.params;
        this.progress.get(progressToken)?.(rest);
      });
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => this.opts.onResourceUpdated?.(n.params.uri));
      client.onclose = () => {
        if (this.client === client) {
          this.broken = true;
          if (!this.closed) this.opts.onClose?.();
        }
      };
      this.client = client as unknown as Peer;
      this.transport = transport;
      this.broken = false;
      await client.connect(transport, { timeout: this.opts.timeoutMs });
      this.protocolVersion = (transport as { protocolVersion?: string }).protocolVersion;
      // a reconnected server starts at its default level: set the one asked for again
      if (this.logLevel && client.getServerCapabilities()?.logging)
        await client.setLoggingLevel(this.logLevel as never, { timeout: this.opts.timeoutMs }).catch(() => undefined);
    };
    const t = this.target;
    try {
      if (t.transport === 'stdio') {
        await open(createStdioTransport({ command: t.command, args: t.args, cwd: t.cwd, env: childEnvironment(t.env, this.opts.inheritEnv ?? process.env) }));
        return;
      }
      const guarded = guardedFetch(t.allowPrivateAddress, { resolve: t.resolver, policy: t.addressPolicy });
      this.closeFetch = guarded.close;
      const dynamic = t.dynamicHeaders;
      const fetchFn: typeof fetch = dynamic
        ? async (u, init) => {
            const headers = new Headers(init?.headers);
            for (const [k, v] of Object.entries(await dynamic())) headers.set(k, v);
            return guarded(u, { ...init, headers });
          }
        : guarded;
      const requestInit: RequestInit = { headers: t.headers };
      if (t.transport === 'sse') {
        await open(
          new SSEClientTransport(t.url, {
            requestInit,
            fetch: fetchFn,
            eventSourceInit: {
              fetch: (u: string | URL, init?: RequestInit) => fetchFn(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...t.headers } }),
            },
          }),
        );
        return;
      }
      if (t.protocol === 'auto') {
        await this.openModern(t.url, requestInit, fetchFn);
        return;
      }
      try {
        const transport = new StreamableHTTPClientTransport(t.url, { requestInit, fetch: fetchFn });
        await open(transport);
        const calls = LeanHttpCalls.attach(transport, t.url, t.headers, dynamic, guarded.checked, (err) => transport.onerror?.(err));
        if (calls) this.leanHttp = { transport, calls };
      } catch (err) {
        const code = err instanceof StreamableHTTPError ? err.code : undefined;
        if (code === undefined || code < 400 || code >= 500 || code === 401) throw err;
        await open(new SSEClientTransport(t.url, { requestInit, fetch: fetchFn }));
      }
    } catch (err) {
      this.broken = true;
      this.lastError = err instanceof Error ? err.message : String(err);
      await this.dispose();
      throw err;
    }
  }

  /** Connect with the SDK v2 client (2026-07-28 natively, 2025-11-25 and earlier by fallback). */
  private async openModern(url: URL, requestInit: RequestInit, fetchFn: typeof fetch): Promise<void> {
    const { Client: ClientV2, StreamableHTTPClientTransport: HttpV2 } = await import('@modelcontextprotocol/client');
    const routes = !!this.opts.onServerRequest;
    const changed = (kind: ListKind) => ({ autoRefresh: false, debounceMs: 0, onChanged: () => this.opts.onListChanged?.(kind) });
    const c = new ClientV2(this.opts.clientInfo, {
      capabilities: routes ? { sampling: {}, elicitation: {} } : {},
      versionNegotiation: { mode: 'auto' },
      listChanged: { tools: changed('tools'), prompts: changed('prompts'), resources: changed('resources') },
    });
    if (routes) {
      // 2026-07-28 servers ask through input_required results: the v2 client fulfils them
      // through these same handlers, so both eras reach the client that caused them alike
      // an input_required entry reaches these handlers with its key as the request id
      const key = (id: unknown) => (typeof id === 'string' ? id : undefined);
      c.setRequestHandler('sampling/createMessage', (req, ctx) =>
        this.opts.onServerRequest!('sampling/createMessage', req.params as Record<string, unknown>, ctx.mcpReq.signal, key(ctx.mcpReq.id)) as never,
      );
      c.setRequestHandler('elicitation/create', (req, ctx) =>
        this.opts.onServerRequest!('elicitation/create', req.params as Record<string, unknown>, ctx.mcpReq.signal, key(ctx.mcpReq.id)) as never,
      );
    }
    c.setNotificationHandler('notifications/message', (n) => this.opts.onLog?.(n.params));
    c.setNotificationHandler('notifications/progress', (n) => {
      const { progressToken, ...rest } = n.params;
      this.progress.get(progressToken)?.(rest);
    });
    c.setNotificationHandler('notifications/resources/updated', (n) => this.opts.onResourceUpdated?.(n.params.uri));
    const transport = new HttpV2(url, { requestInit, fetch: fetchFn });
    const peer: Peer = {
      request: (req, _schema, o) => c.request(req as never, { signal: o?.signal, timeout: o?.timeout }) as Promise<Record<string, unknown>>,
      getServerCapabilities: () => c.getServerCapabilities() as Record<string, unknown> | undefined,
      getServerVersion: () => c.getServerVersion(),
      getInstructions: () => c.getInstructions(),
      subscribeResource: (p, o) => c.subscribeResource(p, o),
      unsubscribeResource: (p, o) => c.unsubscribeResource(p, o),
      setLoggingLevel: (level, o) => c.setLoggingLevel(level, o),
      close: () => c.close(),
    };
    c.onclose = () => {
      if (this.client === peer) {
        this.broken = true;
        if (!this.closed) this.opts.onClose?.();
      }
    };
    this.client = peer;
    this.transport = transport as unknown as Transport;
    this.broken = false;
    await c.connect(transport, { timeout: this.opts.timeoutMs } as never);
    this.protocolVersion = c.getNegotiatedProtocolVersion();
  }

  private async use(): Promise<Peer> {
    if (!this.connected) await this.connect();
    return this.client!;
  }

  private async pages<T>(method: string, schema: unknown, pick: (r: Record<string, unknown>) => T[]): Promise<T[]> {
    const client = await this.use();
    const out: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES && out.length < MAX_ITEMS; page++) {
      const res = (await client.request({ method, params: cursor ? { cursor } : {} } as never, schema, { timeout: this.opts.timeoutMs })) as Record<
        string,
        unknown
      >;
      out.push(...pick(res).slice(0, MAX_ITEMS - out.length));
      cursor = typeof res.nextCursor === 'string' ? res.nextCursor : undefined;
      if (!cursor || seen.has(cursor)) break;
      seen.add(cursor);
    }
    return out;
  }

  // request() rather than listTools(): listTools compiles output schemas with ajv, which a
  // hostile schema can make slow; the gateway compiles only the schemas it pins, once.
  async listTools(): Promise<Tool[]> {
    if (!(await this.use(), this.capabilities().tools)) return [];
    return this.pages('tools/list', ListToolsResultSchema, (r) => r.tools as Tool[]);
  }

  async listPrompts(): Promise<Prompt[]> {
    if (!(await this.use(), this.capabilities().prompts)) return [];
    return this.pages('prompts/list', ListPromptsResultSchema, (r) => r.prompts as Prompt[]);
  }

  async listResources(): Promise<Resource[]> {
    if (!(await this.use(), this.capabilities().resources)) return [];
    return this.pages('resources/list', ListResourcesResultSchema, (r) => r.resources as Resource[]);
  }

  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    if (!(await this.use(), this.capabilities().resources)) return [];
    return this.pages('resources/templates/list', ListResourceTemplatesResultSchema, (r) => r.resourceTemplates as ResourceTemplate[]);
  }

  async callTool(name: string, args: Record<string, unknown> | undefined, o: CallOptions = {}): Promise<CallToolResult> {
    const client = this.connected ? this.client! : await this.use();
    const token = o.onprogress ? randomUUID() : undefined;
    if (token && o.onprogress) this.progress.set(token, o.onprogress);
    // the same keys in the same order as before, built without spreads (no temporary objects)
    const params: Record<string, unknown> =
      args === undefined
        ? token
          ? { name, _meta: { progressToken: token } }
          : { name }
        : token
          ? { name, arguments: args, _meta: { progressToken: token } }
          : { name, arguments: args };
    const timeout = o.timeoutMs ?? this.opts.timeoutMs;
    try {
      // a stdio server: the lean path (the frame written and its answer matched by id by the
      // transport, the result checked here) instead of the SDK client's per-message zod checks
      // (a Streamable HTTP server: the same, through http-lean.ts beside the SDK's client)
      const lean = this.leanRequester();
      const leanId = lean && nextRequestId(client);
      if (lean && leanId !== undefined) return checkedToolResult(await lean.request(leanId, 'tools/call', params, { timeoutMs: timeout, signal: o.signal, cancel: o.cancel }));
      return (await client.request({ method: 'tools/call', params }, CallToolResultSchema, {
        signal: o.signal ?? o.cancel?.signal,
        timeout,
      })) as CallToolResult;
    } finally {
      if (token) this.progress.delete(token);
    }
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, o: CallOptions = {}): Promise<Record<string, unknown>> {
    const client = await this.use();
    return client.request({ method: 'prompts/get', params: { name, ...(args ? { arguments: args } : {}) } }, GetPromptResultSchema, {
      signal: o.signal,
      timeout: o.timeoutMs ?? this.opts.timeoutMs,
    });
  }

  async readResource(uri: string, o: CallOptions = {}): Promise<Record<string, unknown>> {
    const client = await this.use();
    return client.request({ method: 'resources/read', params: { uri } }, ReadResourceResultSchema, {
      signal: o.signal,
      timeout: o.timeoutMs ?? this.opts.timeoutMs,
    });
  }

  async complete(params: Record<string, unknown>, o: CallOptions = {}): Promise<Record<string, unknown>> {
    const client = await this.use();
    return client.request({ method: 'completion/complete', params } as never, CompleteResultSchema, {
      signal: o.signal,
      timeout: o.timeoutMs ?? this.opts.timeoutMs,
    });
  }

  async subscribeResource(uri: string): Promise<void> {
    const client = await this.use();
    await client.subscribeResource({ uri }, { timeout: this.opts.timeoutMs });
  }

  async unsubscribeResource(uri: string): Promise<void> {
    const client = await this.use();
    await client.unsubscribeResource({ uri }, { timeout: this.opts.timeoutMs });
  }

  async setLoggingLevel(level: string): Promise<void> {
    this.logLevel = level;
    const client = await this.use();
    if (this.capabilities().logging) await client.setLoggingLevel(level as never);
  }

  /** What sends tools/call on a lean path on the current connection (stdio, or Streamable HTTP with the SDK v1 client), if anything. */
  private leanRequester(): Pick<ProcessGroupStdioTransport, 'request'> | undefined {
    const transport = this.transport;
    if (transport instanceof ProcessGroupStdioTransport) return transport;
    return this.leanHttp !== undefined && this.leanHttp.transport === transport ? this.leanHttp.calls : undefined;
  }

  /** For tests: whether tools/call goes through a lean path (stdio or Streamable HTTP) on the current connection. */
  get leanCalls(): boolean {
    return !!this.client && this.leanRequester() !== undefined && currentRequestId(this.client) !== undefined;
  }

  private async dispose(): Promise<void> {
    const client = this.client;
    const transport = this.transport;
    const closeFetch = this.closeFetch;
    this.client = undefined;
    this.transport = undefined;
    this.closeFetch = undefined;
    this.leanHttp = undefined;
    try {
      await client?.close();
    } catch {
      // a broken connection may fail to close; the transport still kills the process tree
    }
    try {
      await transport?.close();
    } catch {
      // already closed
    }
    await closeFetch?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.dispose();
  }
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A tools/call result the SDK's CallToolResultSchema passes unchanged (text blocks, isError, a
 * structuredContent object): most results, checked by hand. Any other shape goes through that
 * schema, which raises what the SDK's client raised (a ZodError) for a result it refuses.
 */
export function checkedToolResult(r: Record<string, unknown>): CallToolResult {
  if (plainToolResult(r)) return r as CallToolResult;
  const checked = CallToolResultSchema.safeParse(r);
  if (!checked.success) throw checked.error;
  return checked.data as CallToolResult;
}

/**
 * True for a tools/call result in the shape the SDK's 2025-11-25 CallToolResultSchema passes
 * unchanged: only text blocks in `content`, an optional boolean `isError` and an optional
 * `structuredContent` object (the gateway's lean path answers such results without the SDK's check).
 */
export function plainToolResult(r: unknown): boolean {
  if (!isPlain(r) || !Array.isArray(r.content)) return false;
  for (const k in r) if (k !== 'content' && k !== 'isError' && k !== 'structuredContent') return false;
  if (r.isError !== undefined && typeof r.isError !== 'boolean') return false;
  if (r.structuredContent !== undefined && !isPlain(r.structuredContent)) return false;
  for (const block of r.content as unknown[]) {
    if (!isPlain(block) || block.type !== 'text' || typeof block.text !== 'string') return false;
    for (const k in block) if (k !== 'type' && k !== 'text') return false;
  }
  return true;
}

/**
 * The next id of the SDK client's own request counter, taken for a request of the lean stdio path
 * (so the ids on the wire stay one sequence, and a late answer reaches the SDK's client as an
 * unknown id, as before); undefined for an SDK without that counter (the SDK's path then).
 */
function nextRequestId(client: Peer): number | undefined {
  const id = currentRequestId(client);
  if (id === undefined) return undefined;
  (client as unknown as { _requestMessageId: number })._requestMessageId = id + 1;
  return id;
}

/** The SDK client's next request id, when its counter is where the lean paths expect it. */
function currentRequestId(client: Peer): number | undefined {
  const id = (client as unknown as { _requestMessageId?: unknown })._requestMessageId;
  return typeof id === 'number' ? id : undefined;
}
