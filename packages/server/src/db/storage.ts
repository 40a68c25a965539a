// The dialect differences the ingest path uses, behind one small adapter, so the ingest
// services never branch on the dialect: per-host turns, row locks in a global order, the
// JSON aggregate, last-seen moves of shared rows that never wait, the unchanged-report
// touch, and statistics maintenance (ANALYZE / PRAGMA optimize on SQLite). The platform's few
// differences live here too (start-up, the setup lock, the owner-row lock, the agent-key
// look-up), so no service, route or app module branches on the dialect.
import { CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from './open.js';
import { checkConnectedRole, pgBatch, pgLiteral } from './open.js';
import type { Database } from './schema.js';
import { withLookup, withOrg, type Db, type Tx } from './scope.js';

/** Tables whose rows many reports share (definitions, tool rows): last-seen moves only. */
export type SharedTable = 'servers' | 'tools';

export interface TouchedHost {
  id: string;
  server_count: number;
}

/** A host found by its last offer hash (protocol v2), with its identity to check against the offer's. */
export interface OfferHost extends TouchedHost {
  hostname: string;
  os_user: string;
}

/** An agent key's row as verification reads it. */
export interface AgentKeyRow {
  id: string;
  org_id: string;
  key_hash: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface Storage {
  readonly dialect: DialectName;
  /**
   * Once the database is open: SQLite migrates its own file here; PostgreSQL was migrated
   * before the app connected, by the owner role (db/roles.ts), so nothing is left to do.
   */
  migrateOnOpen(store: Db): Promise<void>;
  /** A start-up warning when the connected role escapes row-level security (PostgreSQL), else null. */
  roleWarning(db: Kysely<Database>): Promise<string | null>;
  /** Where the data lives, for the start-up line. */
  describe(dataDir: string): string;
  /**
   * withOrg for the ingest's own transactions: PostgreSQL begins and scopes the transaction to
   * the organisation in ONE round trip (`begin; select set_config(...)`), where withOrg takes two;
   * SQLite: withOrg.
   */
  orgTransaction<T>(store: Db, orgId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** One transaction at a time, database-wide, passes this point until it ends (e.g. first-start setup). */
  exclusiveTurn(tx: Tx, name: string): Promise<void>;
  /** The rows a select reads stay locked to the end of the transaction (SQLite: one writer at a time already). */
  forUpdate<Q extends { forUpdate(): Q }>(query: Q): Q;
  /** The agent key with this hash, read under the key-lookup policy (PostgreSQL: `app.key_hash`), or undefined. */
  findAgentKey(store: Db, hash: string): Promise<AgentKeyRow | undefined>;
  /** Records when a key was last used (inside its organisation's scope). */
  markAgentKeyUsed(store: Db, row: Pick<AgentKeyRow, 'id' | 'org_id'>, at: string): Promise<void>;
  /** Two reports of the same host take turns (PostgreSQL: a transaction-scoped advisory lock; SQLite has one writer). */
  hostTurn(tx: Tx, key: string): Promise<void>;
  /** Locks these rows (sorted ids) for an update, in id order: the one global order every transaction keeps. */
  lockInOrder(tx: Tx, table: 'servers', org: string, sortedIds: readonly string[]): Promise<void>;
  /** The distinct values of a column as a JSON array (an aggregate). */
  jsonArrayDistinct(column: string): RawBuilder<unknown>;
  /**
   * Moves last_seen of shared rows to `now` where it is older than `staleBefore`, never waiting
   * for a row another transaction holds (that one is moving it anyway). Outside the report's
   * transaction, so a report never holds a shared row to its commit.
   */
  touchShared(db: Kysely<Database>, table: SharedTable, org: string, ids: readonly string[], now: string, staleBefore: string): Promise<void>;
  /** The host (an id or a subquery) and its instances move their last-seen times; the host's server rows when a minute old. */
  touchHost(tx: Tx, org: string, hostId: RawBuilder<string>, now: string, staleBefore: string, set: Record<string, string>): Promise<TouchedHost | null>;
  /**
   * The unchanged-body fast path in ONE round trip of its own (PostgreSQL); undefined when
   * this database has no such path (the caller then uses a transaction), null when no host's
   * last body has this key.
   */
  touchByRawKeyOneTrip(
    store: Db,
    org: string,
    raw: { key: string; scannedAt: string },
    now: string,
    staleBefore: string,
  ): Promise<TouchedHost | null | undefined>;
  /**
   * The host whose last accepted body has this raw key, read only (no transaction of its own
   * where the database allows: PostgreSQL runs it as one round trip). Null when none.
   */
  findByRawKey(store: Db, org: string, key: string): Promise<TouchedHost | null>;
  /**
   * The host whose last stored report has this content hash (hosts.last_report_hash; the hash
   * covers the host's name and user), read only, one round trip where the database allows.
   * Like findByRawKey, null while a report of that host waits in the inbox (the re-scan then
   * queues behind it, so a host that changes and changes back ends in its last state).
   */
  findByReportHash(store: Db, org: string, hash: string): Promise<TouchedHost | null>;
  /**
   * Protocol v2 (services/ingest/offer.ts): the host whose last processed report had this
   * offer hash (host_entries, migration 030, still those of hosts.last_report_hash), with its
   * name and user; null when none or while a report of it waits in the inbox. Read only, one
   * round trip where the database allows.
   */
  findByOfferHash(store: Db, org: string, hash: string): Promise<OfferHost | null>;
  /** findByOfferHash by the raw key of the offer's body (host_entries.offer_raw, migration 031). */
  findByOfferRawKey(store: Db, org: string, key: string): Promise<OfferHost | null>;
  /**
   * Deferred last-seen moves of many hosts at once (unchanged re-scans, buffered): each
   * host's instances, then the host row (never moving a time backwards), then its server
   * rows a minute old (never waiting for a row another transaction holds). Hosts sorted by id.
   */
  touchHostsSeen(tx: Tx, org: string, hosts: ReadonlyArray<{ id: string; now: string; scannedAt: string }>, now: string, staleBefore: string): Promise<void>;
  /**
   * Keeps the planner's statistics fresh: 'migrated' after migrations (full ANALYZE),
   * 'bulk' after many rows changed, 'periodic' from a timer. Cheap when nothing changed.
   */
  maintain(db: Kysely<Database>, when: 'migrated' | 'bulk' | 'periodic'): Promise<void>;
  /**
   * How many reports one process stores at once by default: SQLite has one writer (1);
   * PostgreSQL takes concurrent writers (twice the cores, at least 2).
   */
  ingestConcurrency(cores: number): number;
  /**
   * How many queued reports of one organisation one transaction stores at most. SQLite: 8
   * (one writer: a commit per batch instead of per report). PostgreSQL: 1 (concurrent
   * transactions instead; a batch would hold several reports' shared-row locks, taken in no
   * one global order, to its commit).
   */
  readonly ingestBatch: number;
  /**
   * The key a client id is indexed under (server_clients), so an equality look-up matches what
   * the database's LIKE matched: ASCII-case-insensitive on SQLite, case-sensitive on PostgreSQL.
   */
  clientKey(client: string): string;
}

/** ASCII letters to lower case and nothing else: exactly the folding of SQLite's LIKE. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * No report of the host (`hosts` in the enclosing query) waits in the inbox: an unchanged
 * re-scan is only "unchanged" against the host's last state once everything it sent before
 * is stored. The inbox's (org_id, host_key, body_hash) index serves it.
 */
export const NOTHING_PENDING = `not exists (select 1 from ingest_inbox as q where q.org_id = hosts.org_id and q.host_key = hosts.hostname || '|' || hosts.os_user and q.status = 'pending')`;

const assignments = (set: Record<string, string>) => sql.join(Object.entries(set).map(([column, value]) => sql`${sql.ref(column)} = ${value}`));

const KEY_COLUMNS = ['id', 'org_id', 'key_hash', 'revoked_at', 'last_used_at'] as const;

const SQLITE_FIND_KEY = `select ${KEY_COLUMNS.join(', ')} from agent_keys where key_hash = ?`;
// (NOTHING_PENDING names the hosts table unaliased)
const FIND_BY_OFFER = (column: 'offer_hash' | 'offer_raw', org: string, hash: string) =>
  `select hosts.id, hosts.server_count, hosts.hostname, hosts.os_user from host_entries as e join hosts on hosts.org_id = e.org_id and hosts.id = e.host_id and hosts.last_report_hash = e.report_hash where e.org_id = ${org} and e.${column} = ${hash} and ${NOTHING_PENDING} limit 1`;
const SQLITE_FIND_BY_OFFER_HASH = FIND_BY_OFFER('offer_hash', '?', '?');
const SQLITE_FIND_BY_OFFER_RAW = FIND_BY_OFFER('offer_raw', '?', '?');
const offerHostOf = (r: OfferHost | undefined): OfferHost | null => (r ? { id: r.id, server_count: Number(r.server_count), hostname: r.hostname, os_user: r.os_user } : null);

const SQLITE_FIND_BY_RAW_KEY = `select id, server_count from hosts where org_id = ? and last_raw_hash = ? and ${NOTHING_PENDING} limit 1`;

const sqliteStorage: Storage = {
  dialect: 'sqlite',
  async migrateOnOpen(store) {
    // (loaded here: migrate.ts uses this adapter too)
    const { migrate } = await import('./migrate.js');
    await migrate(store);
  },
  async roleWarning() {
    return null;
  },
  describe: (dataDir) => `SQLite in ${dataDir}`,
  orgTransaction: (store, orgId, fn) => withOrg(store, { orgId }, fn),
  async exclusiveTurn() {
    // one writer at a time: a write transaction already excludes every other
  },
  forUpdate: (query) => query,
  // one read needs no transaction
  // every agent request reads its key: the statement's text is fixed, so no query is built per call
  findAgentKey: async (store, hash) => (await store.db.executeQuery<AgentKeyRow>(CompiledQuery.raw(SQLITE_FIND_KEY, [hash]))).rows[0],
  async markAgentKeyUsed(store, row, at) {
    await store.db.updateTable('agent_keys').set({ last_used_at: at }).where('id', '=', row.id).where('org_id', '=', row.org_id).execute();
  },
  async hostTurn() {
    // one writer at a time: nothing to take
  },
  async lockInOrder() {
    // one writer at a time: no lock order to keep
  },
  jsonArrayDistinct: (column) => sql<unknown>`json_group_array(distinct ${sql.ref(column)})`,
  async touchShared(db, table, org, ids, now, staleBefore) {
    if (ids.length === 0) return;
    await sql`update ${sql.table(table)} set last_seen = ${now} where org_id = ${org} and last_seen < ${staleBefore} and id in (${sql.join(ids)})`.execute(db);
  },
  async touchHost(tx, org, hostId, now, staleBefore, set) {
    const r = await sql<TouchedHost>`update hosts set ${assignments(set)} where org_id = ${org} and id = ${hostId} returning id, server_count`.execute(tx);
    const host = r.rows[0];
    if (!host) return null;
    await sql`update server_instances set last_seen = ${now} where org_id = ${org} and host_id = ${host.id}`.execute(tx);
    await sql`update servers set last_seen = ${now} where org_id = ${org} and last_seen < ${staleBefore}
      and id in (select server_id from server_instances where org_id = ${org} and host_id = ${host.id})`.execute(tx);
    return { id: host.id, server_count: Number(host.server_count) };
  },
  async touchByRawKeyOneTrip() {
    return undefined;
  },
  async findByRawKey(store, org, key) {
    const r = await store.db.executeQuery<TouchedHost>(CompiledQuery.raw(SQLITE_FIND_BY_RAW_KEY, [org, key]));
    const host = r.rows[0];
    return host ? { id: host.id, server_count: Number(host.server_count) } : null;
  },
  async findByReportHash(store, org, hash) {
    const r = await sql<TouchedHost>`select id, server_count from hosts where org_id = ${org} and last_report_hash = ${hash} and ${sql.raw(NOTHING_PENDING)} limit 1`.execute(store.db);
    const host = r.rows[0];
    return host ? { id: host.id, server_count: Number(host.server_count) } : null;
  },
  async findByOfferHash(store, org, hash) {
    return offerHostOf((await store.db.executeQuery<OfferHost>(CompiledQuery.raw(SQLITE_FIND_BY_OFFER_HASH, [org, hash]))).rows[0]);
  },
  async findByOfferRawKey(store, org, key) {
    return offerHostOf((await store.db.executeQuery<OfferHost>(CompiledQuery.raw(SQLITE_FIND_BY_OFFER_RAW, [org, key]))).rows[0]);
  },
  async touchHostsSeen(tx, org, hosts, now, staleBefore) {
    if (hosts.length === 0) return;
    const ids = sql.join(hosts.map((h) => h.id));
    await sql`update server_instances set last_seen = ${now} where org_id = ${org} and host_id in (${ids}) and last_seen < ${now}`.execute(tx);
    for (const h of hosts) {
      await sql`update hosts set last_seen = ${h.now}, last_scanned_at = case when last_scanned_at is null or last_scanned_at < ${h.scannedAt} then ${h.scannedAt} else last_scanned_at end
        where org_id = ${org} and id = ${h.id} and last_seen < ${h.now}`.execute(tx);
    }
    await sql`update servers set last_seen = ${now} where org_id = ${org} and last_seen < ${staleBefore}
      and id in (select server_id from server_instances where org_id = ${org} and host_id in (${ids}))`.execute(tx);
  },

  async maintain(db, when) {
    // 'migrated': a full ANALYZE (fast on a fresh or small database; after a migration the
    // shape of the data may have changed). Otherwise PRAGMA optimize, which re-analyzes only
    // the tables whose row counts moved a lot since the last analysis; analysis_limit keeps
    // each index's pass bounded on a big inventory.
    await sql`pragma analysis_limit = 1000`.execute(db);
    if (when === 'migrated') await sql`analyze`.execute(db);
    else await sql`pragma optimize`.execute(db);
  },
  ingestConcurrency: () => 1,
  ingestBatch: 8,
  clientKey: asciiLower,
};

/** PostgreSQL: the host whose `column` (a hex digest) has this value, nothing of it pending, in one round trip. */
async function pgFindHost(store: Db, orgId: string, column: 'last_raw_hash' | 'last_report_hash', value: string): Promise<TouchedHost | null> {
  const org = pgLiteral(orgId, 'id');
  const k = pgLiteral(value, 'hex');
  const rows =
    org && k
      ? await pgBatch(store.db, [
          `select set_config('app.org_id', ${org}, true)`,
          `select id, server_count from hosts where org_id = ${org} and ${column} = ${k} and ${NOTHING_PENDING} limit 1`,
        ])
      : null;
  if (!rows) {
    return withOrg(store, { orgId }, async (tx) => {
      const r = await sql<TouchedHost>`select id, server_count from hosts where org_id = ${orgId} and ${sql.ref(column)} = ${value} and ${sql.raw(NOTHING_PENDING)} limit 1`.execute(tx);
      return r.rows[0] ? { id: r.rows[0].id, server_count: Number(r.rows[0].server_count) } : null;
    });
  }
  const host = rows[1]![0] as TouchedHost | undefined;
  return host ? { id: host.id, server_count: Number(host.server_count) } : null;
}

/** PostgreSQL: the host by its last offer's hash or raw key (protocol v2), in one round trip. */
async function pgFindByOffer(store: Db, orgId: string, column: 'offer_hash' | 'offer_raw', value: string): Promise<OfferHost | null> {
  const org = pgLiteral(orgId, 'id');
  const k = pgLiteral(value, 'hex');
  const rows = org && k ? await pgBatch(store.db, [`select set_config('app.org_id', ${org}, true)`, FIND_BY_OFFER(column, org, k)]) : null;
  if (rows) return offerHostOf(rows[1]![0] as OfferHost | undefined);
  return withOrg(store, { orgId }, async (tx) => {
    const r = await sql<OfferHost>`select hosts.id, hosts.server_count, hosts.hostname, hosts.os_user from host_entries as e
      join hosts on hosts.org_id = e.org_id and hosts.id = e.host_id and hosts.last_report_hash = e.report_hash
      where e.org_id = ${orgId} and ${sql.ref(`e.${column}`)} = ${value} and ${sql.raw(NOTHING_PENDING)} limit 1`.execute(tx);
    return offerHostOf(r.rows[0]);
  });
}

const postgresStorage: Storage = {
  dialect: 'postgres',
  async migrateOnOpen() {
    // migrated by the owner role before the app connected (db/roles.ts)
  },
  async roleWarning(db) {
    const role = await checkConnectedRole(db);
    if (!role.superuser && !role.bypassRls) return null;
    return `WARNING: connected to PostgreSQL as role "${role.role}", which is ${role.superuser ? 'a superuser' : 'allowed to BYPASSRLS'}: row-level security does not protect one organisation's data from another. Create a plain runtime role (CREATE ROLE palisade_runtime LOGIN PASSWORD '...' NOSUPERUSER NOBYPASSRLS), point DATABASE_URL at it and DATABASE_MIGRATION_URL at the owner of the database.`;
  },
  describe: () => 'PostgreSQL',
  async orgTransaction(store, orgId, fn) {
    const org = pgLiteral(orgId, 'id');
    if (!org) return withOrg(store, { orgId }, fn);
    return store.db.connection().execute(async (conn) => {
      // no parameters: the simple query protocol, both statements in one message
      await sql.raw(`begin; select set_config('app.org_id', ${org}, true)`).execute(conn);
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        // (a Kysely on this one connection, inside the transaction begun above: what a Transaction is)
        result = await fn(conn as unknown as Tx);
      } catch (err) {
        await sql.raw('rollback').execute(conn).catch(() => undefined);
        throw err;
      }
      await sql.raw('commit').execute(conn);
      return result;
    });
  },
  async exclusiveTurn(tx, name) {
    await sql`select pg_advisory_xact_lock(hashtext(${`palisade:${name}`}))`.execute(tx);
  },
  forUpdate: (query) => query.forUpdate(),
  async findAgentKey(store, hash) {
    // one round trip: the setting and the read in one implicit transaction
    const literal = pgLiteral(hash, 'hex');
    const batch = literal && (await pgBatch(store.db, [`select set_config('app.key_hash', ${literal}, true)`, `select ${KEY_COLUMNS.join(', ')} from agent_keys where key_hash = ${literal}`]));
    if (batch) return batch[1]![0] as AgentKeyRow | undefined;
    return withLookup(store, { 'app.key_hash': hash }, (tx) => tx.selectFrom('agent_keys').select(KEY_COLUMNS).where('key_hash', '=', hash).executeTakeFirst());
  },
  async markAgentKeyUsed(store, row, at) {
    const org = pgLiteral(row.org_id, 'id');
    const id = pgLiteral(row.id, 'id');
    const when = pgLiteral(at, 'time');
    if (org && id && when && (await pgBatch(store.db, [`select set_config('app.org_id', ${org}, true)`, `update agent_keys set last_used_at = ${when} where id = ${id} and org_id = ${org}`]))) return;
    await withLookup(store, {}, async (tx) => {
      await sql`select set_config('app.org_id', ${row.org_id}, true)`.execute(tx);
      await tx.updateTable('agent_keys').set({ last_used_at: at }).where('id', '=', row.id).where('org_id', '=', row.org_id).execute();
    });
  },
  async hostTurn(tx, key) {
    await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
  },
  async lockInOrder(tx, table, org, sortedIds) {
    if (sortedIds.length === 0) return;
    // NO KEY UPDATE does not conflict with the key-share locks that inserts referencing the rows take.
    await sql`select id from ${sql.table(table)} where org_id = ${org} and id in (${sql.join(sortedIds)}) order by id for no key update`.execute(tx);
  },
  jsonArrayDistinct: (column) => sql<unknown>`json_agg(distinct ${sql.ref(column)})`,
  async touchShared(db, table, org, ids, now, staleBefore) {
    if (ids.length === 0) return;
    await db.transaction().execute(async (tx) => {
      await sql`select set_config('app.org_id', ${org}, true), set_config('synchronous_commit', 'off', true)`.execute(tx);
      // in id order, skipping rows another transaction holds
      await sql`update ${sql.table(table)} set last_seen = ${now} where org_id = ${org} and id in (
        select id from ${sql.table(table)} where org_id = ${org} and last_seen < ${staleBefore} and id in (${sql.join(ids)})
        order by id for no key update skip locked)`.execute(tx);
    });
  },
  async touchHost(tx, org, hostId, now, staleBefore, set) {
    const r = await sql<{ id: string; server_count: number; stale: number | string }>`
      with h as (
        update hosts set ${assignments(set)} where org_id = ${org} and id = ${hostId} returning id, server_count
      ), i as (
        update server_instances set last_seen = ${now} where org_id = ${org} and host_id in (select id from h) returning server_id
      )
      select h.id, h.server_count, (select count(*) from servers s where s.org_id = ${org} and s.last_seen < ${staleBefore} and s.id in (select server_id from i)) as stale from h`.execute(
      tx,
    );
    const host = r.rows[0];
    if (!host) return null;
    if (Number(host.stale) > 0) {
      // shared rows: in id order, never waiting for one another report holds
      await sql`
        update servers set last_seen = ${now} where org_id = ${org} and id in (
          select id from servers where org_id = ${org} and last_seen < ${staleBefore}
            and id in (select server_id from server_instances where org_id = ${org} and host_id = ${host.id})
          order by id for no key update skip locked)`.execute(tx);
    }
    return { id: host.id, server_count: Number(host.server_count) };
  },
  async touchByRawKeyOneTrip(store, orgId, raw, now, staleBefore) {
    const org = pgLiteral(orgId, 'id');
    const key = pgLiteral(raw.key, 'hex');
    const scannedAt = pgLiteral(raw.scannedAt, 'time');
    const at = pgLiteral(now, 'time');
    const stale = pgLiteral(staleBefore, 'time');
    if (!org || !key || !scannedAt || !at || !stale) return undefined;
    const hostId = `(select id from hosts where org_id = ${org} and last_raw_hash = ${key} and ${NOTHING_PENDING} limit 1)`;
    const rows = await pgBatch(store.db, [
      // Nothing but last-seen times move here, so the commit does not wait for its WAL flush
      // (synchronous_commit off, for this transaction only): a crash in the next fraction of a
      // second can lose the move, never half of it, and the host's next report makes it again.
      `select set_config('app.org_id', ${org}, true), set_config('synchronous_commit', 'off', true)`,
      `with h as (update hosts set last_seen = ${at}, last_scanned_at = ${scannedAt} where org_id = ${org} and id = ${hostId} returning id, server_count),
         i as (update server_instances set last_seen = ${at} where org_id = ${org} and host_id in (select id from h) returning 1)
       select h.id, h.server_count from h`,
      `update servers set last_seen = ${at} where org_id = ${org} and last_seen < ${at} and id in (
         select id from servers where org_id = ${org} and last_seen < ${stale}
           and id in (select server_id from server_instances where org_id = ${org} and host_id = ${hostId})
         order by id for no key update skip locked)`,
    ]);
    if (!rows) return undefined;
    const host = rows[1]![0] as { id: string; server_count: number } | undefined;
    return host ? { id: host.id, server_count: Number(host.server_count) } : null;
  },
  findByRawKey: (store, orgId, key) => pgFindHost(store, orgId, 'last_raw_hash', key),
  findByReportHash: (store, orgId, hash) => pgFindHost(store, orgId, 'last_report_hash', hash),
  findByOfferHash: (store, orgId, hash) => pgFindByOffer(store, orgId, 'offer_hash', hash),
  findByOfferRawKey: (store, orgId, key) => pgFindByOffer(store, orgId, 'offer_raw', key),
  async touchHostsSeen(tx, org, hosts, now, staleBefore) {
    if (hosts.length === 0) return;
    // only last-seen times move: the commit need not wait for its WAL flush (a crash loses a
    // second of moves, which the hosts' next re-scans make again)
    await sql`select set_config('synchronous_commit', 'off', true)`.execute(tx);
    const ids = sql.join(hosts.map((h) => h.id));
    // the same order as a report's own transaction: instances, then the host row
    await sql`update server_instances set last_seen = ${now} where org_id = ${org} and host_id in (${ids}) and last_seen < ${now}`.execute(tx);
    const values = sql.join(hosts.map((h) => sql`(${h.id}, ${h.now}, ${h.scannedAt})`));
    await sql`update hosts as h set last_seen = v.now, last_scanned_at = case when h.last_scanned_at is null or h.last_scanned_at < v.at then v.at else h.last_scanned_at end
      from (values ${values}) as v(id, now, at) where h.org_id = ${org} and h.id = v.id and h.last_seen < v.now`.execute(tx);
    await sql`update servers set last_seen = ${now} where org_id = ${org} and id in (
      select id from servers where org_id = ${org} and last_seen < ${staleBefore}
        and id in (select server_id from server_instances where org_id = ${org} and host_id in (${ids}))
      order by id for no key update skip locked)`.execute(tx);
  },
  async maintain(db) {
    // Autovacuum keeps PostgreSQL's statistics when it is on (the default), but it may be off
    // or behind a bulk change (issue 12: without statistics or a visibility map the list's
    // index-only walks read the heap of every row). So the product checks its own tables by
    // autovacuum's default thresholds and refreshes those past them, one table at a time (never
    // a database-wide ANALYZE: that would also take the shared catalogs). Only tables this role
    // owns: the owner at start-up (migrate); a separate runtime role owns none and leaves it to
    // autovacuum. Nothing past a threshold: one catalog read.
    const due = await sql<{ relname: string; vacuum: boolean; analyze: boolean }>`
      select s.relname,
        s.n_ins_since_vacuum > 1000 + 0.2 * s.n_live_tup or s.n_dead_tup > 50 + 0.2 * s.n_live_tup as vacuum,
        s.n_mod_since_analyze > 50 + 0.1 * s.n_live_tup as analyze
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      where s.schemaname = current_schema() and pg_has_role(current_user, c.relowner, 'USAGE')
      order by s.relname`.execute(db);
    for (const t of due.rows) {
      // (VACUUM runs outside a transaction: db is the pool, each statement its own)
      if (t.vacuum) await sql`vacuum (analyze) ${sql.table(t.relname)}`.execute(db);
      else if (t.analyze) await sql`analyze ${sql.table(t.relname)}`.execute(db);
    }
  },
  ingestConcurrency: (cores) => Math.max(2, cores * 2),
  ingestBatch: 1,
  clientKey: (client) => client,
};

export function storageFor(store: Pick<Db, 'dialect'>): Storage {
  return store.dialect === 'postgres' ? postgresStorage : sqliteStorage;
}
