// Issue 12: an unchanged re-scan whose body differs from the host's last one in more than its
// scan time (another agent build's key order, a probe's duration) is still recognised at
// accept, by the content hash of the report (without its volatile fields), which is stored
// as hosts.last_report_hash. The look-up by that hash (it names the host: hostname and user
// are part of it) needs an index; a partial one, as for the raw key (migration 024).
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await sql`create index hosts_org_report_hash_set on hosts (org_id, last_report_hash) where last_report_hash is not null`.execute(db);
}
