// Which organisations run which packages, as (org id, package key) pairs only: not a tenant
// table (like webhook_queue), so that after an advisory import the re-match can find the
// organisations a changed advisory may concern without reading across tenants' data.
import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('advisory_watch')
    .addColumn('package_key', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('advisory_watch_pk', ['package_key', 'org_id'])
    .execute();
}
