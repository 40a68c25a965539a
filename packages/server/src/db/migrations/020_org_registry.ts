// The ids of all organisations, and nothing else: not a tenant table (like webhook_queue), so
// the hourly retention sweep can visit every organisation and then work inside each one's
// own scope. A trigger on orgs keeps it complete; rows go when their organisation does.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('org_registry')
    .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id').onDelete('cascade'))
    .execute();
  if (dialect === 'postgres') {
    await sql`create function palisade_org_registry_add() returns trigger language plpgsql as $$ begin insert into org_registry (org_id) values (new.id) on conflict do nothing; return new; end $$`.execute(db);
    await sql`create trigger orgs_registry after insert on orgs for each row execute function palisade_org_registry_add()`.execute(db);
    // orgs has forced row-level security: its owner (this role) lifts it for the copy only,
    // inside the migration's transaction
    await sql`alter table orgs no force row level security`.execute(db);
    await sql`insert into org_registry (org_id) select id from orgs`.execute(db);
    await sql`alter table orgs force row level security`.execute(db);
  } else {
    await sql`create trigger orgs_registry after insert on orgs begin insert or ignore into org_registry (org_id) values (new.id); end`.execute(db);
    await sql`insert into org_registry (org_id) select id from orgs`.execute(db);
  }
}
