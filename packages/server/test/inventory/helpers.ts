// Opens a migrated test database (SQLite or PostgreSQL as the app role) with organisations.
import crypto from 'node:crypto';
import { openDatabase, withOrg, type OpenedDatabase, type OrgScope } from '../../src/db/index.js';
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
