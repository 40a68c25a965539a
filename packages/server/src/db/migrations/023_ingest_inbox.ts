// Ingest at fleet scale (issue 12):
// - ingest_inbox: every accepted report, stored raw in one insert before the answer (202), then
//   processed by the ingest queue. A tenant table (forced row-level security: the bodies are
//   the organisation's data). (org_id, host_key, body_hash) is unique, so a resend is a no-op.
//   The processor marks a row done in the same transaction that stores the report, so after
//   a crash each accepted report is processed exactly once.
// - findings(instance_id): the foreign key from findings to server_instances is checked on every
//   instance delete; without an index led by instance_id each check scanned the findings.
import type { Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('ingest_inbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('agent_key_id', 'text')
    .addColumn('host_key', 'text', (c) => c.notNull())
    .addColumn('body_hash', 'text', (c) => c.notNull())
    .addColumn('body', 'text')
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'text')
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('ingest_inbox_dedup').on('ingest_inbox').columns(['org_id', 'host_key', 'body_hash']).unique().execute();
  await db.schema.createIndex('ingest_inbox_status').on('ingest_inbox').columns(['org_id', 'status', 'id']).execute();
  await enableRowLevelSecurity(db, dialect, 'ingest_inbox');
  await db.schema.createIndex('findings_instance_only').on('findings').column('instance_id').execute();
}
