// Issue 16 §4: the central gateway policy the security team edits in the dashboard. One row for
// the organisation (target 'org') and at most one per gateway (target = the gateway's id; it
// replaces the organisation's row for that gateway). A gateway applies, setting by setting, the
// STRICTER of its own config and this policy: a null / false column asks nothing of it.
import type { Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('gateway_policies')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('block_level', 'text')
    .addColumn('pinning', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('strip_hidden_text', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('redact_secrets_in_results', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('calls_per_minute', 'integer')
    .addColumn('updated_by', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_policies_pk', ['org_id', 'target'])
    .execute();
  await enableRowLevelSecurity(db, dialect, 'gateway_policies');
}
