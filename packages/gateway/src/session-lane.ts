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
    const sdkSend = transport.send.bind(transport);
    transport.send = ((message: Message, options?: SendOptions) => {
      if (this.open.size === 0) return sdkSend(message as never, options);
      const isResponse = message.method === undefined && ('result' in message || 'error' in message);
      const id = (isResponse ? message.id : options?.relatedRequestId) as RequestId | undefined;
      const entry = id === undefined ? undefined : this.open.get(id);
      if (!entry) return sdkSend(message as never, options);
      const frame = `event: message\ndata: ${JSON.stringify(message)}\n\n`;
      if (isResponse) {
        this.open.delete(id!);
        // an answer with nothing before it (most calls): its length is known, so the response
        // leaves in one write, without chunked framing
        this.begin(entry.res, frame);
        entry.res.end(frame);
      } else {
        this.begin(entry.res);
        entry.res.write(frame);
      }
      return Promise.resolve();
    }) as Transport['send'];
  }

  /** After `server.connect(transport)`: where a checked request goes (the server's own request entry). */
  attach(server: Server): void {
    const onrequest = (server as unknown as { _onrequest?: (m: Message, extra: Record<string, unknown>) => void })._onrequest;
    // the server's request entry skips the transport hook's tries of every other message shape;
    // an SDK without it gets the hook, which does the same after those tries
    this.dispatch = typeof onrequest === 'function' ? (m, extra) => onrequest.call(server, m, extra) : (m, extra) => this.transport.onmessage?.(m as never, extra as never);
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
