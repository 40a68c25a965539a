// Accept, then process (issue 12). The route validates a report and stores it raw in the
// inbox (ingest_inbox, one insert: durable before the answer) and answers 202 with its id;
// this queue processes the inbox in the same process (an in-process queue, not worker
// threads: SQLite has one writer and the ingest's time is mostly its statements, so a
// thread pool would add copies of every body for little CPU to spread; see docs/deployment.md).
// - Exactly once: a report is stored with the inbox id as its id, and its inbox row is marked
//   done in the same transaction; a restart re-queues every row still pending.
// - Idempotent by (host, body hash): the same body again is the same inbox row.
// - Fair between organisations: deficit round robin by bytes, so one organisation's 4 MB
//   report waits while another's small ones go first, and per-key and per-organisation
//   quotas of pending reports and bytes (QuotaExceeded -> 429 with Retry-After).
import os from 'node:os';
import type { ScanReport } from '@palisade/core';
import { withOrg, type Db, type OrgScope, type Tx } from '../../db/index.js';
import { storageFor } from '../../db/storage.js';
import { chunk, chunkRows } from '../batch.js';
import { timeOrderedId } from '../ids.js';
import { finish, ingestParsed, prescore, PRESCORE_MIN_SERVERS, withRetry, type Stored } from './pipeline.js';
import { forgetToolRows } from './state.js';
import { acceptUnchangedBody, acceptUnchangedContent, seenBufferFor } from './touch.js';
import type { EntriesPlan } from './entries.js';
import type { IngestResult, Prescored } from './types.js';
import { redactedSliced } from './normalise.js';
import { parseReportText, rawReportKey, ReportRejected } from './validate.js';
import { acceptedOf, parseWorkerCount, ReportParsers } from './parse-pool.js';

export interface InboxTable {
  id: string;
  org_id: string;
  agent_key_id: string | null;
  host_key: string;
  body_hash: string;
  body: string | null;
  bytes: number;
  ip: string | null;
  status: 'pending' | 'done' | 'failed';
  received_at: string;
  processed_at: string | null;
  result: string | null;
  error: string | null;
}
type InboxDb = { ingest_inbox: InboxTable };
const inbox = (tx: Tx) => tx.withTables<InboxDb>();

export interface QueueLimits {
  /** transactions processing reports at once */
  concurrency: number;
  /** reports of one organisation stored in one transaction at most (Storage.ingestBatch) */
  batch: number;
  /**
   * bytes of report bodies processed at once: a report is started only while the running
   * ones and it stay within this budget (one report always runs, whatever its size), so the
   * memory a burst of large reports takes is bounded by the budget, not by their number
   */
  inflightBytes: number;
  /** bytes an organisation may take per round of the deficit round robin */
  quantum: number;
  orgReports: number;
  orgBytes: number;
  keyReports: number;
  keyBytes: number;
}

const envInt = (env: NodeJS.ProcessEnv, name: string, def: number) => {
  const v = Number(env[name]);
  return Number.isInteger(v) && v > 0 ? v : def;
};

export function queueLimits(dialect: Db['dialect'], env = process.env): QueueLimits {
  return {
    concurrency: envInt(env, 'PALISADE_INGEST_CONCURRENCY', storageFor({ dialect }).ingestConcurrency(os.availableParallelism())),
    batch: envInt(env, 'PALISADE_INGEST_BATCH', storageFor({ dialect }).ingestBatch),
    inflightBytes: envInt(env, 'PALISADE_INGEST_INFLIGHT_BYTES', 6 * 1024 * 1024),
    quantum: 256 * 1024,
    orgReports: envInt(env, 'PALISADE_INGEST_ORG_PENDING', 2000),
    orgBytes: envInt(env, 'PALISADE_INGEST_ORG_PENDING_BYTES', 128 * 1024 * 1024),
    keyReports: envInt(env, 'PALISADE_INGEST_KEY_PENDING', 1000),
    keyBytes: envInt(env, 'PALISADE_INGEST_KEY_PENDING_BYTES', 64 * 1024 * 1024),
  };
}

export class QuotaExceeded extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

const hostSlot = (job: Job): string => `${job.org}\u0000${job.host}`;

interface Job {
  id: string;
  org: string;
  /** the host the report is from: one host's reports run one at a time, in the order received */
  host: string;
  key: string | null;
  bytes: number;
}

export interface Accepted {
  id: string | null;
  status: 'pending' | 'done' | 'failed';
  /** set when the body was known and only last-seen times moved (no inbox row) */
  result?: IngestResult;
}

export interface ReportStatus {
  id: string;
  status: 'pending' | 'done' | 'failed';
  receivedAt: string;
  processedAt: string | null;
  result: IngestResult | null;
  error: string | null;
}

export interface ProcessHooks {
  /** runs in the report's transaction after it is stored (the audit entry) */
  afterWrite?: (tx: Tx, scope: OrgScope, job: { agentKeyId: string | null; ip: string | null }, result: IngestResult) => Promise<void>;
  onAlerts?: (scope: OrgScope, count: number) => void;
  onError?: (err: unknown, id: string) => void;
}

/** Reports processed between two runs of the statistics maintenance (SQLite PRAGMA optimize). */
const MAINTAIN_EVERY_REPORTS = 2000;
const MAINTAIN_EVERY_MS = 10 * 60_000;
/** How long one transaction of a batch keeps taking reports (runBatch): the connection's longest hold, about. */
const BATCH_MS = 50;
/** How long a body may wait for room in the in-flight budget before the agent is told to retry. */
const ACCEPT_WAIT_MS = 30_000;
/**
 * Body bytes of accepted reports whose parsed form is kept from accept to processing (the
 * oldest go first): a report accepted by this process is processed without reading its body
 * back from the inbox, parsing and validating it again. Beyond this (a long backlog), or after
 * a restart, the body is read from the inbox as before: the inbox stays the durable copy.
 * A parsed report takes several times its body's bytes of heap, and this memory is beside the
 * in-flight budget (PALISADE_INGEST_INFLIGHT_BYTES), so both bounds are small: about 200 typical
 * 35 KB reports, and no large report (re-reading one costs little next to storing it).
 */
export const PARSED_KEEP_BYTES = 8 * 1024 * 1024;
const PARSED_KEEP_MAX_REPORT_BYTES = 512 * 1024;

/** A report as accepted: validated, redacted, its content hash; exactly what the inbox row holds. */
interface ParsedReport {
  report: ScanReport;
  hash: string;
  /** protocol v2's plan of the report (entries.ts), when computed at accept or re-read */
  entries?: EntriesPlan | null;
  raw: string | null;
  agentKeyId: string | null;
  ip: string | null;
  bytes: number;
}

/** What is kept of a report from accept to processing: its parsed form, or (parsed on a worker thread) the inbox envelope, parsed when it is taken. */
interface KeptReport {
  report: ScanReport | null;
  envelope: string;
  hash: string;
  entries: EntriesPlan | null;
  raw: string | null;
  agentKeyId: string | null;
  ip: string | null;
  bytes: number;
}

export class IngestQueue {
  private readonly orgs = new Map<string, { jobs: Job[]; deficit: number; bytes: number }>();
  private readonly ring: string[] = [];
  private turn = 0;
  private readonly keys = new Map<string, { reports: number; bytes: number }>();
  private running = 0;
  /** reports whose CPU work runs without a processing slot (prepare), and those waiting to take one back (served before new reports) */
  private preparing = 0;
  private readonly slotWaiters: Array<() => void> = [];
  /** bytes of the reports running now, and the most seen at once (for tests and metrics) */
  private inflight = 0;
  peakInflightBytes = 0;
  /** the first report waiting for room in the in-flight budget */
  private reserved: Job | null = null;
  /** bodies waiting for room in the in-flight budget before they are parsed */
  private readonly roomWaiters: { bytes: number; admit: () => void }[] = [];
  /** hosts (org and host key) with a report running now */
  private readonly busyHosts = new Set<string>();
  private paused = false;
  private stopped = false;
  private readonly idle = new Set<() => void>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private sinceMaintain = 0;
  private readonly maintainTimer: NodeJS.Timeout;
  /** parsed reports accepted here and not yet processed, by inbox id (oldest first; PARSED_KEEP_BYTES) */
  private readonly parsed = new Map<string, KeptReport>();
  /** accept's CPU work (parse, validate, redact, hash) and the inbox's re-validation, on worker threads (parse-pool.ts) */
  readonly parsers = new ReportParsers(parseWorkerCount(), async (text, rawKey) => acceptedOf(text, rawKey, await redactedSliced(parseReportText(text))));
  private parsedBytes = 0;
  /** reports processed, in order (for tests and metrics) */
  processed = 0;
  /** reports processed from their parsed form kept since accept, and from the inbox body (for tests and metrics) */
  readonly sources = { kept: 0, inbox: 0 };
  /** transactions that stored several reports at once (for tests and metrics) */
  batches = 0;
  /** inbox rows waiting for the running inbox write (insertInbox) */
  private readonly inboxDue: Array<{ row: InboxTable; resolve: (a: { id: string; status: InboxTable['status']; fresh: boolean }) => void; reject: (err: unknown) => void }> = [];
  private inboxWriting = false;

  constructor(
    private readonly store: Db,
    private readonly hooks: ProcessHooks = {},
    readonly limits: QueueLimits = queueLimits(store.dialect),
  ) {
    this.maintainTimer = setInterval(() => void this.maintain(), MAINTAIN_EVERY_MS);
    this.maintainTimer.unref();
  }

  private async maintain(): Promise<void> {
    this.sinceMaintain = 0;
    await storageFor(this.store)
      .maintain(this.store.db, 'periodic')
      .catch(() => undefined);
  }

  /** Re-queues every report still pending in the inbox (after a restart). */
  async resume(): Promise<number> {
    const orgs = await this.store.db.selectFrom('org_registry').select('org_id').orderBy('org_id').execute();
    let n = 0;
    for (const { org_id: org } of orgs) {
      const rows = await withOrg(this.store, { orgId: org }, (tx) =>
        inbox(tx)
          .selectFrom('ingest_inbox')
          .select(['id', 'agent_key_id', 'bytes', 'host_key'])
          .where('org_id', '=', org)
          .where('status', '=', 'pending')
          .orderBy('id')
          .execute(),
      );
      for (const r of rows) this.enqueue({ id: r.id, org, host: r.host_key, key: r.agent_key_id, bytes: Number(r.bytes) });
      n += rows.length;
    }
    this.pump();
    return n;
  }

  /**
   * A raw body from an agent key: a body whose key matches a host's last one only moves
   * last-seen times (answered at once); any other is validated (ReportRejected), checked
   * against the quotas (QuotaExceeded) and stored in the inbox for processing.
   */
  async accept(
    scope: OrgScope,
    text: string,
    from: { agentKeyId: string | null; ip: string | null },
    now = new Date(),
    /** the body's raw key, already looked up by the caller and not an unchanged re-scan (routes/ingest.ts) */
    missed?: NonNullable<ReturnType<typeof rawReportKey>>,
  ): Promise<Accepted> {
    const at = now.toISOString();
    const raw = missed ?? rawReportKey(text);
    if (raw && !missed) {
      // an unchanged re-scan: one read; its last-seen moves are written with others' (touch.ts SeenBuffer)
      const fast = await acceptUnchangedBody(this.store, scope, raw, at);
      if (fast) return { id: null, status: 'done', result: fast };
    }
    // what is stored is already redacted (core's redaction, the second wall): no secret an
    // old or hostile agent sent reaches the disk, not even in the inbox's freed pages
    const bytes = Buffer.byteLength(text, 'utf8');
    // parsing a body costs several times its size: bodies parsed and reports processed at once
    // share the in-flight budget, so a burst of large bodies waits instead of piling up
    const release = await this.room(bytes);
    try {
      return await this.acceptParsed(scope, text, raw, bytes, from, at);
    } finally {
      release();
    }
  }

  private async acceptParsed(
    scope: OrgScope,
    text: string,
    raw: ReturnType<typeof rawReportKey>,
    bytes: number,
    from: { agentKeyId: string | null; ip: string | null },
    at: string,
  ): Promise<Accepted> {
    // parse, limits, schema, redaction, hashes: on a worker thread for all but small bodies
    // (on this thread, a large report's servers are redacted a slice per turn of the event loop)
    const body = await this.parsers.accept(text, raw?.key ?? null);
    const content = body.content;
    // the same content as the host's last report in other bytes (key order, a probe's
    // duration): an unchanged re-scan too, answered from one read by its content hash
    const same = await acceptUnchangedContent(this.store, scope, content, body.scannedAt, at);
    if (same) return { id: null, status: 'done', result: same };
    const stored = body.stored;
    this.checkQuota(scope.orgId, from.agentKeyId, bytes);
    const hash = body.bodyHash;
    const host = body.host;
    const id = timeOrderedId();
    const row = await this.insertInbox({
      id,
      org_id: scope.orgId,
      agent_key_id: from.agentKeyId,
      host_key: host,
      body_hash: hash,
      body: stored,
      bytes,
      ip: from.ip,
      status: 'pending',
      received_at: at,
      processed_at: null,
      result: null,
      error: null,
    });
    if (row.fresh) {
      this.keep(row.id, { report: body.report ?? null, envelope: stored, hash: content, entries: body.entries, raw: raw?.key ?? null, agentKeyId: from.agentKeyId, ip: from.ip, bytes });
      this.enqueue({ id: row.id, org: scope.orgId, host, key: from.agentKeyId, bytes });
      this.pump();
    }
    return { id: row.id, status: row.status };
  }

  /**
   * Stores an inbox row (durable when this resolves); the same (host, body) again is the row
   * already there (fresh: false). Rows accepted while a write is running wait and are written
   * together, one transaction and one multi-row INSERT per organisation (a group commit: on
   * SQLite one commit instead of one per report, on PostgreSQL one round trip of each kind).
   */
  private insertInbox(row: InboxTable): Promise<{ id: string; status: InboxTable['status']; fresh: boolean }> {
    return new Promise((resolve, reject) => {
      this.inboxDue.push({ row, resolve, reject });
      if (!this.inboxWriting) void this.writeInbox();
    });
  }

  private async writeInbox(): Promise<void> {
    this.inboxWriting = true;
    try {
      while (this.inboxDue.length > 0) {
        const due = this.inboxDue.splice(0);
        const byOrg = new Map<string, typeof due>();
        for (const d of due) {
          const list = byOrg.get(d.row.org_id);
          if (list) list.push(d);
          else byOrg.set(d.row.org_id, [d]);
        }
        await Promise.all(
          [...byOrg].map(async ([org, list]) => {
            try {
              const answers = await withRetry(() => storageFor(this.store).orgTransaction(this.store, org, (tx) => insertInboxRows(tx, org, list.map((d) => d.row))));
              list.forEach((d, i) => d.resolve(answers[i]!));
            } catch {
              // one at a time, so a row that fails fails alone
              for (const d of list)
                await withRetry(() => storageFor(this.store).orgTransaction(this.store, org, (tx) => insertInboxRows(tx, org, [d.row]))).then(
                  (a) => d.resolve(a[0]!),
                  (err: unknown) => d.reject(err),
                );
            }
          }),
        );
      }
    } finally {
      this.inboxWriting = false;
    }
  }

  /** Keeps a report's parsed form until it is processed (the oldest go first beyond PARSED_KEEP_BYTES). */
  private keep(id: string, p: KeptReport): void {
    if (p.bytes > PARSED_KEEP_MAX_REPORT_BYTES) return;
    this.parsed.set(id, p);
    this.parsedBytes += p.bytes;
    for (const [old, q] of this.parsed) {
      if (this.parsedBytes <= PARSED_KEEP_BYTES) break;
      this.parsed.delete(old);
      this.parsedBytes -= q.bytes;
    }
  }

  private takeParsed(id: string): ParsedReport | undefined {
    const p = this.parsed.get(id);
    if (!p) return undefined;
    this.parsed.delete(id);
    this.parsedBytes -= p.bytes;
    const { envelope, report, ...rest } = p;
    // the envelope was made by accept in this process from the validated, redacted report
    return { ...rest, report: report ?? (JSON.parse(envelope) as { report: ScanReport }).report };
  }

  /**
   * Waits (first come, first served) until `bytes` fit in the in-flight budget beside what is
   * being parsed and processed, leaving room for a reserved report; always admits into an
   * empty budget. After ACCEPT_WAIT_MS it gives up with QuotaExceeded (429, Retry-After).
   */
  private room(bytes: number): Promise<() => void> {
    const take = (): (() => void) => {
      this.addInflight(bytes);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        this.inflight -= bytes;
        this.wake();
      };
    };
    if (this.roomWaiters.length === 0 && this.fits(bytes)) return Promise.resolve(take());
    return new Promise((resolve, reject) => {
      const waiter = {
        bytes,
        admit: () => {
          clearTimeout(timer);
          resolve(take());
        },
      };
      const timer = setTimeout(() => {
        this.roomWaiters.splice(this.roomWaiters.indexOf(waiter), 1);
        reject(new QuotaExceeded('The server is busy with large reports; the agent keeps the report and sends it again later.', 10));
      }, ACCEPT_WAIT_MS);
      this.roomWaiters.push(waiter);
    });
  }

  /** Counts bytes now being parsed or stored (and the most seen at once). */
  private addInflight(bytes: number): void {
    this.inflight += bytes;
    if (this.inflight > this.peakInflightBytes) this.peakInflightBytes = this.inflight;
  }

  /** Whether `bytes` more fit now, leaving room for the reserved report unless it is this one. */
  private fits(bytes: number, self?: Job): boolean {
    const held = this.reserved && this.reserved !== self ? this.reserved.bytes : 0;
    if (this.inflight === 0 && held === 0) return true;
    return this.inflight + bytes + held <= this.limits.inflightBytes;
  }

  /** Room was freed: admit waiting bodies in order, then start what fits. */
  private wake(): void {
    while (this.roomWaiters.length > 0 && this.fits(this.roomWaiters[0]!.bytes)) this.roomWaiters.shift()!.admit();
    this.pump();
  }

  /** The status of a report this organisation sent. */
  async status(scope: OrgScope, id: string): Promise<ReportStatus | null> {
    const r = await storageFor(this.store).orgTransaction(this.store, scope.orgId, (tx) =>
      inbox(tx)
        .selectFrom('ingest_inbox')
        .select(['id', 'status', 'received_at', 'processed_at', 'result', 'error'])
        .where('org_id', '=', scope.orgId)
        .where('id', '=', id)
        .executeTakeFirst(),
    );
    if (!r) return null;
    return {
      id: r.id,
      status: r.status,
      receivedAt: r.received_at,
      processedAt: r.processed_at,
      result: r.result ? (JSON.parse(r.result) as IngestResult) : null,
      error: r.error,
    };
  }

  private checkQuota(org: string, key: string | null, bytes: number): void {
    const o = this.orgs.get(org);
    const k = key ? this.keys.get(key) : undefined;
    const l = this.limits;
    const over =
      (o && (o.jobs.length + 1 > l.orgReports || o.bytes + bytes > l.orgBytes) && 'organisation') ||
      (k && (k.reports + 1 > l.keyReports || k.bytes + bytes > l.keyBytes) && 'agent key');
    if (!over) return;
    // about how long the backlog ahead takes at the rate reports are processed
    const backlog = (o?.jobs.length ?? 0) + (k?.reports ?? 0);
    throw new QuotaExceeded(
      `This ${over} has too many reports waiting to be processed; the agent keeps the report and sends it again later.`,
      Math.min(300, Math.max(1, Math.ceil(backlog / 50))),
    );
  }

  private enqueue(job: Job): void {
    let o = this.orgs.get(job.org);
    if (!o) {
      this.orgs.set(job.org, (o = { jobs: [], deficit: 0, bytes: 0 }));
      this.ring.push(job.org);
    }
    o.jobs.push(job);
    o.bytes += job.bytes;
    if (job.key) {
      const k = this.keys.get(job.key) ?? { reports: 0, bytes: 0 };
      k.reports += 1;
      k.bytes += job.bytes;
      this.keys.set(job.key, k);
    }
  }

  /**
   * Deficit round robin by bytes: each visit adds a quantum to an organisation's allowance.
   * Within an organisation the oldest report whose host has none running goes first: two
   * reports of one host never run side by side, so they are stored in the order received
   * (run in parallel, a host that changed and changed back could end in the middle state).
   */
  private next(): Job | null {
    let blocked = 0;
    for (let guard = 0; this.ring.length > 0 && guard < 100_000; guard++) {
      if (this.turn >= this.ring.length) this.turn = 0;
      const org = this.ring[this.turn]!;
      const o = this.orgs.get(org)!;
      if (o.jobs.length === 0) {
        this.orgs.delete(org);
        this.ring.splice(this.turn, 1);
        continue;
      }
      const at = this.eligible(o.jobs);
      if (at === -1) {
        // every waiting report of this organisation waits for its host or for memory: try the next one
        if (++blocked >= this.ring.length) return null;
        this.turn++;
        continue;
      }
      blocked = 0;
      const job = o.jobs[at]!;
      if (job.bytes <= o.deficit) {
        o.deficit -= job.bytes;
        o.jobs.splice(at, 1);
        o.bytes -= job.bytes;
        if (o.jobs.length === 0) {
          this.orgs.delete(org);
          this.ring.splice(this.turn, 1);
        }
        return job;
      }
      o.deficit += this.limits.quantum;
      this.turn++;
    }
    return null;
  }

  /**
   * The oldest report that may start now: its host has none running, no older report of its
   * host waits (one host's reports keep their order), and it fits in the in-flight budget.
   * The first report that does not fit is reserved: later ones start only if they leave room
   * for it, so a stream of small reports cannot starve a large one.
   */
  private eligible(jobs: readonly Job[]): number {
    let waiting: Set<string> | null = null;
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]!;
      const slot = hostSlot(j);
      if (this.busyHosts.has(slot) || waiting?.has(slot)) continue;
      const fits = this.fits(j.bytes, j);
      if (!fits) {
        this.reserved ??= j;
        (waiting ??= new Set()).add(slot);
        continue;
      }
      return i;
    }
    return -1;
  }

  private pump(): void {
    // a report prepared off its slot takes one back before any new report starts
    while (this.slotWaiters.length > 0 && this.running < this.limits.concurrency) {
      this.running++;
      this.slotWaiters.shift()!();
    }
    while (!this.paused && !this.stopped && this.running < this.limits.concurrency) {
      const job = this.next();
      if (!job) break;
      if (this.reserved === job) this.reserved = null;
      this.running++;
      const batch = [job];
      this.startJob(job);
      // more of the same organisation's reports in the same transaction, within its deficit (so
      // no more than the round robin would have given it in a row), the in-flight budget and
      // one report per host
      for (let more = this.more(job.org, batch.length); more; more = this.more(job.org, batch.length)) {
        batch.push(more);
        this.startJob(more);
      }
      void (batch.length === 1 ? this.run(job) : this.runBatch(batch)).finally(() => {
        this.running--;
        for (const j of batch) this.endJob(j);
        if (this.running === 0 && this.preparing === 0 && this.ring.length === 0) for (const f of this.idle) f();
        // the next job (and any body waiting for room) on a fresh turn of the event loop: requests get their share
        setImmediate(() => this.wake());
      });
    }
  }

  /** The next report of this organisation that may join a batch of `size`, taken off its queue; null when none. */
  private more(org: string, size: number): Job | null {
    if (size >= this.limits.batch) return null;
    const o = this.orgs.get(org);
    if (!o || o.jobs.length === 0) return null;
    const at = this.eligible(o.jobs);
    if (at === -1) return null;
    const job = o.jobs[at]!;
    if (job.bytes > o.deficit || this.reserved === job) return null;
    o.deficit -= job.bytes;
    o.jobs.splice(at, 1);
    o.bytes -= job.bytes;
    if (o.jobs.length === 0) {
      this.orgs.delete(org);
      const i = this.ring.indexOf(org);
      this.ring.splice(i, 1);
      if (i < this.turn) this.turn--;
    }
    return job;
  }

  private startJob(job: Job): void {
    this.addInflight(job.bytes);
    this.busyHosts.add(hostSlot(job));
  }

  private endJob(job: Job): void {
    this.inflight -= job.bytes;
    this.busyHosts.delete(hostSlot(job));
    for (const f of this.waiters.get(job.id) ?? []) f();
    this.waiters.delete(job.id);
    if (job.key) {
      const k = this.keys.get(job.key);
      if (k) {
        k.reports -= 1;
        k.bytes -= job.bytes;
        if (k.reports <= 0) this.keys.delete(job.key);
      }
    }
  }

  /**
   * A large report's CPU work before its transaction (pipeline.ts prescore), done WITHOUT its
   * processing slot: meanwhile other reports start (on SQLite the one slot goes to them, so
   * another organisation's small reports are stored while the large one is re-scored); then it
   * takes a slot back, before any report that has not started. Its host stays busy throughout
   * (its next report waits) and its bytes stay in the in-flight budget.
   */
  private async prepare(scope: OrgScope, report: ScanReport): Promise<Prescored | undefined> {
    if (report.servers.length < PRESCORE_MIN_SERVERS) return undefined;
    this.running--;
    this.preparing++;
    setImmediate(() => this.wake());
    try {
      return await prescore(this.store, scope, report);
    } finally {
      await new Promise<void>((resolve) => {
        this.slotWaiters.push(resolve);
        this.pump();
      });
      this.preparing--;
    }
  }

  /**
   * Several reports of one organisation in ONE transaction (one commit: on SQLite most of a
   * small report's cost), each as the single path stores it, in order. Should any of them
   * fail, the whole transaction is rolled back and each report runs on its own (run), so one
   * bad report fails alone, exactly as without batching.
   */
  private async runBatch(jobs: readonly Job[]): Promise<void> {
    const scope = { orgId: jobs[0]!.org };
    const items: Array<{ job: Job; parsed: ParsedReport; pre?: Prescored }> = [];
    const alone: Job[] = [];
    for (const job of jobs) {
      const kept = this.takeParsed(job.id);
      let parsed = kept;
      if (!parsed) {
        try {
          parsed = await this.readParsed(job);
        } catch {
          alone.push(job); // its body could not be read now: it runs on its own (run reports the error)
          continue;
        }
      }
      if (!parsed) continue;
      if (kept) this.sources.kept++;
      else this.sources.inbox++;
      // a large report's CPU work before the transaction (see prescore)
      items.push({ job, parsed, pre: await this.prepare(scope, parsed.report) });
    }
    for (const job of alone) await this.run(job);
    // one transaction holds the (SQLite: only) connection: it takes reports only while it is
    // younger than BATCH_MS, then commits and the rest go in the next one, so what waits for
    // the connection (an accept's insert or look-up) waits for at most about that long
    for (let next = 0; next < items.length; ) {
      await new Promise((r) => setImmediate(r));
      const from = next;
      let stored: Array<Stored | null>;
      try {
        stored = await storageFor(this.store).orgTransaction(this.store, scope.orgId, async (tx) => {
          const out: Array<Stored | null> = [];
          const t0 = performance.now();
          for (let i = from; i < items.length && (i === from || performance.now() - t0 < BATCH_MS); i++) {
            // between reports, a turn of the event loop: requests (an accept's parsing) are not
            // held for the whole batch (the statements themselves never yield on SQLite)
            if (i > from) await new Promise((r) => setImmediate(r));
            const { job, parsed, pre } = items[i]!;
            out.push(await this.storeInTx(tx, job, parsed, new Date().toISOString(), pre));
          }
          return out;
        });
      } catch {
        forgetToolRows(this.store);
        // the whole transaction rolled back: its reports run on their own
        const failed = items.slice(from, items.length);
        for (const { job, parsed } of failed) await this.run(job, parsed);
        return;
      }
      next = from + stored.length;
      if (stored.length > 1) this.batches++;
      for (const s of stored) {
        if (!s) continue;
        this.processed++;
        await finish(this.store, scope, s, { onAlerts: this.hooks.onAlerts }).catch((err: unknown) => this.hooks.onError?.(err, s.result.reportId ?? ''));
        if (++this.sinceMaintain >= MAINTAIN_EVERY_REPORTS) await this.maintain();
      }
    }
  }

  /** One report inside the caller's transaction: stored, its inbox row marked done; null when it is no longer pending. */
  private async storeInTx(tx: Tx, job: Job, parsed: ParsedReport, now: string, prescored?: Prescored): Promise<Stored | null> {
    const scope = { orgId: job.org };
    const still = await inbox(tx).selectFrom('ingest_inbox').select('status').where('org_id', '=', job.org).where('id', '=', job.id).executeTakeFirst();
    if (still?.status !== 'pending') return null;
    const from = { agentKeyId: parsed.agentKeyId, ip: parsed.ip };
    const s = await ingestParsed(tx, this.store, scope, parsed.report, parsed.hash, now, {
      reportId: job.id,
      agentKeyId: from.agentKeyId,
      rawKey: parsed.raw,
      redacted: true,
      prescored,
      hostEntries: parsed.entries,
      afterWrite: this.hooks.afterWrite ? (t, result) => this.hooks.afterWrite!(t, scope, from, result) : undefined,
    });
    await inbox(tx)
      .updateTable('ingest_inbox')
      .set({ status: 'done', body: null, processed_at: new Date().toISOString(), result: JSON.stringify(s.result) })
      .where('org_id', '=', job.org)
      .where('id', '=', job.id)
      .execute();
    return s;
  }

  private async run(job: Job, given?: ParsedReport): Promise<void> {
    const scope = { orgId: job.org };
    try {
      // accepted by this process: its parsed form was kept; else (a restart, a long backlog) the
      // body is read from the inbox and parsed before the transaction (the CPU-heavy part holds no connection)
      const kept = given ?? this.takeParsed(job.id);
      const parsed = kept ?? (await this.readParsed(job));
      if (!parsed) return;
      if (!given) {
        if (kept) this.sources.kept++;
        else this.sources.inbox++;
      }
      // a large report's CPU work before the transaction (see prescore)
      const pre = await this.prepare(scope, parsed.report);
      await new Promise((r) => setImmediate(r));
      const now = new Date().toISOString();
      const stored = await withRetry(() => storageFor(this.store).orgTransaction(this.store, job.org, (tx) => this.storeInTx(tx, job, parsed, now, pre)));
      if (!stored) return;
      this.processed++;
      await finish(this.store, scope, stored, { onAlerts: this.hooks.onAlerts });
      if (++this.sinceMaintain >= MAINTAIN_EVERY_REPORTS) await this.maintain();
    } catch (err) {
      this.hooks.onError?.(err, job.id);
      // the report's transaction did not commit: marked failed with the reason logged; when
      // the server is stopping it stays pending and the next start processes it
      if (!this.stopped) await this.fail(job, 'The report could not be stored; see the server log.').catch(() => undefined);
    }
  }

  /** A pending report's body from the inbox, parsed and validated; undefined when it is not pending (or failed to parse: marked failed). */
  private async readParsed(job: Job): Promise<ParsedReport | undefined> {
    const row = await withOrg(this.store, { orgId: job.org }, (tx) =>
      inbox(tx)
        .selectFrom('ingest_inbox')
        .select(['body', 'status', 'agent_key_id', 'ip'])
        .where('org_id', '=', job.org)
        .where('id', '=', job.id)
        .executeTakeFirst(),
    );
    if (!row || row.status !== 'pending' || row.body === null) return undefined;
    try {
      // validated again (on a worker thread for all but small bodies): it was read back from the database
      const { report, rawKey, content, entries } = await this.parsers.reread(row.body);
      return { report, hash: content, entries, raw: rawKey, agentKeyId: row.agent_key_id, ip: row.ip, bytes: job.bytes };
    } catch (err) {
      await this.fail(job, err instanceof ReportRejected ? err.message : 'The report could not be read.');
      return undefined;
    }
  }

  private async fail(job: Job, message: string): Promise<void> {
    await withOrg(this.store, { orgId: job.org }, (tx) =>
      inbox(tx)
        .updateTable('ingest_inbox')
        .set({ status: 'failed', body: null, processed_at: new Date().toISOString(), error: message })
        .where('org_id', '=', job.org)
        .where('id', '=', job.id)
        .where('status', '=', 'pending')
        .execute(),
    );
  }

  /** Holds processing (accepting goes on); resume() with no restart needed: start(). */
  pause(): void {
    this.paused = true;
  }

  start(): void {
    this.paused = false;
    this.pump();
  }

  /** Resolves when this report was processed (or failed), or after `ms`. */
  waitFor(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  /** Writes the buffered last-seen moves of unchanged re-scans now. */
  flushSeen(): Promise<void> {
    return seenBufferFor(this.store).flush();
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (this.running === 0 && this.preparing === 0 && this.ring.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const f = () => {
        this.idle.delete(f);
        resolve();
      };
      this.idle.add(f);
    });
  }

  /** Stops taking jobs and waits (at most `ms`) for the running ones; what is left stays pending in the inbox. */
  async stop(ms = 10_000): Promise<void> {
    this.stopped = true;
    clearInterval(this.maintainTimer);
    await seenBufferFor(this.store).flush();
    for (const until = Date.now() + ms; this.running + this.preparing > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    await this.parsers.close();
  }
}

/**
 * Inbox rows of one organisation in one multi-row INSERT (a row whose host already sent the
 * same body is skipped by the unique index, also within the statement), then the rows that
 * were there already; the answer of each row in order.
 */
async function insertInboxRows(tx: Tx, org: string, rows: readonly InboxTable[]): Promise<Array<{ id: string; status: InboxTable['status']; fresh: boolean }>> {
  const made = new Set<string>();
  for (const part of chunkRows(rows)) {
    const r = await inbox(tx)
      .insertInto('ingest_inbox')
      .values(part)
      .onConflict((oc) => oc.columns(['org_id', 'host_key', 'body_hash']).doNothing())
      .returning('id')
      .execute();
    for (const x of r) made.add(x.id);
  }
  const key = (host: string, body: string) => `${host}\u0000${body}`;
  const missing = rows.filter((r) => !made.has(r.id));
  const known = new Map<string, { id: string; status: InboxTable['status'] }>();
  for (const part of chunk(missing, 200)) {
    const got = await inbox(tx)
      .selectFrom('ingest_inbox')
      .select(['id', 'status', 'host_key', 'body_hash'])
      .where('org_id', '=', org)
      .where((eb) => eb.or(part.map((r) => eb.and([eb('host_key', '=', r.host_key), eb('body_hash', '=', r.body_hash)]))))
      .execute();
    for (const g of got) known.set(key(g.host_key, g.body_hash), { id: g.id, status: g.status });
  }
  return rows.map((r) => {
    if (made.has(r.id)) return { id: r.id, status: 'pending' as const, fresh: true };
    const k = known.get(key(r.host_key, r.body_hash));
    if (!k) throw new Error('an inbox row was neither stored nor found');
    return { ...k, fresh: false };
  });
}

const queues = new WeakMap<Db['db'], IngestQueue>();

/** The ingest queue of this database (one per process), made with these hooks on first use. */
export function ingestQueueFor(store: Db, hooks?: ProcessHooks): IngestQueue {
  let q = queues.get(store.db);
  if (!q) queues.set(store.db, (q = new IngestQueue(store, hooks)));
  return q;
}
