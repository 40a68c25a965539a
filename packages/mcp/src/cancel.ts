// A call's cancellation without an AbortController until something needs one. In Node 20 an
// AbortController with its signal costs ~2.7 µs to make, and a listener added and removed on the
// signal ~2.5 µs more (EventTarget): paid by every tools/call of the gateway's lean path, though
// almost none is ever cancelled. A CallCancel is a plain object with the same `abort(reason)` (so
// it can stand in the MCP SDK's table of a server's request controllers, which only calls that)
// and `aborted` / `reason`; one watcher (the lean stdio request) is told of an abort directly,
// and a real AbortSignal is made only when asked for (`signal`, for code that takes one: a wait
// for a call slot, the SDK's client, fetch), already aborted if the call was.

/** Told once when the call it watches is cancelled. */
export interface CancelWatcher {
  cancelled(reason: unknown): void;
}

export class CallCancel {
  aborted = false;
  /** why, once aborted: what abort() was given, or an AbortError as AbortController.abort() makes */
  reason: unknown = undefined;
  private controller?: AbortController;
  private watcher?: CancelWatcher;

  /** A real signal that follows this cancellation (made on first use). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Cancels the call: the watcher and the signal (if one was made) see `reason`; later calls do nothing, as with AbortController. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const watcher = this.watcher;
    this.watcher = undefined;
    this.controller?.abort(this.reason);
    watcher?.cancelled(this.reason);
  }

  /** Makes `w` the one watcher; false (nothing changed) when another one watches already, or the call is cancelled. */
  watch(w: CancelWatcher): boolean {
    if (this.aborted || (this.watcher !== undefined && this.watcher !== w)) return false;
    this.watcher = w;
    return true;
  }

  /** `w` stops watching (its request is settled). */
  unwatch(w: CancelWatcher): void {
    if (this.watcher === w) this.watcher = undefined;
  }
}

/** The signal of a cancellation given as either kind; a CallCancel's is made only now. */
export function signalOf(c: AbortSignal | CallCancel | undefined): AbortSignal | undefined {
  return c instanceof CallCancel ? c.signal : c;
}
