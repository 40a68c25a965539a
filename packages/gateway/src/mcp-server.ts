// The gateway as an MCP server (SDK v2, which serves both 2025-11-25 sessions and 2026-07-28
// stateless requests): one Server instance per session or per request, bound to the caller's
// scope; every handler calls into the Gateway, which applies the policy.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError, Server } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { CallCancel } from '@palisade/mcp';
import { ERR_INVALID_PARAMS, GatewayError, severity, type CallContext, type Gateway, type Scope } from './gateway.js';
import { declaresTasks, GatewayTasks, inputKeyFor, missingTasksCapability, TASKS_EXTENSION } from './tasks.js';

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
    const bad = () =>
      new GatewayError(
        ERR_INVALID_PARAMS,
        `Invalid cursor for ${key === 'resourceTemplates' ? 'resources/templates' : key}/list: use the nextCursor of the previous page, unchanged.`,
      );
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
      // the tasks extension (tasks.ts), used by 2026-07-28 requests that declare it
      extensions: { [TASKS_EXTENSION]: {} },
    },
    instructions: 'Palisade gateway: tools from several MCP servers, named <upstream>__<tool>, checked against Palisade policy.',
  });
  // Handlers are typed per method by the SDK; the gateway's values are the upstreams' own
  // protocol objects, passed through after policy.
  const register = server.setRequestHandler.bind(server) as unknown as (
    method: string,
    handler: (request: { params?: Record<string, unknown> }, ctx: HandlerCtx) => Promise<unknown>,
  ) => void;
  // with tracing on (telemetry.ts), every client request is one span; its _meta may carry the client's trace context
  const on: typeof register = (method, handler) =>
    register(method, (req, ctx) => {
      const tracing = gateway.tracing;
      if (!tracing) return handler(req, ctx);
      const meta = req.params?._meta as Record<string, unknown> | undefined;
      const named = method === 'tools/call' || method === 'prompts/get';
      return tracing.clientCall(
        {
          method,
          name: named ? String(req.params?.name) : undefined,
          virtualServer: scope.virtualServer,
          principal: scope.principal.id,
          traceparent: meta?.traceparent,
          tracestate: meta?.tracestate,
        },
        () => handler(req, ctx),
      );
    });
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
  // a tools/call of a 2025-11-25 session: server-to-client requests, progress and logs go to the
  // client over the call's own stream. The SDK's dispatch and the session lane's lean path
  // (leanCallsOf) both come here, so the two run the same gateway call.
  const call2025 = async (params: Record<string, unknown>, mcpReq: Call2025Ctx, token: string | number | undefined) => {
    // progress is relayed in order and before the result (a client drops progress after it)
    let relayed: Promise<unknown> = Promise.resolve();
    const result = await gateway.callTool(scope, String(params.name), params.arguments as Record<string, unknown> | undefined, {
      signal: mcpReq.signal,
      cancel: mcpReq.cancel,
      log: (p) => {
        if (sessionLevel === undefined || severity(p.level) >= severity(sessionLevel)) void mcpReq.log(p.level, p.data, p.logger).catch(() => undefined);
      },
      request: async (method, p) =>
        (method === 'sampling/createMessage' ? mcpReq.requestSampling(p) : mcpReq.elicitInput(p)) as Promise<Record<string, unknown>>,
      onprogress:
        token !== undefined
          ? (p) => {
              relayed = relayed.then(() => mcpReq.notify({ method: 'notifications/progress', params: { ...p, progressToken: token } })).catch(() => undefined);
            }
          : undefined,
    });
    await relayed;
    return result;
  };
  on('tools/list', async (req) => guard(() => pageOf('tools', gateway.listTools(scope), req.params?.cursor, pageSize)));
  on('tools/call', async (req, ctx) =>
    guard(async () => {
      const params = req.params ?? {};
      const token = (params._meta as { progressToken?: string | number } | undefined)?.progressToken;
      // a 2026-07-28 request has no channel for server-to-client requests: an upstream's
      // elicitation or sampling during the call becomes an input_required result (rounds)
      if (ctx.mcpReq.envelope !== undefined) {
        const args = params.arguments as Record<string, unknown> | undefined;
        // a tool its upstream runs as a task (execution.taskSupport): a gateway-held task for a request that declares the extension
        const name = String(params.name);
        const support = (gateway.listTools(scope).find((t) => t.name === name) as { execution?: { taskSupport?: unknown } } | undefined)?.execution
          ?.taskSupport;
        if (support === 'optional' || support === 'required') {
          const envelope = ctx.mcpReq.envelope;
          if (declaresTasks(envelope)) {
            const declared = envelope[CLIENT_CAPABILITIES_KEY] as Record<string, unknown> | undefined;
            return tasksFor(gateway).create(
              scope,
              (cc) => gateway.callTool(scope, name, args, cc),
              (need) => !!declared?.[need],
            );
          }
          if (support === 'required') throw missingTasksCapability(`The tool ${name} runs only as a task: it`);
        }
        return roundsFor(gateway).call(
          scope,
          `tools/call\0${String(params.name)}`,
          (cc) => gateway.callTool(scope, String(params.name), args, cc),
          ctx,
          sessionLevel,
          token,
        );
      }
      return call2025(params, ctx.mcpReq, token);
    }),
  );
  on('prompts/list', async (req) => guard(() => pageOf('prompts', gateway.listPrompts(scope), req.params?.cursor, pageSize)));
  on('prompts/get', async (req, ctx) =>
    guard(() => {
      const name = String(req.params?.name);
      const args = req.params?.arguments as Record<string, string> | undefined;
      // an upstream asking for input while it builds the prompt: rounds for 2026-07-28, pushed for 2025
      if (ctx.mcpReq.envelope !== undefined)
        return roundsFor(gateway).call(
          scope,
          `prompts/get\0${name}`,
          (cc) => gateway.getPrompt(scope, name, args, cc.signal, cc),
          ctx,
          sessionLevel,
          undefined,
        );
      return gateway.getPrompt(scope, name, args, ctx.mcpReq.signal, {
        signal: ctx.mcpReq.signal,
        request: async (method, p) =>
          (method === 'sampling/createMessage' ? ctx.mcpReq.requestSampling(p) : ctx.mcpReq.elicitInput(p)) as Promise<Record<string, unknown>>,
      });
    }),
  );
  on('resources/list', async (req) => guard(() => pageOf('resources', gateway.listResources(scope), req.params?.cursor, pageSize)));
  on('resources/templates/list', async (req) => guard(() => pageOf('resourceTemplates', gateway.listResourceTemplates(scope), req.params?.cursor, pageSize)));
  on('resources/read', async (req, ctx) =>
    guard(() => {
      const uri = String(req.params?.uri);
      if (ctx.mcpReq.envelope !== undefined)
        return roundsFor(gateway).call(scope, `resources/read\0${uri}`, (cc) => gateway.readResource(scope, uri, cc.signal, cc), ctx, sessionLevel, undefined);
      return gateway.readResource(scope, uri, ctx.mcpReq.signal, {
        signal: ctx.mcpReq.signal,
        request: async (method, p) =>
          (method === 'sampling/createMessage' ? ctx.mcpReq.requestSampling(p) : ctx.mcpReq.elicitInput(p)) as Promise<Record<string, unknown>>,
      });
    }),
  );
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
  // the tasks extension's methods (SEP-2663); tasks/result and tasks/list do not exist on 2026-07-28
  const custom = server.setRequestHandler.bind(server) as unknown as (
    method: string,
    schemas: { params: z.ZodType },
    handler: (params: Record<string, unknown>, ctx: HandlerCtx) => Promise<unknown>,
  ) => void;
  const taskMethod = (method: string, fn: (p: Record<string, unknown>, ctx: HandlerCtx) => Record<string, unknown>) =>
    custom(method, { params: z.looseObject({ taskId: z.string().max(200) }) }, async (p, ctx) => {
      const run = () =>
        guard(() => {
          if (!declaresTasks(ctx.mcpReq.envelope)) throw missingTasksCapability(method);
          return fn(p, ctx);
        });
      // a span like every other client request (the task id is not recorded)
      return gateway.tracing ? gateway.tracing.clientCall({ method, virtualServer: scope.virtualServer, principal: scope.principal.id }, run) : run();
    });
  taskMethod('tasks/get', (p) => tasksFor(gateway).get(scope, p.taskId));
  // inputResponses is an envelope field the SDK lifts out of params (as on a tools/call retry)
  taskMethod('tasks/update', (p, ctx) => tasksFor(gateway).update(scope, p.taskId, ctx.mcpReq.inputResponses ?? p.inputResponses));
  taskMethod('tasks/cancel', (p) => tasksFor(gateway).cancel(scope, p.taskId));
  lean.set(server, {
    usable: () => gateway.tracing === undefined,
    toolsList: (params) => guard(() => pageOf('tools', gateway.listTools(scope), params.cursor, pageSize)),
    toolsCall: (id, params, cancel) => {
      const token = (params._meta as { progressToken?: string | number } | undefined)?.progressToken;
      const related = { relatedRequestId: id };
      return guard(() =>
        call2025(
          params,
          {
            cancel,
            // what the SDK's request context does on a 2025-11-25 session (its own level filter is
            // never set: logging/setLevel is the gateway's handler above)
            log: (level, data, logger) => server.notification({ method: 'notifications/message', params: { level, data, logger } } as never, related),
            notify: (n) => server.notification(n as never, related),
            requestSampling: (p) => server.createMessage(p as never),
            elicitInput: (p) => server.elicitInput(p as never),
          },
          token,
        ),
      );
    },
  });
  return server;
}

/** the SDK's request context, or the lean path's: its cancellation as a CallCancel instead of a signal */
type Call2025Ctx = Pick<HandlerCtx['mcpReq'], 'log' | 'notify' | 'requestSampling' | 'elicitInput'> & { signal?: AbortSignal; cancel?: CallCancel };

/**
 * The gateway's handlers for the hot requests of a 2025-11-25 session, for the session lane to
 * call without the SDK's per-request dispatch (session-lane.ts checks the request's shape and
 * the result's as the SDK would). Same handlers, same gateway checks: only the SDK's generic
 * machinery around them is skipped.
 */
export interface LeanCalls {
  /** false while the lean path must not be used (tracing on: every request is a span, made in the SDK path) */
  usable(): boolean;
  toolsList(params: Record<string, unknown>): Promise<unknown>;
  /** `cancel`: the call's cancellation (in the server's table of request controllers, where a client's notifications/cancelled finds it) */
  toolsCall(id: string | number, params: Record<string, unknown>, cancel: CallCancel): Promise<unknown>;
}
const lean = new WeakMap<Server, LeanCalls>();
export const leanCallsOf = (server: Server): LeanCalls | undefined => lean.get(server);

interface HandlerCtx {
  mcpReq: {
    signal: AbortSignal;
    /** set on 2026-07-28 (per-request) requests */
    envelope?: Record<string, unknown>;
    inputResponses?: Record<string, Record<string, unknown>>;
    requestState: () => unknown;
    notify: (n: { method: string; params?: Record<string, unknown> }) => Promise<void>;
    log: (level: string, data: unknown, logger?: string) => Promise<void>;
    requestSampling: (params: Record<string, unknown>) => Promise<unknown>;
    elicitInput: (params: Record<string, unknown>) => Promise<unknown>;
  };
}

// ---- input_required rounds (2026-07-28 clients, SEP-2322) ---------------------------------

const ROUND_SETTLE_MS = 100;
const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
const ROUND_KEEP_MS = 10 * 60_000;
const MAX_ROUNDS_PER_PRINCIPAL = 50;

interface PendingInput {
  key: string;
  method: 'sampling/createMessage' | 'elicitation/create';
  params: Record<string, unknown>;
  resolve: (r: Record<string, unknown>) => void;
}

/** One tool call in progress across several requests of a 2026-07-28 client. */
interface Round {
  id: string;
  principal: string;
  /** the method and name the call is for: a state is good only for the same */
  target: string;
  step: number;
  /** upstream requests not answered yet, by the key the client answers them under */
  inputs: Map<string, PendingInput>;
  counter: number;
  settled?: { ok: true; value: unknown } | { ok: false; error: unknown };
  wake?: () => void;
  abort: AbortController;
  timer: NodeJS.Timeout;
  /** the current leg's context, where progress and logs go */
  leg?: HandlerCtx;
  /** an input_required result went to the client and its retry has not come yet */
  delivered: boolean;
  level?: string;
}

const tasks = new WeakMap<Gateway, GatewayTasks>();
function tasksFor(gateway: Gateway): GatewayTasks {
  let t = tasks.get(gateway);
  if (!t) {
    t = new GatewayTasks();
    tasks.set(gateway, t);
  }
  return t;
}

const rounds = new WeakMap<Gateway, InputRounds>();
function roundsFor(gateway: Gateway): InputRounds {
  let r = rounds.get(gateway);
  if (!r) {
    r = new InputRounds(gateway);
    rounds.set(gateway, r);
  }
  return r;
}

/**
 * The gateway's side of the multi-round-trip flow toward 2026-07-28 clients, for upstreams that
 * ask the 2025 way (an elicitation/create or sampling/createMessage request while a call runs).
 * The upstream call keeps running in this process; each such request is answered to the client
 * as an input_required result whose requestState names the call (random id, round number,
 * HMAC-signed with a per-process key and bound to the principal: a tampered, replayed, stale or
 * foreign state is refused with -32602). The client's retry with inputResponses answers the
 * upstream's requests, and the gateway waits for the next request or the result. Calls not
 * resumed are aborted after 10 minutes (or earlier by the call timeout).
 */
class InputRounds {
  private readonly key = randomBytes(32);
  /**
   * This process's mark, the first 8 characters of every round id: a state that lands on another
   * gateway process (no sticky routing) or on this one after a restart is answered with an error
   * that says so, instead of the generic refusal. The upstream call lives only in the process
   * that started it; it is not forwarded.
   */
  private readonly instance = randomBytes(6).toString('base64url');
  private readonly byId = new Map<string, Round>();

  constructor(private readonly gateway: Gateway) {}

  private sign(r: Round): string {
    const body = `${r.id}.${r.step}`;
    return `${body}.${createHmac('sha256', this.key).update(`${body}\0${r.principal}`).digest('base64url')}`;
  }

  private verify(state: unknown, scope: Scope, target: string): Round {
    const bad = () =>
      new GatewayError(
        ERR_INVALID_PARAMS,
        'Invalid or expired requestState: it was altered, already used, belongs to another call or caller, or the call ended. Call the tool again.',
        { reason: 'invalid_request_state' },
      );
    if (typeof state !== 'string' || state.length > 300) throw bad();
    const m = /^([A-Za-z0-9_-]{32})\.(\d{1,6})\.([A-Za-z0-9_-]{43})$/.exec(state);
    if (!m) throw bad();
    if (!m[1]!.startsWith(this.instance))
      throw new GatewayError(
        ERR_INVALID_PARAMS,
        'This requestState belongs to a call held by another Palisade gateway process (or by this one before a restart): an upstream call waiting for input lives only in the process that started it. Call the tool again; operators running several gateway processes must route each client to one process (sticky routing, e.g. by client address or by the Authorization header) for input_required rounds to continue.',
        { reason: 'request_state_elsewhere' },
      );
    // compared as text: a base64url spelling that decodes to the same bytes is still an altered state
    const expected = Buffer.from(createHmac('sha256', this.key).update(`${m[1]}.${m[2]}\0${scope.principal.id}`).digest('base64url'));
    const given = Buffer.from(m[3]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
    const r = this.byId.get(m[1]!);
    if (!r || r.principal !== scope.principal.id || r.target !== target || String(r.step) !== m[2]) throw bad();
    return r;
  }

  private end(r: Round): void {
    clearTimeout(r.timer);
    this.byId.delete(r.id);
  }

  async call(
    scope: Scope,
    target: string,
    run: (cc: CallContext) => Promise<unknown>,
    ctx: HandlerCtx,
    level: string | undefined,
    progressToken: string | number | undefined,
  ): Promise<unknown> {
    const state = ctx.mcpReq.requestState();
    let r: Round;
    if (state !== undefined) {
      r = this.verify(state, scope, target);
      r.leg = ctx;
      r.delivered = false;
      // answers to the requests asked; unknown keys are ignored, missing ones asked again
      let answered = 0;
      for (const [key, value] of Object.entries(ctx.mcpReq.inputResponses ?? {})) {
        const input = r.inputs.get(key);
        if (!input || !value || typeof value !== 'object' || Array.isArray(value)) continue;
        r.inputs.delete(key);
        input.resolve(value);
        answered++;
      }
      if (answered === 0 && !r.settled) return this.answer(r);
    } else {
      if ([...this.byId.values()].filter((x) => x.principal === scope.principal.id).length >= MAX_ROUNDS_PER_PRINCIPAL)
        throw new GatewayError(
          ERR_INVALID_PARAMS,
          `Too many calls waiting for input (${MAX_ROUNDS_PER_PRINCIPAL}) for ${scope.principal.name}: answer or abandon some first.`,
        );
      r = this.start(scope, target, run, ctx, level, progressToken);
    }
    await this.next(r);
    return this.answer(r);
  }

  private start(
    scope: Scope,
    target: string,
    run: (cc: CallContext) => Promise<unknown>,
    ctx: HandlerCtx,
    level: string | undefined,
    token: string | number | undefined,
  ): Round {
    const r: Round = {
      id: this.instance + randomBytes(18).toString('base64url'),
      principal: scope.principal.id,
      target,
      step: 0,
      inputs: new Map(),
      counter: 0,
      abort: new AbortController(),
      timer: undefined as unknown as NodeJS.Timeout,
      leg: ctx,
      level,
      delivered: false,
    };
    r.timer = setTimeout(() => {
      r.abort.abort(new Error('the client did not answer the input request in time'));
      this.end(r);
    }, ROUND_KEEP_MS);
    r.timer.unref();
    this.byId.set(r.id, r);
    run({
      signal: r.abort.signal,
      awaitingClient: () => r.delivered,
      log: (p) => {
        if (r.level === undefined || severity(p.level) >= severity(r.level)) void r.leg?.mcpReq.log(p.level, p.data, p.logger).catch(() => undefined);
      },
      request: (method, p, inputKey) => {
        // only what this request's client declared it can answer (2026-07-28: per request)
        const need = method === 'elicitation/create' ? 'elicitation' : 'sampling';
        const declared = r.leg?.mcpReq.envelope?.[CLIENT_CAPABILITIES_KEY] as Record<string, unknown> | undefined;
        if (!declared?.[need])
          return Promise.reject(
            new GatewayError(
              ERR_INVALID_PARAMS,
              `The client did not declare the ${need} capability on this request, so Palisade gateway cannot ask it (${method}).`,
            ),
          );
        return new Promise<Record<string, unknown>>((resolve) => {
          // the upstream's own key when it has a valid one not in use, else the gateway's
          const key = inputKeyFor(inputKey, r.inputs, () => `${method === 'elicitation/create' ? 'elicitation' : 'sampling'}-${++r.counter}`);
          r.inputs.set(key, { key, method, params: p, resolve });
          r.wake?.();
        });
      },
      onprogress:
        token !== undefined
          ? (p) => void r.leg?.mcpReq.notify({ method: 'notifications/progress', params: { ...p, progressToken: token } }).catch(() => undefined)
          : undefined,
    })
      .then(
        (value) => (r.settled = { ok: true, value }),
        (error: unknown) => (r.settled = { ok: false, error }),
      )
      .finally(() => r.wake?.());
    return r;
  }

  /** Wait until the call ends, or asks for input (and nothing more is asked within a moment). */
  private async next(r: Round): Promise<void> {
    const changed = () => new Promise<void>((resolve) => (r.wake = resolve));
    while (!r.settled && r.inputs.size === 0) await changed();
    // collect requests the upstream sends together
    while (!r.settled) {
      const more = changed();
      const quiet = await Promise.race([more.then(() => false), new Promise<boolean>((res) => setTimeout(() => res(true), ROUND_SETTLE_MS).unref())]);
      if (quiet) break;
    }
    r.wake = undefined;
  }

  private answer(r: Round): unknown {
    if (r.settled) {
      this.end(r);
      if (r.settled.ok) return r.settled.value;
      throw r.settled.error;
    }
    r.step++;
    r.delivered = true;
    return {
      resultType: 'input_required',
      inputRequests: Object.fromEntries([...r.inputs.values()].map((i) => [i.key, { method: i.method, params: i.params }])),
      requestState: this.sign(r),
    };
  }
}
