// Platform tables: organisations, users, memberships (roles), invitations, session
// families and refresh tokens, agent keys, the audit log, organisation settings.
// Types in ../schema.ts. Conventions (text ids and times) are described there.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('orgs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_login_at', 'text')
    .execute();

  await db.schema
    .createTable('memberships')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner','admin','analyst','viewer')`))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('memberships_pk', ['org_id', 'user_id'])
    .execute();
  await db.schema.createIndex('memberships_user').on('memberships').column('user_id').execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner','admin','analyst','viewer')`))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('accepted_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('invitations_org').on('invitations').columns(['org_id', 'created_at']).execute();

  // Session families and their refresh tokens are credentials keyed by a secret's hash and
  // read before the org is known; they are not tenant data and carry no RLS.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('revoked_reason', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('rotated_at', 'text')
    .execute();
  await db.schema.createIndex('refresh_tokens_session').on('refresh_tokens').column('session_id').execute();

  await db.schema
    .createTable('agent_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('agent_keys_org').on('agent_keys').columns(['org_id', 'created_at']).execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_email', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_org_at').on('audit_log').columns(['org_id', 'at']).execute();

  await db.schema
    .createTable('org_settings')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('org_settings_pk', ['org_id', 'key'])
    .execute();

  if (dialect === 'postgres') await secondWall(db);
  else await sqliteAuditAppendOnly(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function secondWall(db: Kysely<any>): Promise<void> {
  await enableRowLevelSecurity(db, 'postgres', 'orgs', 'id');
  await enableRowLevelSecurity(db, 'postgres', 'memberships');
  await enableRowLevelSecurity(db, 'postgres', 'invitations');
  await enableRowLevelSecurity(db, 'postgres', 'agent_keys');
  await enableRowLevelSecurity(db, 'postgres', 'org_settings');
  // Look-ups before the org is known, each keyed by something only the caller holds:
  // a signed-in user's own memberships, an invitation token's hash, an agent key's hash.
  await sql`create policy self_lookup on memberships for select using (user_id = current_setting('app.user_id', true))`.execute(db);
  await sql`create policy token_lookup on invitations for select using (token_hash = current_setting('app.token_hash', true))`.execute(db);
  await sql`create policy key_lookup on agent_keys for select using (key_hash = current_setting('app.key_hash', true))`.execute(db);
  await sql`create policy self_lookup on orgs for select using (id in (select org_id from memberships where user_id = current_setting('app.user_id', true)))`.execute(db);

  // The audit log is append-only: policies for reading and inserting only (FORCE makes them
  // bind the owner too, so UPDATE and DELETE touch no row), and the privileges are revoked.
  await sql`alter table audit_log enable row level security`.execute(db);
  await sql`alter table audit_log force row level security`.execute(db);
  await sql`create policy audit_read on audit_log for select using (org_id = current_setting('app.org_id', true))`.execute(db);
  await sql`create policy audit_append on audit_log for insert with check (org_id = current_setting('app.org_id', true))`.execute(db);
  await sql`revoke update, delete, truncate on audit_log from public`.execute(db);
  await sql`revoke update, delete, truncate on audit_log from current_user`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function sqliteAuditAppendOnly(db: Kysely<any>): Promise<void> {
  await sql`create trigger audit_log_no_update before update on audit_log begin select raise(abort, 'the audit log is append-only'); end`.execute(db);
  await sql`create trigger audit_log_no_delete before delete on audit_log begin select raise(abort, 'the audit log is append-only'); end`.execute(db);
}
