// Delivers pending webhook deliveries: right after an ingest raises alerts (kick) and on a
// timer for retries. Due deliveries are found in webhook_queue (ids and times only, no
// tenant data, so one sweep covers every organisation); each delivery is then read and
// recorded inside its own organisation's scope. No transaction is held while sending.
import { withOrg, type Db } from '../../db/index.js';
import { privateTargetsAllowed } from './address.js';
import { MAX_ATTEMPTS, retryDelayMs, sendWebhook } from './send.js';

export interface DispatcherOptions {
  /** first retry delay; doubles per attempt */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** how often the retry sweep runs */
  sweepEveryMs?: number;
  attemptTimeoutMs?: number;
  batch?: number;
  /** private and loopback receivers allowed */
  allowPrivate?: boolean;
}

export class WebhookDispatcher {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly opts: Required<DispatcherOptions>;

  constructor(
    private readonly store: Db,
    opts: DispatcherOptions = {},
  ) {
    this.opts = { retryBaseMs: 30_000, retryCapMs: 3_600_000, sweepEveryMs: 15_000, attemptTimeoutMs: 10_000, batch: 50, allowPrivate: false, ...opts };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.opts.sweepEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Run a sweep now (or once more after the running one). Never throws. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while ((await this.sweepOnce()) > 0) {
            /* keep going while there is due work */
          }
        } catch {
          // a database hiccup: the next sweep retries; deliveries stay queued
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Attempts every due delivery once; returns how many were attempted. */
  async sweepOnce(now = new Date()): Promise<number> {
    const due = await this.store.db.selectFrom('webhook_queue').select(['delivery_id', 'org_id']).where('due_at', '<=', now.toISOString()).orderBy('due_at').limit(this.opts.batch).execute();
    for (const item of due) await this.attempt(item.org_id, item.delivery_id);
    return due.length;
  }

  private async attempt(orgId: string, deliveryId: string): Promise<void> {
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
      return;
    }
    const result = await sendWebhook({ url: job.url, secret: job.secret, body: job.body, event: job.event, deliveryId: job.id, timeoutMs: this.opts.attemptTimeoutMs, allowPrivate: this.opts.allowPrivate });
    const attempts = job.attempts + 1;
    const finished = new Date();
    const delay = result.ok || result.permanent ? null : retryDelayMs(attempts, this.opts.retryBaseMs, this.opts.retryCapMs);
    const status = result.ok ? 'delivered' : delay === null || attempts >= MAX_ATTEMPTS ? 'failed' : 'pending';
    const next = status === 'pending' ? new Date(finished.getTime() + delay!).toISOString() : null;
    await withOrg(this.store, scope, async (tx) => {
      await tx
        .updateTable('webhook_deliveries')
        .set({ status, attempts, last_status_code: result.statusCode, last_error: result.error, next_attempt_at: next, delivered_at: result.ok ? finished.toISOString() : null })
        .where('org_id', '=', orgId)
        .where('id', '=', deliveryId)
        .execute();
      if (next) await tx.updateTable('webhook_queue').set({ due_at: next }).where('delivery_id', '=', deliveryId).execute();
      else await tx.deleteFrom('webhook_queue').where('delivery_id', '=', deliveryId).execute();
    });
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

function optionsFromEnv(env = process.env): DispatcherOptions {
  const n = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  const o: DispatcherOptions = { allowPrivate: privateTargetsAllowed(env) };
  const base = n(env.PALISADE_WEBHOOK_RETRY_BASE_MS);
  const sweep = n(env.PALISADE_WEBHOOK_SWEEP_MS);
  if (base !== undefined) o.retryBaseMs = base;
  if (sweep !== undefined) o.sweepEveryMs = Math.max(100, sweep);
  return o;
}
