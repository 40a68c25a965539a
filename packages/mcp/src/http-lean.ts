// The lean path of tools/call on a Streamable HTTP upstream (the gateway's calls), beside the
// SDK's client on the same connection. The SDK sends each request through fetch (WHATWG
// Request, Headers and Response objects, a web stream per body) and checks every message with
// zod: about 0.5 ms of CPU per call here. This path POSTs the request through undici's
// dispatcher (the SSRF guard's pool, so connections still go only to checked, pinned addresses)
// and matches the response by id in a LeanRequests table; everything else on the connection
// stays the SDK's:
//   - the request carries the headers the SDK's transport sends (session id, protocol version,
//     the configured headers, content type and accept, then the dynamic headers);
//   - a JSON answer is read here: the response to the call settles it, any other message in it
//     (a notification, a server request) goes to the SDK's client, checked as the SDK checks it;
//   - an event-stream answer is handed to the SDK transport's own stream reader (progress,
//     logging, sampling, priming events and resumption as before), whose messages reach the
//     SDK's client through the same router, which settles the call when its response passes;
//   - 202 (the response comes on the standalone stream): the router settles it there;
//   - an error status fails the call with the SDK's StreamableHTTPError and the same message;
//   - 307/308 redirects are followed as the guarded fetch follows them (each hop checked and
//     pinned, credentials never carried to another origin); a 301/302/303, which would turn the
//     POST into a GET, fails the call with a message that says so.
import { StreamableHTTPError, type StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Dispatcher } from 'undici';
import { LeanRequests, type LeanRequestOptions, type Pending } from './lean.js';
import { CREDENTIAL_HEADERS, redirectHop } from './ssrf.js';

/** the largest JSON answer read (the stdio path's bound on one message) */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** how much of an error answer's text is kept for the error message */
const MAX_ERROR_TEXT = 64 * 1024;

/** What the lean path uses of the SDK's transport beyond its public API (SDK 1.x). */
interface SdkHttpTransport {
  onmessage?: (message: JSONRPCMessage, extra?: unknown) => void;
  onclose?: () => void;
  readonly sessionId: string | undefined;
  readonly protocolVersion: string | undefined;
  _sessionId?: string;
  _handleSseStream?: (stream: ReadableStream<Uint8Array>, options: Record<string, unknown>, isReconnectable: boolean) => void;
  send(message: JSONRPCMessage): Promise<void>;
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Header names that undici's dispatcher handles itself or refuses (fetch set or dropped them
 * quietly): an upstream configured with one keeps the SDK's path, so its requests go out as before.
 */
const TRANSPORT_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'content-length', 'te', 'trailer', 'proxy-connection']);

export class LeanHttpCalls {
  private readonly table: LeanRequests;
  private readonly staticHeaders: Record<string, string> = {};
  private sdkOnMessage?: (message: JSONRPCMessage, extra?: unknown) => void;

  private constructor(
    private readonly transport: SdkHttpTransport,
    private readonly url: URL,
    headers: Record<string, string>,
    private readonly dynamicHeaders: (() => Promise<Record<string, string>>) | undefined,
    private readonly dispatcherFor: (url: URL) => Promise<Dispatcher>,
    private readonly onerror: (error: Error) => void,
  ) {
    for (const k of Object.keys(headers)) this.staticHeaders[k.toLowerCase()] = headers[k]!;
    this.table = new LeanRequests(
      (requestId, reason) => transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } }),
      onerror,
    );
  }

  /**
   * The lean path on a connected SDK transport: its incoming messages pass a router that settles
   * lean calls first, and its close fails them. Undefined (the SDK's path stays) when the
   * transport lacks what the lean path relies on or the fetch has no pinned pool.
   */
  static attach(
    transport: StreamableHTTPClientTransport,
    url: URL,
    headers: Record<string, string>,
    dynamicHeaders: (() => Promise<Record<string, string>>) | undefined,
    dispatcherFor: ((url: URL) => Promise<Dispatcher>) | undefined,
    onerror: (error: Error) => void,
  ): LeanHttpCalls | undefined {
    const t = transport as unknown as SdkHttpTransport;
    if (!dispatcherFor || typeof t._handleSseStream !== 'function' || typeof t.onmessage !== 'function') return undefined;
    if (Object.keys(headers).some((k) => TRANSPORT_HEADERS.has(k.toLowerCase()))) return undefined;
    const lean = new LeanHttpCalls(t, url, headers, dynamicHeaders, dispatcherFor, onerror);
    const sdkOnMessage = t.onmessage;
    lean.sdkOnMessage = sdkOnMessage;
    t.onmessage = (message, extra) => {
      if (!lean.table.take(message)) sdkOnMessage.call(t, message, extra);
    };
    const sdkOnClose = t.onclose;
    t.onclose = () => {
      lean.table.closeAll();
      sdkOnClose?.call(t);
    };
    return lean;
  }

  /** Sends request `id` (unique among the connection's requests) and resolves with its response's result. */
  request(id: string | number, method: string, params: Record<string, unknown> | undefined, opts: LeanRequestOptions): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const p = this.table.add(id, resolve, reject, opts);
      if (p) void this.post(p, JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }));
    });
  }

  private async headers(): Promise<Record<string, string>> {
    const h: Record<string, string> = {};
    const sessionId = this.transport.sessionId;
    if (sessionId) h['mcp-session-id'] = sessionId;
    const version = this.transport.protocolVersion;
    if (version) h['mcp-protocol-version'] = version;
    const own = this.staticHeaders;
    for (const k in own) h[k] = own[k]!;
    h['content-type'] = 'application/json';
    h.accept = 'application/json, text/event-stream';
    if (this.dynamicHeaders) {
      const extra = await this.dynamicHeaders();
      for (const k of Object.keys(extra)) h[k.toLowerCase()] = extra[k]!;
    }
    return h;
  }

  private async post(p: Pending, body: string): Promise<void> {
    try {
      let url = this.url;
      let headers = await this.headers();
      for (let hop = 0; ; hop++) {
        const dispatcher = await this.dispatcherFor(url);
        if (!this.table.waiting(p)) return; // cancelled or timed out meanwhile
        const exchange = new Exchange(this, p, url);
        p.stop = exchange;
        const location = await exchange.run(dispatcher, headers, body);
        if (location === undefined) return;
        const next = redirectHop(url, location, hop);
        if (next.crossOrigin) {
          const kept: Record<string, string> = {};
          for (const k of Object.keys(headers)) if (!(CREDENTIAL_HEADERS as readonly string[]).includes(k)) kept[k] = headers[k]!;
          headers = kept;
        }
        url = next.url;
      }
    } catch (err) {
      this.table.fail(p, err as Error);
    }
  }

  /** A message of an answer read here: the call's response settles it; any other goes to the SDK's client, checked as the SDK checks it. */
  deliver(raw: unknown): void {
    if (this.table.take(raw)) return;
    this.sdkOnMessage?.call(this.transport, JSONRPCMessageSchema.parse(raw));
  }

  /** An event-stream answer: read by the SDK transport's own reader, its messages routed as the standalone stream's. */
  streamToSdk(stream: ReadableStream<Uint8Array>): void {
    this.transport._handleSseStream!.call(this.transport, stream, {}, false);
  }

  /** The answer carried a session id (the SDK's transport takes it from every answer). */
  sessionIdSeen(id: string): void {
    if (this.transport.sessionId !== id) this.transport._sessionId = id;
  }

  fail(p: Pending, error: Error): void {
    this.table.fail(p, error);
  }
}

type Mode = 'json' | 'error' | 'redirect' | 'sse' | 'ignore';

/** One POST and its answer, as an undici dispatch handler (no stream objects for a JSON answer). */
class Exchange implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private abortReason?: Error;
  private mode: Mode = 'ignore';
  private status = 0;
  private chunks: Buffer[] = [];
  private size = 0;
  private location?: string;
  private sse?: ReadableStreamDefaultController<Uint8Array>;
  private done!: (location: string | undefined) => void;
  private failed!: (error: Error) => void;

  constructor(
    private readonly owner: LeanHttpCalls,
    private readonly p: Pending,
    private readonly url: URL,
  ) {}

  /** Sends the request; resolves with a redirect's location to follow, or undefined once the answer is handled. */
  run(dispatcher: Dispatcher, headers: Record<string, string>, body: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.done = resolve;
      this.failed = reject;
      dispatcher.dispatch({ origin: this.url.origin, path: this.url.pathname + this.url.search, method: 'POST', headers, body }, this);
    });
  }

  /** The call was cancelled or timed out: stop waiting for its answer (an event stream is left to the SDK's reader, as the SDK leaves it). */
  abort(reason: unknown): void {
    if (this.mode === 'sse') return;
    this.abortReason = reason instanceof Error ? reason : new Error(String(reason));
    this.controller?.abort(this.abortReason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx informational
    this.status = statusCode;
    const sessionId = header(headers['mcp-session-id']);
    if (sessionId) this.owner.sessionIdSeen(sessionId);
    if (statusCode >= 300 && statusCode < 400) {
      this.location = header(headers.location);
      if (!this.location) {
        this.mode = 'error';
        return;
      }
      if (statusCode !== 307 && statusCode !== 308) {
        this.mode = 'ignore';
        this.owner.fail(
          this.p,
          new StreamableHTTPError(statusCode, `Error POSTing to endpoint: the server redirected the request with status ${statusCode}, which would turn it into a GET; configure the URL it redirects to`),
        );
        return;
      }
      this.mode = 'redirect';
      return;
    }
    if (statusCode >= 400) {
      this.mode = 'error';
      return;
    }
    if (statusCode === 202) return; // the response comes on the standalone stream, through the router
    const type = (header(headers['content-type']) ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type === 'application/json') this.mode = 'json';
    else if (type === 'text/event-stream') {
      this.mode = 'sse';
      const stream = new ReadableStream<Uint8Array>({ start: (c) => void (this.sse = c) });
      this.owner.streamToSdk(stream);
    } else {
      this.owner.fail(this.p, new StreamableHTTPError(-1, `Unexpected content type: ${header(headers['content-type']) ?? 'none'}`));
      controller.abort(new Error('unexpected content type'));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.mode === 'sse') {
      this.sse!.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return;
    }
    if (this.mode !== 'json' && this.mode !== 'error') return;
    const limit = this.mode === 'json' ? MAX_BODY_BYTES : MAX_ERROR_TEXT;
    if (this.size >= limit) {
      if (this.mode === 'json') {
        this.owner.fail(this.p, new Error(`The server's answer is over ${MAX_BODY_BYTES} bytes; Palisade stopped reading it.`));
        this.mode = 'ignore';
        controller.abort(new Error('answer too large'));
      }
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    const mode = this.mode;
    if (mode === 'sse') {
      this.sse!.close();
      this.done(undefined);
      return;
    }
    if (mode === 'redirect') {
      this.done(this.location);
      return;
    }
    const text = this.chunks.length === 1 ? this.chunks[0]!.toString('utf8') : Buffer.concat(this.chunks, this.size).toString('utf8');
    this.chunks = [];
    if (mode === 'error') {
      const shown = text.length > MAX_ERROR_TEXT ? text.slice(0, MAX_ERROR_TEXT) : text;
      this.owner.fail(this.p, new StreamableHTTPError(this.status, `Error POSTing to endpoint: ${shown}`));
    } else if (mode === 'json') {
      try {
        const data: unknown = JSON.parse(text);
        if (Array.isArray(data)) for (const m of data) this.owner.deliver(m);
        else this.owner.deliver(data);
      } catch (err) {
        this.owner.fail(this.p, err as Error);
      }
    }
    this.done(undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.mode === 'sse') {
      // the SDK's reader sees the broken stream (and resumes it after a priming event)
      this.sse!.error(error);
      this.done(undefined);
      return;
    }
    this.failed(this.abortReason ?? error);
  }
}
