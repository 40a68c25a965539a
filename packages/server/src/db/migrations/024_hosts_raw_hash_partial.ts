// Issue 12: the unchanged re-scan's look-up (a host by its last body's raw key) must use an
// index whatever the share of hosts that have no raw key yet (hosts reported through the
// service API, or not re-reported since migration 003): with most keys NULL, the statistics of
// the full (org_id, last_raw_hash) index made SQLite's planner read every host instead. A
// partial index holds only the hosts that have a key (`last_raw_hash = ?` implies NOT NULL on
// both databases, so the look-up can use it) and its statistics describe only those.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await sql`create index hosts_org_raw_hash_set on hosts (org_id, last_raw_hash) where last_raw_hash is not null`.execute(db);
  await db.schema.dropIndex('hosts_org_raw_hash').execute();
}
