// The unchanged report: the same content as the host's last one (by its normalised hash, or
// by its raw body's key) only moves last-seen times (storage.touchHost / touchByRawKeyOneTrip).
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { withOrg, type Db, type OrgScope, type Tx } from '../../db/index.js';
import { NOTHING_PENDING, storageFor } from '../../db/storage.js';
import type { IngestResult } from './types.js';
import { withRetry } from './retry.js';


// Server rows are shared by every host that runs them: their last-seen time moves at most
// once a minute, so a fleet of re-reports does not queue on the popular rows.
export const SERVER_SEEN_GRANULARITY_MS = 60_000;

export const staleBefore = (now: string) => new Date(Date.parse(now) - SERVER_SEEN_GRANULARITY_MS).toISOString();

export const unchangedResult = (hostId: string, servers: number): IngestResult => ({ reportId: null, hostId, unchanged: true, servers, events: 0, alerts: 0 });

/** The host whose last accepted body has this key, touched; null when there is none. */
export async function touchByRawKey(tx: Tx, store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now: string): Promise<IngestResult | null> {
  const org = scope.orgId;
  const hostId = sql<string>`(select id from hosts where org_id = ${org} and last_raw_hash = ${raw.key} and ${sql.raw(NOTHING_PENDING)} limit 1)`;
  const host = await storageFor(store).touchHost(tx, org, hostId, now, staleBefore(now), { last_seen: now, last_scanned_at: raw.scannedAt });
  return host ? unchangedResult(host.id, host.server_count) : null;
}

/** touchByRawKey in a round trip of its own where the database has one (PostgreSQL), else undefined. */
export async function touchByRawKeyOneTrip(
  store: Db,
  scope: OrgScope,
  raw: { key: string; scannedAt: string },
  now: string,
): Promise<IngestResult | null | undefined> {
  const host = await storageFor(store).touchByRawKeyOneTrip(store, scope.orgId, raw, now, staleBefore(now));
  return host ? unchangedResult(host.id, host.server_count) : host;
}

/** A report with the same content as the host's last one: only last-seen times move (and the raw-body key). */
export async function touchUnchanged(
  tx: Tx,
  store: Db,
  scope: OrgScope,
  hostId: string,
  now: string,
  scannedAt: string,
  rawKey: string | null,
): Promise<IngestResult> {
  const set: Record<string, string> = rawKey
    ? { last_seen: now, last_scanned_at: scannedAt, last_raw_hash: rawKey }
    : { last_seen: now, last_scanned_at: scannedAt };
  const host = await storageFor(store).touchHost(tx, scope.orgId, sql<string>`${hostId}`, now, staleBefore(now), set);
  if (!host) throw new Error(`host ${hostId} vanished during ingest`);
  return unchangedResult(host.id, host.server_count);
}

/**
 * The fast path for a re-report: when the body is one this org already accepted as some
 * host's last report, only last-seen times move. Null when it is not.
 */
export async function ingestUnchangedBody(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now = new Date()): Promise<IngestResult | null> {
  const at = now.toISOString();
  const one = await touchByRawKeyOneTrip(store, scope, raw, at);
  if (one !== undefined) return one;
  return withOrg(store, scope, (tx) => touchByRawKey(tx, store, scope, raw, at));
}

/** How long an unchanged re-scan's last-seen move may wait to be written with others. */
export const SEEN_FLUSH_MS = 1000;
/** Hosts buffered before a write is started without waiting for the timer. */
const SEEN_FLUSH_HOSTS = 1000;

/**
 * Unchanged re-scans (what every daemon sends every 15 minutes) answered from one read: the
 * host is found by its last body's raw key and only its last-seen times must move, which this
 * buffer writes for all such hosts of an organisation at once, every SEEN_FLUSH_MS, in one
 * short transaction (instances, host rows, stale server rows), instead of one write
 * transaction per request. A crash loses at most that second of moves; the hosts' next
 * re-scans make them again.
 */
export class SeenBuffer {
  private readonly due = new Map<string, Map<string, { id: string; now: string; scannedAt: string }>>();
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Db,
    private readonly everyMs = SEEN_FLUSH_MS,
  ) {}

  mark(org: string, hostId: string, now: string, scannedAt: string): void {
    let hosts = this.due.get(org);
    if (!hosts) this.due.set(org, (hosts = new Map()));
    const cur = hosts.get(hostId);
    if (!cur) this.size++;
    if (!cur || cur.now < now) hosts.set(hostId, { id: hostId, now, scannedAt: cur && cur.scannedAt > scannedAt ? cur.scannedAt : scannedAt });
    if (this.size >= SEEN_FLUSH_HOSTS) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.everyMs);
      this.timer.unref();
    }
  }

  /** Writes every move buffered so far; resolves when written (failures are dropped: the next re-scan moves them). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const work = [...this.due];
    this.due.clear();
    this.size = 0;
    const storage = storageFor(this.store);
    this.running = this.running.then(async () => {
      for (const [org, hosts] of work) {
        const list = [...hosts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const now = list.reduce((m, h) => (h.now > m ? h.now : m), '');
        for (let i = 0; i < list.length; i += 500) {
          const part = list.slice(i, i + 500);
          await withRetry(() => storage.orgTransaction(this.store, org, (tx) => storage.touchHostsSeen(tx, org, part, now, staleBefore(now)))).catch(
            () => undefined,
          );
        }
      }
    });
    return this.running;
  }
}

const seenBuffers = new WeakMap<Db['db'], SeenBuffer>();

export function seenBufferFor(store: Db): SeenBuffer {
  let b = seenBuffers.get(store.db);
  if (!b) seenBuffers.set(store.db, (b = new SeenBuffer(store)));
  return b;
}

const SCANNED_AT = Buffer.from('"scannedAt"');
const BLANK_SCANNED_AT = Buffer.from('"scannedAt":""');
// the field's value as validate.ts's rawReportKey reads it, with only JSON's own whitespace
const SCANNED_AT_AT_START = /^"scannedAt"[ \t\r\n]*:[ \t\r\n]*"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))"/;

/**
 * rawReportKey (validate.ts) of a body still in its bytes: the same key for the same body,
 * without decoding it to a string or encoding it back for the digest. The body's first
 * "scannedAt" is found in the bytes (an ASCII name cannot match inside a multi-byte UTF-8
 * character, so it is the text's first one too) and its value read from a short window.
 * Null where rawReportKey might find a key this one does not (unusual whitespace around the
 * field, no such field): the caller then takes the text path, so a miss here costs only time.
 */
export function rawBodyKey(body: Buffer): { key: string; scannedAt: string } | null {
  const at = body.indexOf(SCANNED_AT);
  if (at < 0) return null;
  const m = SCANNED_AT_AT_START.exec(body.toString('latin1', at, Math.min(body.length, at + 96)));
  if (!m) return null;
  // every character the pattern matched is ASCII: one byte each
  const key = createHash('sha256').update(body.subarray(0, at)).update(BLANK_SCANNED_AT).update(body.subarray(at + m[0].length)).digest('hex');
  return { key, scannedAt: m[1]! };
}

/**
 * The unchanged-body fast path with the last-seen moves deferred: one read finds the host
 * whose last accepted body has this raw key; null when there is none.
 */
export async function acceptUnchangedBody(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now: string): Promise<IngestResult | null> {
  const host = await storageFor(store).findByRawKey(store, scope.orgId, raw.key);
  if (!host) return null;
  seenBufferFor(store).mark(scope.orgId, host.id, now, raw.scannedAt);
  return unchangedResult(host.id, host.server_count);
}

/**
 * An unchanged re-scan in other bytes: the host whose last stored report has this content
 * hash (validate.ts contentHash) moves its last-seen times (deferred, as above); null when
 * there is none or one of its reports still waits in the inbox.
 */
export async function acceptUnchangedContent(store: Db, scope: OrgScope, hash: string, scannedAt: string, now: string): Promise<IngestResult | null> {
  const host = await storageFor(store).findByReportHash(store, scope.orgId, hash);
  if (!host) return null;
  seenBufferFor(store).mark(scope.orgId, host.id, now, scannedAt);
  return unchangedResult(host.id, host.server_count);
}
