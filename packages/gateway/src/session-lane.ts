// The short way through a 2025-11-25 session for the message nearly every POST carries: one
// well-formed JSON-RPC request (a tools/call, a list, a read) from a client that sent the usual
// headers. Such a POST is handed straight to the session's MCP server, and what the server sends
// for that request (progress, server-to-client requests, the answer) is written to the HTTP
// response as an event stream, the same frames and headers the SDK's Streamable HTTP transport
// writes.
//
// Why: the SDK's transport is written for any runtime (web Request/Response, a ReadableStream per
// POST) and checks every message against every JSON-RPC shape with zod, where a failed check
// builds an error object: the initialize check alone ran twice per call and cost 9% of the
// gateway's CPU. On this path a POST costs no web objects and one successful schema check.
//
// Anything else (initialize, a batch, a notification or response, unusual headers, a message the
// cheap look does not recognise, an id already in flight here) takes the SDK's transport, which
// answers exactly as before. The lane never decides on policy: every request still goes through
// the same server, handlers and gateway checks.
import type http from 'node:http';
import { isJsonContentType, parseJSONRPCMessage, type Server, type WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { CallCancel, plainToolResult } from '@palisade/mcp';
import { resultJson } from './gateway.js';
import { leanCallsOf, type LeanCalls } from './mcp-server.js';

type RequestId = string | number;
type Message = Record<string, unknown>;
type SendOptions = { relatedRequestId?: RequestId } | undefined;
type Transport = WebStandardStreamableHTTPServerTransport;

/** How long a request's stream may stay silent before a comment line keeps proxies from closing it (the SDK's own interval). */
export const LANE_KEEPALIVE_MS = 15_000;

interface Open {
  res: http.ServerResponse;
  since: number;
}

export class SessionLane {
  private readonly open = new Map<RequestId, Open>();
  /** the versions the connected server accepts in the MCP-Protocol-Version header */
  private versions: readonly string[] = [];
  private dispatch?: (message: Message, extra: Record<string, unknown>) => void;
  private readonly sdkSend: Transport['send'];
  /** the lean path for tools/call and tools/list (see serveLean); undefined when the SDK's internals it needs are not there */
  private lean?: Lean;

  /** Call before `server.connect(transport)`: the lane learns the server's versions and takes its part of `send`. */
  constructor(
    private readonly transport: Transport,
    private readonly sessionId: string,
  ) {
    const setVersions = transport.setSupportedProtocolVersions.bind(transport);
    transport.setSupportedProtocolVersions = (versions: string[]) => {
      this.versions = [...versions];
      setVersions(versions);
    };
    this.sdkSend = transport.send.bind(transport);
    transport.send = ((message: Message, options?: SendOptions) => {
      if (this.open.size === 0) return this.sdkSend(message as never, options);
      const isResponse = message.method === undefined && ('result' in message || 'error' in message);
      const id = (isResponse ? message.id : options?.relatedRequestId) as RequestId | undefined;
      const entry = id === undefined ? undefined : this.open.get(id);
      if (!entry) return this.sdkSend(message as never, options);
      this.write(entry, id!, isResponse, JSON.stringify(message));
      return Promise.resolve();
    }) as Transport['send'];
  }

  /** One message (its JSON text) on the stream of request `id`; an answer ends the stream. */
  private write(entry: Open, id: RequestId, isResponse: boolean, json: string): void {
    const frame = `event: message\ndata: ${json}\n\n`;
    if (isResponse) {
      this.open.delete(id);
      // an answer with nothing before it (most calls): its length is known, so the response
      // leaves in one write, without chunked framing
      this.begin(entry.res, frame);
      entry.res.end(frame);
    } else {
      this.begin(entry.res);
      entry.res.write(frame);
    }
  }

  /** After `server.connect(transport)`: where a checked request goes (the server's own request entry). */
  attach(server: Server): void {
    const onrequest = (server as unknown as { _onrequest?: (m: Message, extra: Record<string, unknown>) => void })._onrequest;
    // the server's request entry skips the transport hook's tries of every other message shape;
    // an SDK without it gets the hook, which does the same after those tries
    this.dispatch =
      typeof onrequest === 'function' ? (m, extra) => onrequest.call(server, m, extra) : (m, extra) => this.transport.onmessage?.(m as never, extra as never);
    const calls = leanCallsOf(server);
    const internals = server as unknown as SdkInternals;
    if (calls && internals._requestHandlerAbortControllers instanceof Map && typeof internals._negotiatedWireCodec === 'function')
      this.lean = { calls, server: internals, controllers: internals._requestHandlerAbortControllers };
  }

  /** The event stream's status and headers, once per response (`whole`: a lone answer, sent with its length). */
  private begin(res: http.ServerResponse, whole?: string): void {
    if (res.headersSent) return;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'mcp-session-id': this.sessionId,
      ...(whole === undefined ? {} : { 'content-length': String(Buffer.byteLength(whole)) }),
    });
  }

  /**
   * Serves the POST when it is the common case and returns true; returns false, having touched
   * nothing, when the SDK's transport must serve it.
   */
  serve(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): boolean {
    if (!this.dispatch) return false;
    const accept = req.headers.accept;
    if (!accept || !accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
    const type = req.headers['content-type'];
    if (type === undefined || !isJsonContentType(type)) return false;
    const version = req.headers['mcp-protocol-version'];
    if (version !== undefined && (typeof version !== 'string' || !this.versions.includes(version))) return false;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
    const m = body as Message;
    if (m.jsonrpc !== '2.0' || typeof m.method !== 'string' || m.method === 'initialize' || 'result' in m || 'error' in m) return false;
    const id = m.id;
    if (typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id))) return false;
    if (this.open.has(id)) return false;
    if ((m.method === 'tools/call' || m.method === 'tools/list') && this.serveLean(res, m, id)) return true;
    let message: Message;
    try {
      // the SDK's own JSON-RPC check: its result, not the raw body, is what the server receives
      message = parseJSONRPCMessage(m) as Message;
    } catch {
      return false;
    }
    if (message.id !== id || message.method !== m.method) return false;
    const entry: Open = { res, since: Date.now() };
    this.open.set(id, entry);
    res.on('close', () => {
      // the client went away before the answer: what the server sends for it later is dropped
      if (this.open.get(id) === entry) this.open.delete(id);
    });
    this.dispatch(message, {});
    return true;
  }

  /**
   * tools/call and tools/list of a 2025-11-25 session, the requests nearly every POST carries:
   * the gateway's own handler (the one the SDK would call, with the same checks) runs without the
   * SDK's per-request dispatch, whose zod checks of the message, of the params (twice for
   * tools/call) and of the result, context objects and closures cost more CPU than the gateway's
   * policy. What the SDK checks is checked here, by hand, for the shapes the SDK passes unchanged;
   * a request of any other shape returns false (the SDK's path answers it, errors included), and
   * a result of any other shape is checked by the SDK's own validator. Cancellation
   * (notifications/cancelled) reaches the call through the server's own table of abort
   * controllers, as for a request the SDK dispatched; progress, logs and server-to-client
   * requests go through the server to this request's stream.
   */
  private serveLean(res: http.ServerResponse, m: Message, id: RequestId): boolean {
    const lean = this.lean;
    if (!lean || !lean.calls.usable()) return false;
    const version = lean.server._negotiatedProtocolVersion;
    if (typeof version !== 'string' || version >= FIRST_MODERN_PROTOCOL_VERSION) return false;
    const params = m.params;
    const call = m.method === 'tools/call';
    if (call ? !plainCallParams(params) : !plainListParams(params)) return false;
    const entry: Open = { res, since: Date.now() };
    this.open.set(id, entry);
    res.on('close', () => {
      if (this.open.get(id) === entry) this.open.delete(id);
    });
    // the call's cancellation, where the server's notifications/cancelled handler (and its close)
    // finds it: a CallCancel, which makes no AbortController unless something needs a signal
    const cancel = new CallCancel();
    lean.controllers.set(id, cancel);
    const codec = lean.server._negotiatedWireCodec();
    const answer = call ? lean.calls.toolsCall(id, params as Message, cancel) : lean.calls.toolsList((params ?? {}) as Message);
    void this.answerLean(lean, codec, m.method as string, call, id, cancel, answer);
    return true;
  }

  /** Writes the answer of a lean request (nothing once it was cancelled), then takes its cancellation out of the server's table. */
  private async answerLean(
    lean: Lean,
    codec: Codec,
    method: string,
    call: boolean,
    id: RequestId,
    cancel: CallCancel,
    answer: Promise<unknown>,
  ): Promise<void> {
    try {
      let result: unknown;
      try {
        result = await answer;
      } catch (err) {
        if (cancel.aborted) return;
        const error = err as { code?: unknown; message?: string; data?: unknown };
        await this.transport.send(
          errorOf(id, Number.isSafeInteger(error.code) ? (error.code as number) : -32603, error.message ?? 'Internal error', error.data, codec) as never,
        );
        return;
      }
      if (cancel.aborted) return;
      let value: unknown = result;
      if (call && !plainToolResult(result)) {
        const checked = codec.validateResult('tools/call', withContent(result));
        if (!checked.ok) {
          const internal = checked.reason === 'not-in-era';
          await this.transport.send(
            errorOf(
              id,
              internal ? -32603 : -32602,
              internal ? 'No wire schema for tools/call in the resolved era' : `Invalid tools/call result: ${checked.message}`,
              undefined,
              codec,
            ) as never,
          );
          return;
        }
        value = checked.value;
      }
      const encoded = codec.encodeResult(method, value);
      // the text callTool measured, when the result went out unchanged (most calls)
      const json = encoded === result && call && typeof result === 'object' && result !== null ? resultJson.get(result) : undefined;
      const current = json === undefined ? undefined : this.open.get(id);
      if (current) return this.write(current, id, true, `{"result":${json},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`);
      await this.transport.send({ result: encoded, jsonrpc: '2.0', id } as never);
    } catch {
      // as the SDK's dispatch: a failed send of the answer is not the caller's error
    } finally {
      if (lean.controllers.get(id) === cancel) lean.controllers.delete(id);
    }
  }

  /** A comment line on every stream silent for LANE_KEEPALIVE_MS (called by the HTTP server's sweeper). */
  keepAlive(now: number): void {
    for (const entry of this.open.values()) {
      if (now - entry.since < LANE_KEEPALIVE_MS) continue;
      this.begin(entry.res);
      entry.res.write(': keepalive\n\n');
      entry.since = now;
    }
  }

  /** The session ended: open streams end without an answer, as the SDK's do. */
  close(): void {
    for (const entry of this.open.values()) {
      this.begin(entry.res);
      entry.res.end();
    }
    this.open.clear();
  }

  get inFlight(): number {
    return this.open.size;
  }
}

/** the first protocol version without sessions (2026-07-28): its requests never reach a session */
const FIRST_MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * What the lean path uses of the SDK's Server (2.4.0), checked once per session before it is used.
 * Of a request's controller, the SDK calls only abort(reason) (on notifications/cancelled, and on
 * close), so a CallCancel stands in the table.
 */
interface SdkInternals {
  _negotiatedProtocolVersion?: string;
  _requestHandlerAbortControllers?: Map<RequestId, { abort(reason?: unknown): void }>;
  _negotiatedWireCodec(): Codec;
}

interface Codec {
  validateResult(method: string, value: unknown): { ok: true; value: unknown } | { ok: false; reason: string; message: string };
  encodeResult(method: string, result: unknown): unknown;
  encodeErrorCode(code: number): number;
}

interface Lean {
  calls: LeanCalls;
  server: SdkInternals;
  controllers: Map<RequestId, { abort(reason?: unknown): void }>;
}

function errorOf(id: RequestId, code: number, message: string, data: unknown, codec: Codec): Message {
  return { jsonrpc: '2.0', id, error: { code: codec.encodeErrorCode(code), message, ...(data !== undefined ? { data } : {}) } };
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Request _meta the SDK's 2025-11-25 schema passes unchanged: no reserved (io.modelcontextprotocol/) keys, an integer or string progress token. */
function plainMeta(meta: unknown): boolean {
  if (meta === undefined) return true;
  if (!isPlain(meta)) return false;
  for (const k in meta) if (k.startsWith('io.modelcontextprotocol/')) return false;
  const t = meta.progressToken;
  return t === undefined || typeof t === 'string' || (typeof t === 'number' && Number.isSafeInteger(t));
}

/** tools/call params the SDK's 2025-11-25 schema passes unchanged: a name, an arguments object, _meta. */
function plainCallParams(p: unknown): boolean {
  if (!isPlain(p)) return false;
  for (const k in p) if (k !== 'name' && k !== 'arguments' && k !== '_meta') return false;
  return typeof p.name === 'string' && (p.arguments === undefined || isPlain(p.arguments)) && plainMeta(p._meta);
}

/** tools/list params the SDK's 2025-11-25 schema passes unchanged: none, or a cursor and _meta. */
function plainListParams(p: unknown): boolean {
  if (p === undefined) return true;
  if (!isPlain(p)) return false;
  for (const k in p) if (k !== 'cursor' && k !== '_meta') return false;
  return (p.cursor === undefined || typeof p.cursor === 'string') && plainMeta(p._meta);
}

/** The SDK's rule for a result without content (and not of another result family): it gains content: []. */
function withContent(r: unknown): unknown {
  if (!isPlain(r) || r.content !== undefined || 'task' in r || 'inputRequests' in r || 'requestState' in r) return r;
  return { ...r, content: [] };
}
