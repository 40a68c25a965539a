// Rate and concurrency limits around every tool call.
//
// Rate: a sliding-window counter per key (the count of the current fixed window plus the
// previous window's count weighted by how much of it still overlaps the sliding window), for
// three kinds of key: the principal, the virtual server, the tool (across all callers, which
// protects the upstream's own quota). One call is checked against all its keys at once and
// counted only if every key admits it. With Redis this is one Lua script (atomic, the clock is
// Redis's TIME so every process agrees); without Redis the same arithmetic runs in memory.
// Over the limit: a JSON-RPC error (-32029) whose message and data give the retry delay.
//
// Concurrency: calls in flight per principal and per upstream (this process), each with a
// bounded FIFO queue; a call waits at most queueTimeoutMs, and a full queue refuses at once.
import { signalOf, type CallCancel } from '@palisade/mcp';
import { GatewayError, ERR_RATE, type Scope } from '../gateway.js';
import type { SharedRedis } from './redis.js';

export interface RateRule {
  limit: number;
  windowSeconds: number;
}

export interface ScaleLimits {
  rate: { principal?: RateRule; virtualServer?: RateRule; tool?: RateRule };
  concurrency: { perPrincipal?: number; perUpstream?: number; queue: number; queueTimeoutMs: number };
}

interface Check {
  kind: 'principal' | 'virtual server' | 'tool';
  name: string;
  key: string;
  rule: RateRule;
}

export interface RateVerdict {
  ok: boolean;
  /** the refusing key, when refused */
  index?: number;
  retryAfterMs?: number;
}

export interface RateBackend {
  hit(checks: { key: string; limit: number; windowMs: number }[]): Promise<RateVerdict>;
}

/** Retry delay once the weighted count reaches the limit (window w, elapsed e, previous p, current c). */
function retryAfter(limit: number, w: number, e: number, p: number, c: number): number {
  // within this window: the previous window's weight falls until p*(1-t/w) + c + 1 <= limit
  if (c + 1 <= limit && p > 0) return Math.max(1, Math.ceil(w * (1 - (limit - c - 1) / p) - e));
  // else after this window ends, when c becomes the previous one
  const next = c > 0 ? Math.max(0, w * (1 - (limit - 1) / c)) : 0;
  return Math.max(1, Math.ceil(w - e + next));
}

export class MemoryRateBackend implements RateBackend {
  private readonly state = new Map<string, { w: number; c: number; p: number }>();
  private sweeps = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async hit(checks: { key: string; limit: number; windowMs: number }[]): Promise<RateVerdict> {
    const now = this.now();
    for (let i = 0; i < checks.length; i++) {
      const { key, limit, windowMs } = checks[i]!;
      const s = this.current(key, Math.floor(now / windowMs));
      const e = now % windowMs;
      if (s.p * (1 - e / windowMs) + s.c + 1 > limit) return { ok: false, index: i, retryAfterMs: retryAfter(limit, windowMs, e, s.p, s.c) };
    }
    // every key admits the call: count it on all of them (their windows are current after the loop)
    for (let i = 0; i < checks.length; i++) this.state.get(checks[i]!.key)!.c++;
    if (++this.sweeps % 10_000 === 0) this.sweep(now, Math.max(...checks.map((c) => c.windowMs)));
    return ADMITTED;
  }

  /** The key's counters moved to window `w` (the current one becomes the previous one when w follows it). */
  private current(key: string, w: number): { w: number; c: number; p: number } {
    let s = this.state.get(key);
    if (!s) this.state.set(key, (s = { w, c: 0, p: 0 }));
    else if (s.w !== w) {
      s.p = s.w === w - 1 ? s.c : 0;
      s.c = 0;
      s.w = w;
    }
    return s;
  }

  private sweep(now: number, windowMs: number): void {
    for (const [k, s] of this.state) if (s.w < Math.floor(now / windowMs) - 1) this.state.delete(k);
  }
}

const ADMITTED: RateVerdict = Object.freeze({ ok: true });

// KEYS: one hash per limited key (fields w, c, p). ARGV: limit1, windowMs1, limit2, ... .
// Answers {1} when admitted (and counted on every key), {0, index, retryAfterMs} when not.
const LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local ws, cs, ps = {}, {}, {}
for i = 1, n do
  local limit = tonumber(ARGV[2 * i - 1])
  local win = tonumber(ARGV[2 * i])
  local w = math.floor(now / win)
  local v = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
  local sw, sc, sp = tonumber(v[1]), tonumber(v[2]) or 0, tonumber(v[3]) or 0
  local c, p = 0, 0
  if sw == w then c, p = sc, sp elseif sw == w - 1 then c, p = 0, sc end
  local e = now % win
  if p * (1 - e / win) + c + 1 > limit then
    local retry
    if c + 1 <= limit and p > 0 then
      retry = math.ceil(win * (1 - (limit - c - 1) / p) - e)
    else
      local nxt = 0
      if c > 0 then nxt = math.max(0, win * (1 - (limit - 1) / c)) end
      retry = math.ceil(win - e + nxt)
    end
    if retry < 1 then retry = 1 end
    return {0, i - 1, retry}
  end
  ws[i], cs[i], ps[i] = w, c, p
end
for i = 1, n do
  local win = tonumber(ARGV[2 * i])
  redis.call('HSET', KEYS[i], 'w', ws[i], 'c', cs[i] + 1, 'p', ps[i])
  redis.call('PEXPIRE', KEYS[i], 2 * win + 1000)
end
return {1}
`;

export class RedisRateBackend implements RateBackend {
  constructor(private readonly redis: SharedRedis) {
    redis.client.defineCommand('palisadeRateHit', { lua: LUA });
  }

  async hit(checks: { key: string; limit: number; windowMs: number }[]): Promise<RateVerdict> {
    const keys = checks.map((c) => `${this.redis.prefix}rate:${c.key}`);
    const argv = checks.flatMap((c) => [String(c.limit), String(c.windowMs)]);
    const r = (await (this.redis.client as unknown as { palisadeRateHit(n: number, ...a: string[]): Promise<number[]> }).palisadeRateHit(
      keys.length,
      ...keys,
      ...argv,
    )) as number[];
    if (r[0] === 1) return { ok: true };
    return { ok: false, index: Number(r[1]), retryAfterMs: Number(r[2]) };
  }
}

/** A counting semaphore with a bounded FIFO queue. */
class Slots {
  private active = 0;
  private readonly waiting: { go: () => void; fail: (e: Error) => void }[] = [];

  constructor(
    readonly max: number,
    private readonly queue: number,
  ) {}

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  /** Takes a slot when one is free (the common case: no promise, no closure). */
  tryAcquire(): boolean {
    if (this.active >= this.max) return false;
    this.active++;
    return true;
  }

  /** Waits in the queue for a slot (taken when this resolves); refuses at once when the queue is full. */
  wait(timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    if (this.waiting.length >= this.queue)
      return Promise.reject(
        new GatewayError(ERR_RATE, `Concurrency limit: ${this.max} calls in flight for ${what} and ${this.queue} already waiting; retry in 1 s.`, {
          reason: 'concurrency',
          retryAfterSeconds: 1,
          retryAfterMs: 1000,
        }),
      );
    return new Promise<void>((resolve, reject) => {
      const entry = {
        // called by release() with the entry already taken off the queue
        go: () => {
          cleanup();
          this.active++;
          resolve();
        },
        fail: (e: Error) => {
          cleanup();
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(e);
        },
      };
      const timer = setTimeout(
        () =>
          entry.fail(
            new GatewayError(ERR_RATE, `Concurrency limit: waited ${timeoutMs} ms for one of ${this.max} call slots of ${what}; retry in 1 s.`, {
              reason: 'concurrency',
              retryAfterSeconds: 1,
              retryAfterMs: 1000,
            }),
          ),
        timeoutMs,
      );
      const onAbort = () => entry.fail(new GatewayError(ERR_RATE, 'The call was cancelled while it waited for a call slot.'));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** Frees a slot: the first waiting call takes it. */
  release(): void {
    this.active--;
    this.waiting.shift()?.go();
  }
}

/** Idle slot counters kept per map before idle ones are dropped on release (most gateways have few keys). */
const KEEP_IDLE_SLOTS = 256;

export class CallLimiter {
  private readonly principals = new Map<string, Slots>();
  private readonly upstreams = new Map<string, Slots>();
  private readonly active = new Map<string, number>();
  private readonly used = new Map<string, number>();
  /** the rate backend's keys for a (principal, virtual server, tool), built once */
  private readonly rateKeys = new Map<string, { key: string; limit: number; windowMs: number }[]>();
  private warnedAt = 0;

  constructor(
    readonly limits: ScaleLimits,
    private readonly backend: RateBackend,
    /** the backend failed (Redis down): the call is checked against this process's counters instead */
    private readonly fallback: RateBackend = new MemoryRateBackend(),
    private readonly warn?: (m: string) => void,
  ) {}

  /** The limited keys of a call: the principal's, the virtual server's and the tool's (those with a rule). */
  private checksOf(scope: Scope, tool: string): Check[] {
    const checks: Check[] = [];
    const r = this.limits.rate;
    if (r.principal) checks.push({ kind: 'principal', name: scope.principal.name, key: `p:${scope.principal.id}`, rule: r.principal });
    if (r.virtualServer && scope.virtualServer)
      checks.push({ kind: 'virtual server', name: scope.virtualServer, key: `v:${scope.virtualServer}`, rule: r.virtualServer });
    if (r.tool) checks.push({ kind: 'tool', name: tool, key: `t:${tool}`, rule: r.tool });
    return checks;
  }

  /** Count one call against the principal's, the virtual server's and the tool's windows. */
  async rate(scope: Scope, tool: string): Promise<void> {
    const r = this.limits.rate;
    if (!r.principal && !r.virtualServer && !r.tool) return;
    const cacheKey = `${scope.principal.id}\n${scope.virtualServer ?? ''}\n${tool}`;
    let args = this.rateKeys.get(cacheKey);
    if (!args) {
      args = this.checksOf(scope, tool).map((c) => ({ key: c.key, limit: c.rule.limit, windowMs: c.rule.windowSeconds * 1000 }));
      if (this.rateKeys.size >= 10_000) this.rateKeys.clear();
      this.rateKeys.set(cacheKey, args);
    }
    if (args.length === 0) return;
    let verdict: RateVerdict;
    try {
      verdict = await this.backend.hit(args);
    } catch (err) {
      // at most one warning a minute, not one per call
      if (Date.now() - this.warnedAt > 60_000) {
        this.warnedAt = Date.now();
        this.warn?.(`shared rate limits unavailable, counting in this process: ${(err as Error).message}`);
      }
      verdict = await this.fallback.hit(args);
    }
    if (verdict.ok) return;
    const c = this.checksOf(scope, tool)[verdict.index ?? 0]!;
    const ms = verdict.retryAfterMs ?? 1000;
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    throw new GatewayError(
      ERR_RATE,
      `Rate limit: ${c.rule.limit} calls per ${c.rule.windowSeconds} s for the ${c.kind} ${c.name}; retry in ${seconds} s.`,
      { reason: 'rate', limit: c.rule.limit, windowSeconds: c.rule.windowSeconds, scope: c.kind, retryAfterSeconds: seconds, retryAfterMs: ms },
    );
  }

  /**
   * Wait for a call slot of the principal and of the upstream; the returned function frees both.
   * `cancel`: the call's signal, or its CallCancel (whose signal is made only if the call waits).
   */
  async slot(scope: Scope, upstream: string, cancel?: AbortSignal | CallCancel): Promise<() => void> {
    const c = this.limits.concurrency;
    const principalId = scope.principal.id;
    const p = c.perPrincipal ? this.slots(this.principals, principalId, c.perPrincipal) : undefined;
    const u = c.perUpstream ? this.slots(this.upstreams, upstream, c.perUpstream) : undefined;
    if (p && !p.tryAcquire()) await p.wait(c.queueTimeoutMs, scope.principal.name, signalOf(cancel));
    if (u && !u.tryAcquire()) {
      try {
        await u.wait(c.queueTimeoutMs, `the upstream ${upstream}`, signalOf(cancel));
      } catch (err) {
        this.free(this.principals, principalId, p);
        throw err;
      }
    }
    this.active.set(upstream, (this.active.get(upstream) ?? 0) + 1);
    this.used.set(upstream, Date.now());
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active.set(upstream, (this.active.get(upstream) ?? 1) - 1);
      this.used.set(upstream, Date.now());
      this.free(this.principals, principalId, p);
      this.free(this.upstreams, upstream, u);
    };
  }

  /** calls of this process in flight on an upstream */
  inFlight(upstream: string): number {
    return this.active.get(upstream) ?? 0;
  }

  /** when a call of this process last started or ended on an upstream (0: never) */
  lastUse(upstream: string): number {
    return this.used.get(upstream) ?? 0;
  }

  private slots(map: Map<string, Slots>, key: string, max: number): Slots {
    let s = map.get(key);
    if (!s) map.set(key, (s = new Slots(max, this.limits.concurrency.queue)));
    return s;
  }

  /** Frees a slot; an idle counter is dropped only when the map holds many (the next call would build it again). */
  private free(map: Map<string, Slots>, key: string, slots: Slots | undefined): void {
    if (!slots) return;
    slots.release();
    if (slots.idle && map.size > KEEP_IDLE_SLOTS && map.get(key) === slots) map.delete(key);
  }
}
