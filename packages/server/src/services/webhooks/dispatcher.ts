// Delivers pending webhook deliveries, fairly between organisations.
//
// The queue of record is the database: webhook_queue holds (delivery id, org id, due time)
// only, no tenant data, so one sweep sees every organisation's due work; each delivery is
// read and recorded inside its own organisation's scope, and no transaction is held while
// sending. In memory, each organisation has its own small queue (bounded: `perOrgQueue` ids),
// and a round-robin pump starts attempts while fewer than `concurrency` run in all and fewer
// than `perOrgConcurrency` run for that organisation. So one organisation's flood, or its
// slow endpoint, takes at most its own share: the others' alerts keep flowing.
//
// Every attempt has a deadline (`attemptTimeoutMs`). A failed attempt is retried with
// exponential backoff and jitter; after the last attempt (or at once when the destination is
// refused by policy) the delivery is a dead letter (status `failed`, `deadLetter: true` in
// the API, counted per webhook and shown on the dashboard). Stopping (SIGTERM) takes no new work, waits for attempts in
// flight up to `drainMs`, then aborts the rest: their queue rows are untouched, so whatever
// was not delivered is still in the database for the next start.
import { withOrg, type Db } from '../../db/index.js';
import { privateTargetsAllowed } from './address.js';
import { MAX_ATTEMPTS, retryDelayMs, sendWebhook, type AttemptResult } from './send.js';

export interface DispatcherOptions {
  /** first retry delay; doubles per attempt (with jitter) */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** how often the retry sweep runs */
  sweepEveryMs?: number;
  /** deadline of one delivery attempt */
  attemptTimeoutMs?: number;
  /** attempts in flight at once, all organisations together */
  concurrency?: number;
  /** attempts in flight at once for one organisation */
  perOrgConcurrency?: number;
  /** delivery ids held in memory per organisation (the rest wait in the database) */
  perOrgQueue?: number;
  /** how long stop() waits for attempts in flight before aborting them */
  drainMs?: number;
  /** private and loopback receivers allowed */
  allowPrivate?: boolean;
}

/** The dead-letter state: no attempt is left (or the destination is refused); shown as such in the API and the dashboard. */
export const DEAD_LETTER = 'failed';

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

export class WebhookDispatcher {
  private readonly opts: Required<DispatcherOptions>;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private stopping = false;
  /** per-organisation queues of delivery ids, in round-robin order */
  private readonly queues = new Map<string, string[]>();
  /** ids queued in memory or in flight (never attempted twice at once) */
  private readonly known = new Set<string>();
  private readonly activeByOrg = new Map<string, number>();
  private readonly inFlight = new Map<string, InFlight>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: Db,
    opts: DispatcherOptions = {},
  ) {
    this.opts = {
      retryBaseMs: 30_000,
      retryCapMs: 3_600_000,
      sweepEveryMs: 15_000,
      attemptTimeoutMs: 10_000,
      concurrency: 8,
      perOrgConcurrency: 2,
      perOrgQueue: 50,
      drainMs: 10_000,
      allowPrivate: false,
      ...opts,
    };
  }

  get options(): Readonly<Required<DispatcherOptions>> {
    return this.opts;
  }

  start(): void {
    if (this.timer || this.stopping) return;
    this.timer = setInterval(() => void this.kick(), this.opts.sweepEveryMs);
    this.timer.unref();
  }

  /** How many attempts run now, in all and per organisation (for tests and metrics). */
  stats(): { inFlight: number; queued: number; byOrg: Map<string, number> } {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    return { inFlight: this.inFlight.size, queued, byOrg: new Map(this.activeByOrg) };
  }

  /**
   * Stops: no new sweep or attempt; attempts in flight get until `drainMs` to finish, then
   * are aborted. Nothing is lost: undelivered work stays in webhook_queue. Returns what was
   * left for the next start.
   */
  async stop(drainMs = this.opts.drainMs): Promise<{ aborted: number }> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.queues.clear();
    for (const id of [...this.known]) if (!this.inFlight.has(id)) this.known.delete(id);
    await this.sweeping?.catch(() => undefined);
    let aborted = 0;
    if (this.inFlight.size > 0) {
      const drained = Promise.all([...this.inFlight.values()].map((f) => f.done));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), drainMs)));
      const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'deadline') {
        for (const f of this.inFlight.values()) {
          aborted++;
          f.controller.abort();
        }
        await Promise.all([...this.inFlight.values()].map((f) => f.done));
      }
    }
    return { aborted };
  }

  /** Looks for due work now (or once more after the running sweep) and starts what it may. Never throws. */
  kick(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        try {
          await this.fill();
        } catch {
          // a database hiccup: the next sweep retries; deliveries stay queued in the database
        }
        this.pump();
      } while (this.sweepAgain && !this.stopping);
    })().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  /** Resolves when nothing is queued in memory or in flight (tests). */
  idle(): Promise<void> {
    if (this.inFlight.size === 0 && this.stats().queued === 0 && !this.sweeping) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Tops up each organisation's queue from the database, at most `perOrgQueue` ids each. */
  private async fill(now = new Date()): Promise<void> {
    const due = now.toISOString();
    const orgs = await this.store.db.selectFrom('webhook_queue').select('org_id').where('due_at', '<=', due).groupBy('org_id').execute();
    for (const { org_id: orgId } of orgs) {
      if (this.stopping) return;
      const q = this.queues.get(orgId) ?? [];
      const active = this.activeByOrg.get(orgId) ?? 0;
      const room = this.opts.perOrgQueue - q.length - active;
      if (room <= 0) continue;
      // ids already queued or in flight come back too: read past them
      const rows = await this.store.db
        .selectFrom('webhook_queue')
        .select('delivery_id')
        .where('org_id', '=', orgId)
        .where('due_at', '<=', due)
        .orderBy('due_at')
        .limit(room + q.length + active)
        .execute();
      let added = 0;
      for (const r of rows) {
        if (added >= room) break;
        if (this.known.has(r.delivery_id)) continue;
        this.known.add(r.delivery_id);
        q.push(r.delivery_id);
        added++;
      }
      if (q.length) this.queues.set(orgId, q);
    }
  }

  /** Starts attempts, round robin over organisations, within both concurrency limits. */
  private pump(): void {
    if (this.stopping) return;
    let started = true;
    while (started && this.inFlight.size < this.opts.concurrency) {
      started = false;
      for (const [orgId, q] of [...this.queues]) {
        if (this.inFlight.size >= this.opts.concurrency) break;
        if ((this.activeByOrg.get(orgId) ?? 0) >= this.opts.perOrgConcurrency) continue;
        const id = q.shift();
        if (q.length === 0) this.queues.delete(orgId);
        else {
          // this organisation goes to the back of the line
          this.queues.delete(orgId);
          this.queues.set(orgId, q);
        }
        if (!id) continue;
        this.launch(orgId, id);
        started = true;
      }
    }
    this.notifyIdle();
  }

  private launch(orgId: string, deliveryId: string): void {
    const controller = new AbortController();
    this.activeByOrg.set(orgId, (this.activeByOrg.get(orgId) ?? 0) + 1);
    const done = this.attempt(orgId, deliveryId, this.opts.attemptTimeoutMs, controller.signal)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        this.inFlight.delete(deliveryId);
        this.known.delete(deliveryId);
        const n = (this.activeByOrg.get(orgId) ?? 1) - 1;
        if (n > 0) this.activeByOrg.set(orgId, n);
        else this.activeByOrg.delete(orgId);
        if (this.stopping) return this.notifyIdle();
        // more of this organisation's backlog may be waiting in the database
        if (!this.queues.has(orgId)) void this.kick();
        this.pump();
      });
    this.inFlight.set(deliveryId, { controller, done });
  }

  private notifyIdle(): void {
    if (this.inFlight.size === 0 && this.queues.size === 0 && !this.sweeping) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  /**
   * One attempt of one delivery outside the queues (the "send test" route): answers within
   * `timeoutMs`, and a failure is queued for retry like any other.
   */
  async deliverNow(orgId: string, deliveryId: string, timeoutMs: number): Promise<AttemptResult | null> {
    if (this.known.has(deliveryId)) return null;
    this.known.add(deliveryId);
    try {
      return await this.attempt(orgId, deliveryId, Math.min(timeoutMs, this.opts.attemptTimeoutMs), AbortSignal.timeout(timeoutMs + 1000));
    } finally {
      this.known.delete(deliveryId);
    }
  }

  /** Attempts one delivery and records the outcome; an aborted attempt records nothing (it stays queued). */
  private async attempt(orgId: string, deliveryId: string, timeoutMs: number, signal: AbortSignal): Promise<AttemptResult | null> {
    const scope = { orgId };
    const job = await withOrg(this.store, scope, async (tx) =>
      tx
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
        .select(['d.id', 'd.body', 'd.event', 'd.attempts', 'd.status', 'w.url', 'w.secret', 'w.disabled_at'])
        .where('d.org_id', '=', orgId)
        .where('w.org_id', '=', orgId)
        .where('d.id', '=', deliveryId)
        .executeTakeFirst(),
    );
    if (!job || job.status !== 'pending' || job.disabled_at) {
      await this.store.db.deleteFrom('webhook_queue').where('delivery_id', '=', deliveryId).execute();
      return null;
    }
    const result = await sendWebhook({ url: job.url, secret: job.secret, body: job.body, event: job.event, deliveryId: job.id, timeoutMs, allowPrivate: this.opts.allowPrivate, signal });
    if (signal.aborted && !result.ok && this.stopping) return null; // shutting down: left queued for the next start
    const attempts = job.attempts + 1;
    const finished = new Date();
    const delay = result.ok || result.permanent ? null : retryDelayMs(attempts, this.opts.retryBaseMs, this.opts.retryCapMs);
    const status = result.ok ? 'delivered' : delay === null || attempts >= MAX_ATTEMPTS ? DEAD_LETTER : 'pending';
    const next = status === 'pending' ? new Date(finished.getTime() + delay!).toISOString() : null;
    await withOrg(this.store, scope, async (tx) => {
      await tx
        .updateTable('webhook_deliveries')
        .set({ status, attempts, last_status_code: result.statusCode, last_error: result.error, next_attempt_at: next, delivered_at: result.ok ? finished.toISOString() : null })
        .where('org_id', '=', orgId)
        .where('id', '=', deliveryId)
        .execute();
      await tx.deleteFrom('webhook_queue').where('delivery_id', '=', deliveryId).execute();
      if (next) await tx.insertInto('webhook_queue').values({ delivery_id: deliveryId, org_id: orgId, due_at: next }).execute();
    });
    return result;
  }
}

const dispatchers = new WeakMap<object, WebhookDispatcher>();

/** The one dispatcher of a database handle (created on first use). */
export function dispatcherFor(store: Db, opts?: DispatcherOptions): WebhookDispatcher {
  let d = dispatchers.get(store);
  if (!d) {
    d = new WebhookDispatcher(store, opts ?? optionsFromEnv());
    dispatchers.set(store, d);
  }
  return d;
}

export function optionsFromEnv(env = process.env): DispatcherOptions {
  const n = (v: string | undefined) => (v && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
  const o: DispatcherOptions = { allowPrivate: privateTargetsAllowed(env) };
  const set = <K extends keyof DispatcherOptions>(key: K, v: number | undefined, min: number) => {
    if (v !== undefined) (o as Record<string, unknown>)[key] = Math.max(min, v);
  };
  set('retryBaseMs', n(env.PALISADE_WEBHOOK_RETRY_BASE_MS), 0);
  set('sweepEveryMs', n(env.PALISADE_WEBHOOK_SWEEP_MS), 100);
  set('attemptTimeoutMs', n(env.PALISADE_WEBHOOK_TIMEOUT_MS), 100);
  set('concurrency', n(env.PALISADE_WEBHOOK_CONCURRENCY), 1);
  set('perOrgConcurrency', n(env.PALISADE_WEBHOOK_ORG_CONCURRENCY), 1);
  set('drainMs', n(env.PALISADE_WEBHOOK_DRAIN_MS), 0);
  return o;
}
