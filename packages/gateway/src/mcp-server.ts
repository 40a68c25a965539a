// The gateway as an MCP server (SDK v2, which serves both 2025-11-25 sessions and 2026-07-28
// stateless requests): one Server instance per session or per request, bound to the caller's
// scope; every handler calls into the Gateway, which applies the policy.
import { ProtocolError, Server } from '@modelcontextprotocol/server';
import { GatewayError, type Gateway, type Scope } from './gateway.js';

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
  on('tools/list', async () => guard(() => ({ tools: gateway.listTools(scope) })));
  on('tools/call', async (req, ctx) =>
    guard(async () => {
      const params = req.params ?? {};
      const token = (params._meta as { progressToken?: string | number } | undefined)?.progressToken;
      // progress is relayed in order and before the result (a client drops progress after it)
      let relayed: Promise<unknown> = Promise.resolve();
      const result = await gateway.callTool(scope, String(params.name), params.arguments as Record<string, unknown> | undefined, {
        signal: ctx.mcpReq.signal,
        log: (p) => void ctx.mcpReq.log(p.level, p.data, p.logger).catch(() => undefined),
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
  on('prompts/list', async () => guard(() => ({ prompts: gateway.listPrompts(scope) })));
  on('prompts/get', async (req, ctx) =>
    guard(() => gateway.getPrompt(scope, String(req.params?.name), req.params?.arguments as Record<string, string> | undefined, ctx.mcpReq.signal)),
  );
  on('resources/list', async () => guard(() => ({ resources: gateway.listResources(scope) })));
  on('resources/templates/list', async () => guard(() => ({ resourceTemplates: gateway.listResourceTemplates(scope) })));
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
