// Advisory tables (services/advisories.ts). Advisories and the KEV list are public data shared
// by every organisation, so they are global tables; which servers of an organisation an
// advisory affects (advisory_matches) is tenant data with row-level security.
// Numbered 010 so the inventory work can keep adding 003+ without a name clash.
import type { Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('advisories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('modified', 'text', (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('advisory_packages')
    .addColumn('package_key', 'text', (c) => c.notNull())
    .addColumn('advisory_id', 'text', (c) => c.notNull().references('advisories.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('advisory_packages_pk', ['package_key', 'advisory_id'])
    .execute();
  await db.schema.createIndex('advisory_packages_advisory').on('advisory_packages').column('advisory_id').execute();
  await db.schema
    .createTable('advisory_kev')
    .addColumn('cve_id', 'text', (c) => c.primaryKey())
    .addColumn('added_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('advisory_matches')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('server_id', 'text', (c) => c.notNull())
    .addColumn('advisory_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('fixed', 'text')
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('advisory_matches_pk', ['org_id', 'server_id', 'advisory_id'])
    .execute();
  await enableRowLevelSecurity(db, dialect, 'advisory_matches');
}
