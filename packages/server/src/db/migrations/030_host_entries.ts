// Issue 12, ingest protocol v2: per host, the server entries of the last report the backend
// processed, as it processed them (redacted), keyed by instance key, with each entry's content
// hash (core serverContentHash) and the report's offer hash (core offerHash). An offer with the
// host's offer hash is an unchanged re-scan; otherwise the agent sends in full only the servers
// whose hash differs, and references the others, which are read back from here. One row per
// host (deleted with it); report_hash is the hosts.last_report_hash the entries belong to.
// A tenant table (forced row-level security: the entries are the organisation's data).
import type { Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('host_entries')
    .addColumn('host_id', 'text', (c) => c.primaryKey().references('hosts.id').onDelete('cascade'))
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('report_hash', 'text', (c) => c.notNull())
    .addColumn('offer_hash', 'text', (c) => c.notNull())
    .addColumn('hashes', 'text', (c) => c.notNull())
    .addColumn('entries', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('host_entries_offer').on('host_entries').columns(['org_id', 'offer_hash']).execute();
  await enableRowLevelSecurity(db, dialect, 'host_entries');
}
