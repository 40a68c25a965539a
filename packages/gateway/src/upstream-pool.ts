// Per-user upstream instances (issue 16 §2, `isolation: per-user`): one UpstreamClient per
// principal for an upstream that is not safe to share (its own process group for stdio, its
// own connection for http/sse; always so for an upstream with per-user OAuth). The catalog
// (tools, pins, quarantine) stays per upstream in Gateway; this pool only owns the instances:
// started on a principal's first call, bounded in number, stopped after limits.upstreamIdleMs
// without calls, restarted with backoff after a crash, and closed (process tree reaped by
// @palisade/mcp) when the gateway stops.
import type { UpstreamClient } from '@palisade/mcp';
import type { Principal } from './gateway.js';

/** Raised when a per-user upstream already runs its maximum number of instances. */
export class PoolFullError extends Error {
  constructor(
    readonly upstream: string,
    readonly max: number,
  ) {
    super(
      `The upstream ${upstream} runs one instance per user and already has ${max} running in this gateway process (upstreams.${upstream}.maxInstances); try again when one has been idle long enough to stop, or raise maxInstances.`,
    );
    this.name = 'PoolFullError';
  }
}

interface Instance {
  principal: Principal;
  client: UpstreamClient;
  lastUse: number;
  inFlight: number;
  attempts: number;
  lastUp: number;
  timer?: NodeJS.Timeout;
  /** set once its lists were checked against the catalog */
  checked?: Promise<void>;
  /** a (re)start in progress, shared by the calls that arrive meanwhile */
  starting?: Promise<void>;
}

export interface PoolOptions {
  max: number;
  /** 0: never stop an idle instance */
  idleMs: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** a new client for this principal; `onClose` is called when its connection drops unasked */
  create: (principal: Principal, onClose: () => void) => UpstreamClient;
  /** after every (re)connect: compare what the instance lists with the catalog */
  onConnected: (principal: Principal, client: UpstreamClient) => Promise<void>;
  audit: (decision: string, principal: Principal, reason?: string) => void;
  warn?: (m: string) => void;
}

export class UpstreamPool {
  private readonly instances = new Map<string, Instance>();
  private sweeper?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly upstream: string,
    private readonly opts: PoolOptions,
  ) {
    if (opts.idleMs > 0) {
      this.sweeper = setInterval(() => this.sweepIdle(), Math.max(50, Math.min(opts.idleMs / 2, 30_000)));
      this.sweeper.unref();
    }
  }

  get size(): number {
    return this.instances.size;
  }

  /** Process ids of the running stdio instances, by principal id (tests, status). */
  pids(): Map<string, number | undefined> {
    return new Map([...this.instances].map(([id, i]) => [id, i.client.pid]));
  }

  /**
   * The principal's instance, connected and checked against the catalog; `release` must be
   * called when the call is done (idle time counts from then).
   */
  async acquire(principal: Principal): Promise<{ client: UpstreamClient; release: () => void }> {
    if (this.closed) throw new Error(`upstream ${this.upstream} is closed`);
    let inst = this.instances.get(principal.id);
    if (!inst) {
      if (this.instances.size >= this.opts.max) {
        this.opts.audit('refused-max-instances', principal, `${this.opts.max} instances running`);
        throw new PoolFullError(this.upstream, this.opts.max);
      }
      const created: Instance = { principal, client: undefined as unknown as UpstreamClient, lastUse: Date.now(), inFlight: 0, attempts: 0, lastUp: 0 };
      created.client = this.opts.create(principal, () => this.crashed(created));
      this.instances.set(principal.id, created);
      inst = created;
    }
    const i = inst;
    i.inFlight++;
    i.lastUse = Date.now();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      i.inFlight--;
      i.lastUse = Date.now();
    };
    try {
      // (re)connect if needed, and check its lists against the catalog until that succeeded once
      if (!i.client.connected || !i.checked) await this.ensure(i);
      await i.checked;
    } catch (err) {
      release();
      i.checked = undefined;
      // a first start that failed leaves nothing behind
      if (i.attempts === 0 && !i.lastUp && this.instances.get(principal.id) === i) {
        this.instances.delete(principal.id);
        await i.client.close().catch(() => undefined);
      }
      throw err;
    }
    return { client: i.client, release };
  }

  /**
   * Connect (if needed) and check the lists, once at a time per instance: every start goes
   * through here (first call, call after a crash, restart timer), so nobody reads the lists of a
   * connection whose handshake is still running.
   */
  private ensure(i: Instance): Promise<void> {
    i.starting ??= (async () => {
      if (!i.client.connected) {
        await i.client.connect();
        i.lastUp = Date.now();
        this.opts.audit('instance-started', i.principal, i.client.pid ? `pid ${i.client.pid}` : undefined);
      }
      i.checked = this.opts.onConnected(i.principal, i.client);
      await i.checked;
    })().finally(() => {
      i.starting = undefined;
    });
    return i.starting;
  }

  /** The connection dropped without being asked to (a crash, a kill): restart with backoff. */
  private crashed(i: Instance): void {
    if (this.closed || this.instances.get(i.principal.id) !== i || i.timer) return;
    this.opts.audit('instance-disconnected', i.principal, i.client.lastError ?? 'the connection closed');
    if (Date.now() - i.lastUp > 60_000) i.attempts = 0;
    const delay = Math.min((this.opts.initialBackoffMs ?? 1000) * 2 ** i.attempts, this.opts.maxBackoffMs ?? 60_000);
    i.attempts++;
    i.checked = undefined;
    i.timer = setTimeout(() => {
      i.timer = undefined;
      if (this.closed || this.instances.get(i.principal.id) !== i || i.client.connected) return;
      void (async () => {
        await this.ensure(i);
        this.opts.audit('instance-restarted', i.principal, `after ${i.attempts} attempt(s)`);
      })().catch((err: unknown) => {
        this.opts.warn?.(`an instance of ${this.upstream} did not restart: ${err instanceof Error ? err.message : String(err)}`);
        this.crashed(i);
      });
    }, delay);
    i.timer.unref();
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const [id, i] of this.instances) {
      if (i.inFlight > 0 || now - i.lastUse < this.opts.idleMs) continue;
      this.instances.delete(id);
      if (i.timer) clearTimeout(i.timer);
      this.opts.audit('instance-idle-stopped', i.principal, `no call for ${Math.round((now - i.lastUse) / 1000)} s`);
      void i.client.close().catch(() => undefined);
    }
  }

  /** Stop every instance (their process trees end). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const all = [...this.instances.values()];
    this.instances.clear();
    for (const i of all) if (i.timer) clearTimeout(i.timer);
    await Promise.all(all.map((i) => i.client.close().catch(() => undefined)));
  }
}
