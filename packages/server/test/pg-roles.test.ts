// Two PostgreSQL roles (issue 13): the runtime role that serves requests owns nothing. It may
// not turn row-level security off, nor rewrite, delete or truncate the audit log; the owner
// role runs the migrations. With one URL the server makes a runtime role itself when it may,
// and says what to run when it may not.
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { makeTestApp, setupOwner } from './helpers/app.js';
import { createTestDatabase, PG_SKIP_REASON, PG_URL, type TestDatabase } from './helpers/databases.js';

async function asRole(url: string, fn: (c: pg.Client) => Promise<void>): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await fn(c);
  } finally {
    await c.end();
  }
}

describe.skipIf(!PG_URL)(`PostgreSQL owner and runtime roles${PG_URL ? '' : ` (${PG_SKIP_REASON})`}`, () => {
  const made: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of made) await d.drop();
  });

  it('the runtime role cannot disable RLS, nor update, delete or truncate the audit log; it can read and append', async () => {
    const db = await createTestDatabase('postgres');
    made.push(db);
    const t = await makeTestApp('postgres', {}, db);
    const { orgId } = await setupOwner(t.app);
    expect(t.platform.warnings).toEqual([]);
    await t.close();
    await asRole(db.databaseUrl!, async (c) => {
      expect((await c.query('select current_user as u')).rows[0].u).toBe(db.appRole);
      for (const stmt of ['alter table memberships disable row level security', 'alter table memberships no force row level security', 'alter table audit_log disable row level security', 'drop policy tenant_isolation on memberships', 'create table planted (x int)']) {
        await expect(c.query(stmt), stmt).rejects.toThrow(/must be owner|permission denied/);
      }
      await c.query('begin');
      await c.query(`select set_config('app.org_id', $1, true)`, [orgId]);
      const before = (await c.query('select count(*)::int as n from audit_log')).rows[0].n as number;
      expect(before).toBeGreaterThan(0);
      await c.query('savepoint s');
      for (const stmt of ["update audit_log set action = 'x'", 'delete from audit_log', 'truncate audit_log', 'select password from palisade_runtime_login', "insert into palisade_migrations values ('999_x', 'now')"]) {
        await expect(c.query(stmt), stmt).rejects.toThrow(/permission denied/);
        await c.query('rollback to savepoint s');
      }
      await c.query(`insert into audit_log (id, org_id, at, actor_type, action, details) values ('t-1', $1, 'now', 'system', 'test.append', '{}')`, [orgId]);
      await c.query('commit');
    });
    // the owner still owns everything
    await asRole(db.adminUrl!, async (c) => {
      const owners = await c.query(`select distinct tableowner from pg_tables where schemaname = 'public'`);
      expect(owners.rows.map((r) => r.tableowner)).toEqual([db.ownerRole]);
    });
  });

  it('with one URL of a role that may create roles, the server migrates as it and serves as a runtime role it made', async () => {
    const db = await createTestDatabase('postgres');
    made.push(db);
    await asRole(PG_URL!, (c) => c.query(`alter role ${db.ownerRole} createrole`).then(() => undefined));
    const t = await makeTestApp('postgres', { databaseUrl: db.migrationUrl, databaseMigrationUrl: undefined }, db);
    expect(t.platform.warnings).toEqual([]);
    await setupOwner(t.app);
    const who = (await sql<{ u: string }>`select current_user as u`.execute(t.platform.store.db)).rows[0]!;
    expect(who.u).toMatch(/^palisade_rt_[0-9a-f]{16}$/);
    await t.close();
    // a second start reuses the role and its stored password
    const again = await makeTestApp('postgres', { databaseUrl: db.migrationUrl, databaseMigrationUrl: undefined }, db);
    expect(again.platform.warnings).toEqual([]);
    await again.close();
  });

  it('with one URL of a role that may not create roles, start-up says what to run', async () => {
    const db = await createTestDatabase('postgres');
    made.push(db);
    const t = await makeTestApp('postgres', { databaseUrl: db.migrationUrl, databaseMigrationUrl: undefined }, db);
    expect(t.platform.warnings.join('\n')).toMatch(/may not create roles[\s\S]*CREATE ROLE palisade_runtime LOGIN[\s\S]*DATABASE_MIGRATION_URL/);
    await t.close();
  });
});
