// Storage: migrations on both databases, and PostgreSQL's second wall (RLS) proven with the
// app role: a query without app.org_id, or with another org's, sees nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { checkConnectedRole, openDatabase, withOrg, type OpenedDatabase } from '../src/db/index.js';
import { createTestDatabase, dialects, migrateTestDatabase, PG_SKIP_REASON, skipReason, type TestDatabase } from './helpers/databases.js';

const now = () => new Date().toISOString();

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`storage on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestDatabase;
    let store: OpenedDatabase;
    const orgA = crypto.randomUUID();
    const orgB = crypto.randomUUID();

    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      const applied = await migrateTestDatabase(t);
      store = openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir });
      expect(applied[0]).toBe('001_platform');
      for (const [id, name] of [[orgA, 'A'], [orgB, 'B']] as const) {
        await withOrg(store, { orgId: id }, async (tx) => {
          await tx.insertInto('orgs').values({ id, name, created_at: now() }).execute();
          await tx.insertInto('org_settings').values({ org_id: id, key: 'k', value: name, updated_at: now() }).execute();
          await tx
            .insertInto('audit_log')
            .values({ id: crypto.randomUUID(), org_id: id, at: now(), actor_type: 'system', actor_id: null, actor_email: null, action: 'test', target_type: null, target_id: null, ip: null, details: '{}' })
            .execute();
        });
      }
    });
    afterAll(async () => {
      await store?.close();
      await t?.drop();
    });

    it('applies migrations once: a second run applies nothing', async () => {
      expect(await migrateTestDatabase(t)).toEqual([]);
    });

    it('scoped queries see only their own org', async () => {
      const rows = await withOrg(store, { orgId: orgA }, (tx) => tx.selectFrom('org_settings').selectAll().where('org_id', '=', orgA).execute());
      expect(rows.map((r) => r.value)).toEqual(['A']);
    });

    it('the audit log refuses updates and deletes', async () => {
      await expect(withOrg(store, { orgId: orgA }, (tx) => tx.deleteFrom('audit_log').where('org_id', '=', orgA).execute().then((r) => {
        // on PostgreSQL the privilege is revoked (error); a policy-less DELETE would also touch no row
        if (Number(r[0]?.numDeletedRows ?? 0) === 0) throw new Error('nothing deleted');
      }))).rejects.toThrow();
      await expect(withOrg(store, { orgId: orgA }, (tx) => tx.updateTable('audit_log').set({ action: 'x' }).execute().then((r) => {
        if (Number(r[0]?.numUpdatedRows ?? 0) === 0) throw new Error('nothing updated');
      }))).rejects.toThrow();
      const left = await withOrg(store, { orgId: orgA }, (tx) => tx.selectFrom('audit_log').select('action').where('org_id', '=', orgA).execute());
      expect(left.map((r) => r.action)).toEqual(['test']);
    });

    if (dialect === 'sqlite') {
      it('keeps the database file private, in WAL mode with foreign keys on', async () => {
        const file = path.join(t.dataDir, 'palisade.db');
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        const jm = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
        expect(jm.rows[0]?.journal_mode).toBe('wal');
        const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
        expect(fk.rows[0]?.foreign_keys).toBe(1);
      });
    }

    if (dialect === 'postgres') {
      it('connects as a non-superuser role without BYPASSRLS', async () => {
        const r = await checkConnectedRole(store.db);
        expect(r).toEqual({ role: t.appRole, superuser: false, bypassRls: false });
      });

      it('RLS: with the app role and no app.org_id, an unfiltered query returns nothing', async () => {
        // the application "forgot" to scope: no where clause, no org set
        const settings = await store.db.selectFrom('org_settings').selectAll().execute();
        const orgs = await store.db.selectFrom('orgs').selectAll().execute();
        const audit = await store.db.selectFrom('audit_log').selectAll().execute();
        expect([settings.length, orgs.length, audit.length]).toEqual([0, 0, 0]);
      });

      it("RLS: with app.org_id set to another org, the first org's rows are invisible and untouchable", async () => {
        const rows = await withOrg(store, { orgId: orgB }, (tx) => tx.selectFrom('org_settings').selectAll().execute());
        expect(rows.map((r) => r.value)).toEqual(['B']);
        const upd = await withOrg(store, { orgId: orgB }, (tx) => tx.updateTable('org_settings').set({ value: 'hacked' }).where('org_id', '=', orgA).execute());
        expect(Number(upd[0]?.numUpdatedRows)).toBe(0);
        await expect(
          withOrg(store, { orgId: orgB }, (tx) => tx.insertInto('org_settings').values({ org_id: orgA, key: 'x', value: 'planted', updated_at: now() }).execute()),
        ).rejects.toThrow(/row-level security/);
        const admin = new pg.Client({ connectionString: t.adminUrl });
        await admin.connect();
        const check = await admin.query(`select value from org_settings where org_id = $1`, [orgA]);
        await admin.end();
        expect(check.rows.map((r: { value: string }) => r.value)).toEqual(['A']);
      });
    }
  });
}
