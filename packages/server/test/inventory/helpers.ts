// Opens a migrated test database (SQLite or PostgreSQL as the app role) with organisations.
import crypto from 'node:crypto';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { openDatabase, withOrg, type Database, type Db, type OpenedDatabase, type OrgScope } from '../../src/db/index.js';
import { dailySnapshotsFor } from '../../src/services/ingest/aggregates.js';
import { createTestDatabase, migrateTestDatabase, type TestDatabase, type TestDialect } from '../helpers/databases.js';

export interface InventoryDb {
  t: TestDatabase;
  store: OpenedDatabase;
  orgs: OrgScope[];
  users: string[];
  close(): Promise<void>;
}

export async function openInventoryDb(dialect: TestDialect, orgCount = 2): Promise<InventoryDb> {
  const t = await createTestDatabase(dialect);
  await migrateTestDatabase(t);
  const store = openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir, poolSize: 4 });
  const orgs: OrgScope[] = [];
  const users: string[] = [];
  for (let i = 0; i < orgCount; i++) {
    const orgId = crypto.randomUUID();
    await withOrg(store, { orgId }, (tx) => tx.insertInto('orgs').values({ id: orgId, name: `Org ${i}`, created_at: new Date().toISOString() }).execute());
    orgs.push({ orgId });
  }
  return {
    t,
    store,
    orgs,
    users,
    async close() {
      await store.close();
      await t.drop();
    },
  };
}

/** Row counts of every inventory table in one org. */
export async function countRows(db: InventoryDb, scope: OrgScope): Promise<Record<string, number>> {
  const tables = ['hosts', 'servers', 'server_instances', 'findings', 'tools', 'reports', 'events', 'alerts', 'overrides', 'webhook_deliveries', 'daily_snapshots'] as const;
  const out: Record<string, number> = {};
  // the daily snapshot is written after a report's commit, not inside it: wait for any pending one
  await dailySnapshotsFor(db.store).flush();
  await withOrg(db.store, scope, async (tx) => {
    for (const t of tables) {
      const r = await tx.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', scope.orgId).executeTakeFirst();
      out[t] = Number(r?.n ?? 0);
    }
  });
  return out;
}

/**
 * A second connection to the test database that records every statement it runs (for the
 * query-plan tests): `captured` fills as `store` is used; destroy `store.db` when done.
 */
export function capturingStore(db: InventoryDb): { store: Db; captured: CompiledQuery[] } {
  const captured: CompiledQuery[] = [];
  const log = (e: { query: CompiledQuery }) => void captured.push(e.query);
  const store: Db =
    db.t.dialect === 'sqlite'
      ? { dialect: 'sqlite', db: new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path.join(db.t.dataDir, 'palisade.db')) }), log }) }
      : { dialect: 'postgres', db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.t.databaseUrl, max: 2 }) }), log }) };
  return { store, captured };
}

/**
 * The plan of a captured statement when it reads a table whole, else null. SQLite: a `SCAN`
 * of a table without an index (a scan of a subquery's own result, a co-routine or a
 * materialized subquery read once, does not count); PostgreSQL: a `Seq Scan` even with
 * sequential scans priced out (`enable_seqscan = off`), i.e. no index can serve it.
 */
export async function tableScan(store: Db, org: OrgScope, q: CompiledQuery): Promise<string | null> {
  if (store.dialect === 'sqlite') {
    const rows = (await store.db.executeQuery({ ...q, sql: `explain query plan ${q.sql}` })).rows as Array<{ detail: string }>;
    const derived = new Set(rows.map((r) => /^(?:CO-ROUTINE|MATERIALIZE) (\S+)/.exec(r.detail)?.[1]).filter(Boolean));
    const bad = rows.filter((r) => {
      const m = /^SCAN (\S+)/.exec(r.detail);
      return m !== null && !derived.has(m[1]!) && !/USING (COVERING )?INDEX|CONSTANT ROW/.test(r.detail);
    });
    return bad.length > 0 ? `  -> ${bad.map((r) => r.detail).join('; ')}` : null;
  }
  const rows = await withOrg(store, org, async (tx) => {
    await sql`set local enable_seqscan = off`.execute(tx);
    return (await tx.executeQuery({ ...q, sql: `explain ${q.sql}` })).rows as Array<{ 'QUERY PLAN': string }>;
  });
  const text = rows.map((r) => r['QUERY PLAN']).join('\n');
  return /Seq Scan on (?!pg_)/.test(text) ? text : null;
}
