// The gateway as an MCP server (SDK v2, which serves both 2025-11-25 sessions and 2026-07-28
// stateless requests): one Server instance per session or per request, bound to the caller's
// scope; every handler calls into the Gateway, which applies the policy.
import { ProtocolError, Server } from '@modelcontextprotocol/server';
import { ERR_INVALID_PARAMS, GatewayError, severity, type Gateway, type Scope } from './gateway.js';

export const GATEWAY_INFO = { name: 'palisade-gateway', version: '0.1.0' };

function asProtocolError(err: unknown): unknown {
  if (err instanceof GatewayError) return new ProtocolError(err.code, err.message, err.data);
  return err;
}

async function guard<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asProtocolError(err);
  }
}

type ListKey = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/**
 * One page of a list the gateway serves. The cursor is opaque to clients (base64url of the
 * list's name and an offset) and validated on the way back: anything that does not decode to
 * this list and an offset within it is a JSON-RPC invalid-params error, not a guess. It holds
 * nothing secret (the offset into a list the caller may see anyway), so any replica can read
 * it. A list that changes between pages is announced by list_changed; clients re-list.
 */
export function pageOf<T>(key: ListKey, items: T[], cursor: unknown, size: number): Record<string, unknown> {
  let offset = 0;
  if (cursor !== undefined) {
    const bad = () => new GatewayError(ERR_INVALID_PARAMS, `Invalid cursor for ${key === 'resourceTemplates' ? 'resources/templates' : key}/list: use the nextCursor of the previous page, unchanged.`);
    if (typeof cursor !== 'string' || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw bad();
    }
    const p = parsed as { k?: unknown; o?: unknown };
    if (!p || typeof p !== 'object' || p.k !== key || !Number.isSafeInteger(p.o) || (p.o as number) <= 0) throw bad();
    offset = p.o as number;
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(JSON.stringify({ k: key, o: offset + size })).toString('base64url') : undefined;
  return { [key]: page, ...(next ? { nextCursor: next } : {}) };
}

export function buildMcpServer(gateway: Gateway, scope: Scope): Server {
  const server = new Server(GATEWAY_INFO, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      completions: {},
      logging: {},
    },
    instructions: 'Palisade gateway: tools from several MCP servers, named <upstream>__<tool>, checked against Palisade policy.',
  });
  // Handlers are typed per method by the SDK; the gateway's values are the upstreams' own
  // protocol objects, passed through after policy.
  const on = server.setRequestHandler.bind(server) as unknown as (
    method: string,
    handler: (request: { params?: Record<string, unknown> }, ctx: HandlerCtx) => Promise<unknown>,
  ) => void;
  const pageSize = gateway.cfg.limits.pageSize;
  // logging/setLevel replaces the SDK's own handler: the level is this session's, forwarded to
  // the upstreams it may use, and upstream logs outside a call reach this session by it
  let sessionLevel: string | undefined;
  const logKey = {};
  on('logging/setLevel', async (req) =>
    guard(async () => {
      const level = String(req.params?.level);
      await gateway.setLoggingLevel(level, { key: logKey, scope, send: (p) => void server.sendLoggingMessage(p).catch(() => undefined) });
      sessionLevel = level;
      return {};
    }),
  );
  on('tools/list', async (req) => guard(() => pageOf('tools', gateway.listTools(scope), req.params?.cursor, pageSize)));
  on('tools/call', async (req, ctx) =>
    guard(async () => {
      const params = req.params ?? {};
      const token = (params._meta as { progressToken?: string | number } | undefined)?.progressToken;
      // progress is relayed in order and before the result (a client drops progress after it)
      let relayed: Promise<unknown> = Promise.resolve();
      const result = await gateway.callTool(scope, String(params.name), params.arguments as Record<string, unknown> | undefined, {
        signal: ctx.mcpReq.signal,
        log: (p) => {
          if (sessionLevel === undefined || severity(p.level) >= severity(sessionLevel)) void ctx.mcpReq.log(p.level, p.data, p.logger).catch(() => undefined);
        },
        request: async (method, p) =>
          (method === 'sampling/createMessage' ? ctx.mcpReq.requestSampling(p) : ctx.mcpReq.elicitInput(p)) as Promise<Record<string, unknown>>,
        onprogress:
          token !== undefined
            ? (p) => {
                relayed = relayed
                  .then(() => ctx.mcpReq.notify({ method: 'notifications/progress', params: { ...p, progressToken: token } }))
                  .catch(() => undefined);
              }
            : undefined,
      });
      await relayed;
      return result;
    }),
  );
  on('prompts/list', async (req) => guard(() => pageOf('prompts', gateway.listPrompts(scope), req.params?.cursor, pageSize)));
  on('prompts/get', async (req, ctx) =>
    guard(() => gateway.getPrompt(scope, String(req.params?.name), req.params?.arguments as Record<string, string> | undefined, ctx.mcpReq.signal)),
  );
  on('resources/list', async (req) => guard(() => pageOf('resources', gateway.listResources(scope), req.params?.cursor, pageSize)));
  on('resources/templates/list', async (req) =>
    guard(() => pageOf('resourceTemplates', gateway.listResourceTemplates(scope), req.params?.cursor, pageSize)),
  );
  on('resources/read', async (req, ctx) => guard(() => gateway.readResource(scope, String(req.params?.uri), ctx.mcpReq.signal)));
  const subscriptions = new Map<string, () => Promise<void>>();
  on('resources/subscribe', async (req) =>
    guard(async () => {
      const uri = String(req.params?.uri);
      if (!subscriptions.has(uri))
        subscriptions.set(uri, await gateway.subscribe(scope, uri, (u) => void server.sendResourceUpdated({ uri: u }).catch(() => undefined)));
      return {};
    }),
  );
  on('resources/unsubscribe', async (req) =>
    guard(async () => {
      const uri = String(req.params?.uri);
      await subscriptions.get(uri)?.();
      subscriptions.delete(uri);
      return {};
    }),
  );
  const previousOnClose = server.onclose;
  server.onclose = () => {
    gateway.removeLogSink(logKey);
    for (const off of subscriptions.values()) void off();
    subscriptions.clear();
    previousOnClose?.();
  };
  on('completion/complete', async (req) => guard(() => gateway.complete(scope, req.params as never)));
  return server;
}

interface HandlerCtx {
  mcpReq: {
    signal: AbortSignal;
    notify: (n: { method: string; params?: Record<string, unknown> }) => Promise<void>;
    log: (level: string, data: unknown, logger?: string) => Promise<void>;
    requestSampling: (params: Record<string, unknown>) => Promise<unknown>;
    elicitInput: (params: Record<string, unknown>) => Promise<unknown>;
  };
}
