// The table of requests the gateway sends on a lean path (its tools/call on a stdio or a
// Streamable HTTP upstream): each request is written by its transport and its response matched
// here by id, without the SDK client's per-message schema checks. What the SDK's
// Protocol.request does is done here too: a timeout (McpError RequestTimeout) and cancellation
// (an AbortSignal or a CallCancel) each send notifications/cancelled to the server and fail the
// call; a closed connection fails every request (McpError ConnectionClosed); an error response
// becomes the SDK's McpError. One object per request, no closures per call.
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { CallCancel, CancelWatcher } from './cancel.js';

/** Options of a request sent on a lean path. */
export interface LeanRequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** the call's cancellation without an AbortSignal (the gateway's lean path); either or both may be given */
  cancel?: CallCancel;
}

/** A request waiting for its response. */
export class Pending implements CancelWatcher {
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
  cancel?: CallCancel;
  /** removes the listener of a CallCancel's signal (when another request watched it already) */
  cleanup?: () => void;
  /** what the transport stops when the request is cancelled or times out (an HTTP exchange in flight) */
  stop?: { abort(reason: unknown): void };

  constructor(
    readonly table: LeanRequests,
    readonly id: string | number,
    readonly resolve: (result: Record<string, unknown>) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  /** the call's CallCancel was aborted: as an aborted signal */
  cancelled(reason: unknown): void {
    this.table.cancel(this, reason, reason instanceof McpError ? reason : new McpError(ErrorCode.RequestTimeout, String(reason)));
  }
}

function timedOut(p: Pending, timeoutMs: number): void {
  const error = new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: timeoutMs });
  p.table.cancel(p, error, error);
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class LeanRequests {
  private readonly pending = new Map<string | number, Pending>();

  /**
   * @param sendCancelled sends notifications/cancelled for request `id` to the server
   * @param onerror told of a response that is not JSON-RPC, and of a failed cancellation
   */
  constructor(
    private readonly sendCancelled: (id: string | number, reason: string) => Promise<void>,
    private readonly onerror: (error: Error) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Starts waiting for request `id`'s response (its timer, its cancellation), or rejects at once
   * and returns undefined when the call is cancelled already. The caller writes the request after.
   */
  add(id: string | number, resolve: (result: Record<string, unknown>) => void, reject: (error: unknown) => void, opts: LeanRequestOptions): Pending | undefined {
    const { signal, cancel } = opts;
    if (signal?.aborted) {
      reject(signal.reason);
      return undefined;
    }
    if (cancel?.aborted) {
      reject(cancel.reason);
      return undefined;
    }
    const p = new Pending(this, id, resolve, reject);
    p.timer = setTimeout(timedOut, opts.timeoutMs, p, opts.timeoutMs);
    if (signal) {
      p.signal = signal;
      p.onAbort = () => p.cancelled(signal.reason);
      signal.addEventListener('abort', p.onAbort, { once: true });
    }
    if (cancel) {
      // one watcher per CallCancel, told of an abort directly (no AbortSignal made); should
      // another request watch it already, this one listens to its signal like to any other
      if (cancel.watch(p)) p.cancel = cancel;
      else {
        const s = cancel.signal;
        const onAbort = () => p.cancelled(s.reason);
        s.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => s.removeEventListener('abort', onAbort);
      }
    }
    this.pending.set(id, p);
    return p;
  }

  /** True when `raw` (a parsed message) answers a waiting request, which it then settles. */
  take(raw: unknown): boolean {
    if (this.pending.size === 0 || !isPlain(raw) || raw.method !== undefined || (typeof raw.id !== 'number' && typeof raw.id !== 'string')) return false;
    const p = this.pending.get(raw.id);
    if (!p) return false;
    this.settle(p, raw);
    return true;
  }

  /** The response to `p`: its result, or its error as the SDK's client raises it. */
  private settle(p: Pending, m: Record<string, unknown>): void {
    this.forget(p);
    if (m.jsonrpc === '2.0' && 'result' in m && !('error' in m) && isPlain(m.result)) {
      p.resolve(m.result);
      return;
    }
    const e = m.error;
    if (m.jsonrpc === '2.0' && !('result' in m) && isPlain(e) && Number.isInteger(e.code) && typeof e.message === 'string') {
      p.reject(McpError.fromError(e.code as number, e.message, e.data));
      return;
    }
    const error = new McpError(ErrorCode.InvalidRequest, `The server answered request ${JSON.stringify(p.id)} with a message that is not a JSON-RPC response`);
    this.onerror(error);
    p.reject(error);
  }

  private forget(p: Pending): void {
    this.pending.delete(p.id);
    clearTimeout(p.timer);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    p.cancel?.unwatch(p);
    p.cleanup?.();
  }

  /** `p` timed out or was cancelled: notifications/cancelled to the server (with `reason`), its exchange stopped, and the call fails with `error`. */
  cancel(p: Pending, reason: unknown, error: unknown): void {
    if (this.pending.get(p.id) !== p) return;
    this.forget(p);
    p.stop?.abort(error);
    void this.sendCancelled(p.id, String(reason)).catch((err: unknown) => this.onerror(new Error(`Failed to send cancellation: ${String(err)}`)));
    p.reject(error);
  }

  /** `p` failed on its way (its exchange broke): the call fails with `error`, nothing is sent. */
  fail(p: Pending, error: Error): void {
    if (this.pending.get(p.id) !== p) return;
    this.forget(p);
    p.reject(error);
  }

  /** True while `p` still waits for its response. */
  waiting(p: Pending): boolean {
    return this.pending.get(p.id) === p;
  }

  /** The connection is gone: every request fails as the SDK's client fails its own. */
  closeAll(): void {
    if (this.pending.size === 0) return;
    for (const p of [...this.pending.values()]) {
      this.forget(p);
      p.reject(new McpError(ErrorCode.ConnectionClosed, 'Connection closed'));
    }
  }
}
