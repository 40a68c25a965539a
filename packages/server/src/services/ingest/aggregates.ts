// Stage 6, aggregates: the denormalised columns the server list sorts and filters on (for the
// definitions a report changed, in the report's transaction), and what no report should wait
// for, done after its commit: last-seen moves of shared rows (never waiting for a lock), the
// organisation's package watch list, and the daily snapshot (periodic, not per report).
import { levelForScore, levelRank, type Level } from '@palisade/core';
import { sql } from 'kysely';
import type { Db, OrgScope, Tx } from '../../db/index.js';
import { storageFor } from '../../db/storage.js';
import { adv } from '../advisory-db.js';
import { chunk, chunkRows } from '../batch.js';
import { syncServerIndex } from '../server-index.js';
import { staleBefore } from './touch.js';
import { withOrg } from '../../db/index.js';

/** Recompute the denormalised columns the server list sorts and filters on. */
export async function refreshServerAggregates(
  tx: Tx,
  store: Pick<Db, 'dialect'> | Db['dialect'],
  scope: OrgScope,
  serverIds: readonly string[],
  now: string,
): Promise<void> {
  const dialect = typeof store === 'string' ? store : store.dialect;
  const storage = storageFor({ dialect });
  const org = scope.orgId;
  const sorted = [...new Set(serverIds)].sort(); // the same lock order in every transaction: no deadlock between them
  const clientList = storage.jsonArrayDistinct('client');
  for (const part of chunk(sorted)) {
    if (part.length === 0) continue;
    // Two ingests adding instances of one server at once would each count only their own
    // uncommitted rows and the last writer would win. Lock the rows first: the second waits,
    // and its counts (a fresh snapshot per statement) then include the first one's rows.
    await storage.lockInOrder(tx, 'servers', org, part);
    // Instances (count, hosts, max score, clients) and distinct findings, in one statement.
    const instances = tx
      .selectFrom('server_instances')
      .select((eb) => [
        'server_id',
        eb.fn.countAll<number>().as('instances'),
        eb.fn.count<number>('host_id').distinct().as('hosts'),
        eb.fn.max('score').as('score'),
        clientList.as('clients'),
      ])
      .where('org_id', '=', org)
      .where('server_id', 'in', part)
      .groupBy('server_id')
      .as('a');
    const stats = await tx
      .selectFrom('servers as s')
      .leftJoin(instances, 'a.server_id', 's.id')
      .select((eb) => [
        's.id',
        's.instance_count as cur_instances',
        's.host_count as cur_hosts',
        's.clients as cur_clients',
        's.finding_count as cur_findings',
        's.score as cur_score',
        's.last_seen as cur_last_seen',
        'a.instances',
        'a.hosts',
        'a.score',
        'a.clients',
        eb
          .selectFrom((q) =>
            q
              .selectFrom('findings as f')
              .select(['f.rule_id', 'f.evidence'])
              .distinct()
              .where('f.org_id', '=', org)
              .whereRef('f.server_id', '=', 's.id')
              .as('d'),
          )
          .select((q) => q.fn.countAll<number>().as('n'))
          .as('findings'),
      ])
      .where('s.org_id', '=', org)
      .where('s.id', 'in', part)
      .execute();
    const byId = new Map(stats.map((s) => [s.id, s]));
    // one multi-row UPDATE per chunk, of the rows whose columns change (a definition whose
    // counts, clients and score stay keeps its row; one live for a minute keeps its last_seen)
    const changed: Array<{
      id: string;
      instances: number;
      hosts: number;
      clients: string;
      findings: number;
      live: number;
      score: number;
      level: string;
      rank: number;
      seen: string;
    }> = [];
    for (const id of part) {
      const s = byId.get(id);
      const count = Number(s?.instances ?? 0);
      const clients = (count > 0 ? clientsOf(s?.clients) : []).sort().join(',');
      const score = Number(s?.score ?? 0);
      const level = levelForScore(score);
      const row = {
        id,
        instances: count,
        hosts: Number(s?.hosts ?? 0),
        clients,
        findings: Number(s?.findings ?? 0),
        live: count > 0 ? 1 : 0,
        score,
        level,
        rank: levelRank[level],
        seen: now,
      };
      const same =
        s &&
        Number(s.cur_instances) === row.instances &&
        Number(s.cur_hosts) === row.hosts &&
        s.cur_clients === row.clients &&
        Number(s.cur_findings) === row.findings &&
        (count === 0 || (Number(s.cur_score) === score && String(s.cur_last_seen) >= staleBefore(now)));
      if (!same) changed.push(row);
    }
    if (changed.length === 0) continue;
    // A definition no host runs any more keeps its last score and last_seen for its history page.
    const values = sql.join(
      changed.map((r) => sql`(${r.id}, ${r.instances}, ${r.hosts}, ${r.clients}, ${r.findings}, ${r.live}, ${r.score}, ${r.level}, ${r.rank}, ${r.seen})`),
    );
    await sql`with v(id, instances, hosts, clients, findings, live, score, level, rank, seen) as (values ${values})
      update servers set
        instance_count = cast(v.instances as integer), host_count = cast(v.hosts as integer), clients = v.clients, finding_count = cast(v.findings as integer),
        score = case when cast(v.live as integer) = 1 then cast(v.score as integer) else servers.score end,
        level = case when cast(v.live as integer) = 1 then v.level else servers.level end,
        level_rank = case when cast(v.live as integer) = 1 then cast(v.rank as integer) else servers.level_rank end,
        last_seen = case when cast(v.live as integer) = 1 then v.seen else servers.last_seen end
      from v
      where servers.org_id = ${org} and servers.id = v.id`.execute(tx);
  }
  // the server list's side tables follow these columns (same transaction, rows still locked)
  await syncServerIndex(tx, scope, sorted, dialect);
}

/** A JSON array of client ids as either database returns it (PostgreSQL parses json itself). */
function clientsOf(value: unknown): string[] {
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(list) ? list.filter((c): c is string => typeof c === 'string') : [];
}

/** Today's counts of server definitions by level, for the overview's trend line: one statement. */
export async function writeDailySnapshot(tx: Tx, scope: OrgScope, now: string): Promise<void> {
  const org = scope.orgId;
  const day = now.slice(0, 10);
  const byLevel = (level: Level) => sql<number>`count(case when level = ${level} then 1 end)`;
  await tx
    .insertInto('daily_snapshots')
    .columns(['org_id', 'day', 'critical', 'high', 'medium', 'low', 'none', 'hosts'])
    .expression((eb) =>
      eb
        .selectFrom('servers')
        .select([
          sql<string>`cast(${org} as text)`.as('org_id'),
          sql<string>`cast(${day} as text)`.as('day'),
          byLevel('critical').as('critical'),
          byLevel('high').as('high'),
          byLevel('medium').as('medium'),
          byLevel('low').as('low'),
          byLevel('none').as('none'),
          eb
            .selectFrom('hosts')
            .select((h) => h.fn.countAll<number>().as('n'))
            .where('org_id', '=', org)
            .as('hosts'),
        ])
        .where('org_id', '=', org)
        .where('instance_count', '>', 0),
    )
    .onConflict((oc) =>
      oc.columns(['org_id', 'day']).doUpdateSet((eb) => ({
        critical: eb.ref('excluded.critical'),
        high: eb.ref('excluded.high'),
        medium: eb.ref('excluded.medium'),
        low: eb.ref('excluded.low'),
        none: eb.ref('excluded.none'),
        hosts: eb.ref('excluded.hosts'),
      })),
    )
    .execute();
}

/** How long an organisation's daily snapshot may lag its reports. */
export const SNAPSHOT_EVERY_MS = 60_000;

/**
 * The daily snapshots, written per organisation at most once a SNAPSHOT_EVERY_MS (the first
 * report of an organisation or of a day at once), never inside a report's transaction:
 * writing it per report recounted the organisation's whole inventory every time and held the
 * one row of the day to each report's commit.
 */
export class DailySnapshots {
  private readonly due = new Map<string, string>(); // org -> the `now` of its latest report not yet counted
  private readonly written = new Map<string, { at: number; day: string }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Db,
    private readonly everyMs = SNAPSHOT_EVERY_MS,
  ) {}

  /** A report of this organisation was stored at `now` (an ISO time). */
  mark(orgId: string, now: string): void {
    this.due.set(orgId, now);
    const last = this.written.get(orgId);
    if (!last || last.day !== now.slice(0, 10) || Date.now() - last.at >= this.everyMs) void this.flush([orgId]);
    else this.arm();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.everyMs);
    this.timer.unref();
  }

  /** Writes the snapshots due (of these organisations, or all); resolves when written. */
  flush(orgIds?: readonly string[]): Promise<void> {
    const orgs = (orgIds ?? [...this.due.keys()]).filter((o) => this.due.has(o));
    const work = orgs.map((org) => {
      const now = this.due.get(org)!;
      this.due.delete(org);
      this.written.set(org, { at: Date.now(), day: now.slice(0, 10) });
      return { org, now };
    });
    this.running = this.running.then(async () => {
      for (const { org, now } of work) {
        await withOrg(this.store, { orgId: org }, (tx) => writeDailySnapshot(tx, { orgId: org }, now)).catch(() => {
          // a failed write (a conflict with a report's transaction, say) is tried again within a
          // second, not left until the next report after SNAPSHOT_EVERY_MS
          if (!this.due.has(org)) this.due.set(org, now);
          this.written.delete(org);
          this.retrySoon();
        });
      }
    });
    if (this.due.size > 0) this.arm();
    return this.running;
  }

  private retry: NodeJS.Timeout | null = null;
  private retrySoon(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.flush();
    }, 1000);
    this.retry.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = null;
    this.retry = null;
  }
}

const snapshotters = new WeakMap<Db['db'], DailySnapshots>();

export function dailySnapshotsFor(store: Db): DailySnapshots {
  let s = snapshotters.get(store.db);
  if (!s) snapshotters.set(store.db, (s = new DailySnapshots(store)));
  return s;
}

/** What a stored report leaves for after its commit. */
export interface AfterCommit {
  org: string;
  now: string;
  staleBefore: string;
  /** definitions the report runs unchanged whose last-seen time is a minute old */
  servers: string[];
  /** known tool rows whose last-seen time is a minute old */
  tools: string[];
  /** package keys the organisation runs (advisory re-matching) */
  packages: string[];
}

/** Package watch rows move at most once a day. */
const WATCH_GRANULARITY_MS = 86_400_000;

/**
 * After the report's commit: shared rows move their last-seen times (in id order, skipping
 * rows another transaction holds) and the package watch list learns new packages. Each is its
 * own short statement, so no report holds a shared row while it writes its own.
 */
export async function afterCommit(store: Db, work: AfterCommit): Promise<void> {
  const storage = storageFor(store);
  if (work.servers.length > 0)
    for (const part of chunk([...new Set(work.servers)].sort())) await storage.touchShared(store.db, 'servers', work.org, part, work.now, work.staleBefore);
  if (work.tools.length > 0)
    for (const part of chunk([...new Set(work.tools)].sort())) await storage.touchShared(store.db, 'tools', work.org, part, work.now, work.staleBefore);
  // a package this process wrote for the organisation within the day is left out: the statement
  // would change nothing (the row moves at most once a day), and on SQLite it is a write
  // transaction of its own per report
  const watched = watchMemoFor(store);
  const at = Date.parse(work.now);
  const keys = [...new Set(work.packages)].filter((k) => !(at - (watched.get(`${work.org}\u0000${k}`) ?? -Infinity) < WATCH_GRANULARITY_MS)).sort();
  if (keys.length > 0) {
    const dayAgo = new Date(at - WATCH_GRANULARITY_MS).toISOString();
    const rows = keys.map((package_key) => ({ package_key, org_id: work.org, last_seen: work.now }));
    // sorted rows: concurrent statements lock them in the same order
    for (const part of chunkRows(rows)) {
      await adv(store.db as unknown as Tx)
        .insertInto('advisory_watch')
        .values(part)
        .onConflict((oc) => oc.columns(['package_key', 'org_id']).doUpdateSet({ last_seen: work.now }).where('advisory_watch.last_seen', '<', dayAgo))
        .execute();
    }
    // written (or found fresh) now: remembered only after the statements succeeded
    for (const k of keys) watched.set(`${work.org}\u0000${k}`, at);
    if (watched.size > WATCH_MEMO_KEYS) for (const k of [...watched.keys()].slice(0, watched.size - WATCH_MEMO_KEYS)) watched.delete(k);
  }
}

/** (organisation, package) pairs whose watch row this process wrote, and when (ms), per database. */
const WATCH_MEMO_KEYS = 100_000;
const watchMemos = new WeakMap<Db['db'], Map<string, number>>();

function watchMemoFor(store: Db): Map<string, number> {
  let m = watchMemos.get(store.db);
  if (!m) watchMemos.set(store.db, (m = new Map()));
  return m;
}
