// Issue 12: every unchanged re-scan asks whether a report of its host still waits in the inbox
// (storage.ts NOTHING_PENDING). The inbox keeps a row per accepted report (done rows too), so
// through the (org, host, body hash) index that probe read every report the host ever sent; a
// partial index of the pending rows alone keeps it one index probe however old the host.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await sql`create index ingest_inbox_pending_host on ingest_inbox (org_id, host_key) where status = 'pending'`.execute(db);
}
