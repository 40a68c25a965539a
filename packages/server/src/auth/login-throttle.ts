// Slows down password guessing. Failures are counted per account and per client address in
// a sliding window; after a few, each answer waits longer; after many, 429 until the window
// passes. In memory: one server process (the hosted setup should also rate-limit at its proxy).
export interface ThrottleOptions {
  windowMs: number;
  freeFailures: number;
  maxFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultThrottle: ThrottleOptions = { windowMs: 15 * 60_000, freeFailures: 3, maxFailures: 10, baseDelayMs: 250, maxDelayMs: 4000 };

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  constructor(private readonly opts: ThrottleOptions = defaultThrottle) {}

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.opts.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  /** Seconds to wait before trying again when blocked, else 0. */
  blockedFor(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const k of keys) {
      const list = this.recent(k, now);
      if (list.length >= this.opts.maxFailures) wait = Math.max(wait, Math.ceil((list[0]! + this.opts.windowMs - now) / 1000));
    }
    return wait;
  }

  /** How long to hold the answer back, growing with the failures so far. */
  delayMs(keys: string[], now = Date.now()): number {
    const n = Math.max(0, ...keys.map((k) => this.recent(k, now).length));
    if (n < this.opts.freeFailures) return 0;
    return Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (n - this.opts.freeFailures));
  }

  fail(keys: string[], now = Date.now()): void {
    for (const k of keys) this.failures.set(k, [...this.recent(k, now), now]);
    if (this.failures.size > 100_000) this.failures.clear(); // bounded memory under a spray attack
  }

  succeed(keys: string[]): void {
    for (const k of keys) this.failures.delete(k);
  }
}
