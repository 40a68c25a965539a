// Issue 14 (alerts as a triage queue): an alert can be assigned to a user of its organisation,
// and an alert Palisade resolves by itself (risk accepted, finding fixed, server removed) keeps
// the reason in `resolved_reason`, shown beside it. The queue's default order (severity, then
// time) and the look-up of a host's unresolved alerts after each report get their indexes.
import type { Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('alerts').addColumn('assigned_to', 'text').execute();
  await db.schema.alterTable('alerts').addColumn('resolved_reason', 'text').execute();
  await db.schema.createIndex('alerts_org_status_rank').on('alerts').columns(['org_id', 'status', 'severity_rank', 'created_at']).execute();
  await db.schema.createIndex('alerts_org_host_status').on('alerts').columns(['org_id', 'host_id', 'status']).execute();
  await db.schema.createIndex('alerts_org_server_status').on('alerts').columns(['org_id', 'server_id', 'status']).execute();
}
