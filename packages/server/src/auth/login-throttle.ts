// Slows down password guessing without handing an attacker a way to lock someone out.
//
// Three independent failure counters, each a sliding window:
//   - per client address (`ip`): one address guessing at many accounts; 429 past `ipMax`;
//   - per (account, address) pair (`pair`): one address guessing one account; answers wait
//     longer after a few failures, 429 past `pairMax`;
//   - per account, from every address (`account`): a distributed guesser; past
//     `accountMax`, sign-ins to that account from addresses it has never signed in from are
//     slowed to one attempt per `accountSlowMs`: never a hard lock, and an address the
//     account signed in from before (remembered for `trustMs`) is not held back at all.
// A success clears only its own (account, address) pair and remembers the pair as known;
// it never clears the address's count (a guesser cannot interleave a known account's
// sign-in to reset it) nor the account's.
//
// The counts live in memory for one process, or in Redis (REDIS_URL) so that several
// `palisade serve` processes share them.
import type { Redis } from 'ioredis';

export interface ThrottleOptions {
  windowMs: number;
  /** failures of a pair before answers are held back */
  freeFailures: number;
  /** failures of a pair before 429 */
  pairMax: number;
  /** failures from one address (all accounts) before 429 */
  ipMax: number;
  /** failures of one account (all addresses) before sign-ins from new addresses are slowed */
  accountMax: number;
  accountWindowMs: number;
  /** past accountMax: one attempt per this long from a new address */
  accountSlowMs: number;
  /** how long a pair that signed in is remembered as known */
  trustMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultThrottle: ThrottleOptions = {
  windowMs: 15 * 60_000,
  freeFailures: 3,
  pairMax: 10,
  ipMax: 50,
  accountMax: 50,
  accountWindowMs: 60 * 60_000,
  accountSlowMs: 30_000,
  trustMs: 30 * 86_400_000,
  baseDelayMs: 250,
  maxDelayMs: 4000,
};

/** Where counts are kept: sliding windows of failure times, and flags with a lifetime. */
export interface ThrottleStore {
  /** failures of `key` within the window: how many and the oldest's time */
  window(key: string, windowMs: number, now: number): Promise<{ count: number; oldest: number | null; newest: number | null }>;
  add(key: string, windowMs: number, now: number): Promise<void>;
  clear(key: string): Promise<void>;
  flag(key: string, ttlMs: number): Promise<void>;
  hasFlag(key: string): Promise<boolean>;
  /** tries to take a slot that is free once per `ms`; true when taken */
  slot(key: string, ms: number, now: number): Promise<boolean>;
}

export class MemoryThrottleStore implements ThrottleStore {
  private readonly lists = new Map<string, number[]>();
  private readonly flags = new Map<string, number>();

  private recent(key: string, windowMs: number, now: number): number[] {
    const list = (this.lists.get(key) ?? []).filter((t) => now - t < windowMs);
    if (list.length) this.lists.set(key, list);
    else this.lists.delete(key);
    return list;
  }
  async window(key: string, windowMs: number, now: number) {
    const list = this.recent(key, windowMs, now);
    return { count: list.length, oldest: list[0] ?? null, newest: list[list.length - 1] ?? null };
  }
  async add(key: string, windowMs: number, now: number) {
    const list = this.recent(key, windowMs, now);
    list.push(now);
    this.lists.set(key, list.slice(-1000));
    if (this.lists.size > 100_000) this.lists.clear(); // bounded memory under a spray attack
  }
  async clear(key: string) {
    this.lists.delete(key);
  }
  async flag(key: string, ttlMs: number) {
    this.flags.set(key, Date.now() + ttlMs);
    if (this.flags.size > 100_000) this.flags.clear();
  }
  async hasFlag(key: string) {
    const until = this.flags.get(key);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.flags.delete(key);
      return false;
    }
    return true;
  }
  async slot(key: string, ms: number, now: number) {
    const until = this.flags.get(key);
    if (until !== undefined && until > now) return false;
    this.flags.set(key, now + ms);
    return true;
  }
}

/** The same windows in Redis (sorted sets of failure times), shared by every server process. */
export class RedisThrottleStore implements ThrottleStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'palisade:throttle:',
  ) {}
  private k(key: string) {
    return this.prefix + key;
  }
  async window(key: string, windowMs: number, now: number) {
    const k = this.k(key);
    const r = await this.redis
      .multi()
      .zremrangebyscore(k, 0, now - windowMs)
      .zcard(k)
      .zrange(k, 0, 0, 'WITHSCORES')
      .zrange(k, -1, -1, 'WITHSCORES')
      .exec();
    const count = Number(r?.[1]?.[1] ?? 0);
    const first = r?.[2]?.[1] as string[] | undefined;
    const last = r?.[3]?.[1] as string[] | undefined;
    return { count, oldest: first?.[1] ? Number(first[1]) : null, newest: last?.[1] ? Number(last[1]) : null };
  }
  async add(key: string, windowMs: number, now: number) {
    const k = this.k(key);
    await this.redis
      .multi()
      .zadd(k, now, `${now}-${Math.random().toString(36).slice(2, 10)}`)
      .zremrangebyscore(k, 0, now - windowMs)
      .zremrangebyrank(k, 0, -1001)
      .pexpire(k, windowMs)
      .exec();
  }
  async clear(key: string) {
    await this.redis.del(this.k(key));
  }
  async flag(key: string, ttlMs: number) {
    await this.redis.set(this.k(key), '1', 'PX', ttlMs);
  }
  async hasFlag(key: string) {
    return (await this.redis.exists(this.k(key))) === 1;
  }
  async slot(key: string, ms: number, _now: number) {
    return (await this.redis.set(this.k(key), '1', 'PX', ms, 'NX')) === 'OK';
  }
}

export interface ThrottleDecision {
  /** seconds to wait before trying again (429), or 0 */
  retryAfterS: number;
  /** why, for the 429 message */
  reason: 'address' | 'pair' | 'account' | null;
  /** how long to hold the answer back */
  delayMs: number;
}

export class LoginThrottle {
  constructor(
    readonly store: ThrottleStore = new MemoryThrottleStore(),
    private readonly opts: ThrottleOptions = defaultThrottle,
  ) {}

  private keys(account: string, ip: string) {
    return { ip: `ip:${ip}`, pair: `pair:${account}|${ip}`, account: `account:${account}`, known: `known:${account}|${ip}`, slow: `slow:${account}` };
  }

  /** Whether this (account, address) may try now, and how long to hold its answer back. */
  async check(account: string, ip: string, now = Date.now()): Promise<ThrottleDecision> {
    const k = this.keys(account, ip);
    const o = this.opts;
    const [ipW, pairW, accW] = await Promise.all([this.store.window(k.ip, o.windowMs, now), this.store.window(k.pair, o.windowMs, now), this.store.window(k.account, o.accountWindowMs, now)]);
    const until = (oldest: number | null, windowMs: number) => Math.max(1, Math.ceil(((oldest ?? now) + windowMs - now) / 1000));
    if (ipW.count >= o.ipMax) return { retryAfterS: until(ipW.oldest, o.windowMs), reason: 'address', delayMs: 0 };
    if (pairW.count >= o.pairMax) return { retryAfterS: until(pairW.oldest, o.windowMs), reason: 'pair', delayMs: 0 };
    if (accW.count >= o.accountMax && !(await this.store.hasFlag(k.known))) {
      // slowed, not locked: one attempt per accountSlowMs from addresses this account never signed in from
      if (!(await this.store.slot(k.slow, o.accountSlowMs, now))) return { retryAfterS: Math.ceil(o.accountSlowMs / 1000), reason: 'account', delayMs: 0 };
    }
    const n = pairW.count;
    const delayMs = n < o.freeFailures ? 0 : Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (n - o.freeFailures));
    return { retryAfterS: 0, reason: null, delayMs };
  }

  async fail(account: string, ip: string, now = Date.now()): Promise<void> {
    const k = this.keys(account, ip);
    await Promise.all([this.store.add(k.ip, this.opts.windowMs, now), this.store.add(k.pair, this.opts.windowMs, now), this.store.add(k.account, this.opts.accountWindowMs, now)]);
  }

  /** A success clears its own pair only, and remembers the pair as known. */
  async succeed(account: string, ip: string): Promise<void> {
    const k = this.keys(account, ip);
    await Promise.all([this.store.clear(k.pair), this.store.flag(k.known, this.opts.trustMs)]);
  }
}

export function throttleMessage(d: ThrottleDecision, what = 'sign-ins'): string {
  if (d.reason === 'account') return `Too many failed ${what} to this account from new places; wait ${d.retryAfterS} seconds and try again (signing in from a device that signed in before is not held back), or ask an admin to reset your access.`;
  return `Too many failed ${what}; wait ${d.retryAfterS} seconds and try again, or ask an admin to reset your access.`;
}
