// The unchanged-report fast path: each host remembers the hash of its last accepted report
// body (with the scan time blanked), so an identical re-report is recognised by one index
// probe before any parsing. See services/ingest.ts (rawReportKey).
import type { Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('hosts').addColumn('last_raw_hash', 'text').execute();
  await db.schema.createIndex('hosts_org_raw_hash').on('hosts').columns(['org_id', 'last_raw_hash']).execute();
}
