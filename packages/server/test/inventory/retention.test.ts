// Retention against real SQLite and PostgreSQL (app role, RLS on): history older than the
// organisation's period goes, the current inventory, open alerts and the audit log stay,
// and another organisation's data is untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase, withOrg } from '../../src/db/index.js';
import { up as orgRegistryUp } from '../../src/db/migrations/020_org_registry.js';
import { ingestReport } from '../../src/services/ingest.js';
import { pruneAllOrganisations, pruneOrganisation } from '../../src/services/retention.js';
import { setRetentionDays } from '../../src/services/settings.js';
import { dialects, migrateTestDatabase, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, testRules } from './fixtures.js';
import { countRows, openInventoryDb, type InventoryDb } from './helpers.js';

const NOW = new Date(Date.UTC(2026, 10, 22, 12));
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`retention on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    beforeAll(async () => {
      db = await openInventoryDb(dialect);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('prunes old reports, events, resolved alerts, deliveries and snapshots; keeps the inventory, open alerts and audit', async () => {
      const [a, b] = db.orgs as [(typeof db.orgs)[0], (typeof db.orgs)[0]];
      // org A: a host first seen 400 days ago, changed 200 days ago and again yesterday
      const host = { hostname: 'old-laptop' };
      await ingestReport(db.store, a, report([server({ name: 'ancient', command: 'bash', args: ['-c', 'x'] }), server({ name: 'calm' })], host), { rules: testRules, now: daysAgo(400) });
      await ingestReport(db.store, a, report([server({ name: 'ancient', command: 'bash', args: ['-c', 'y'] }), server({ name: 'calm' }), server({ name: 'middle' })], host), { rules: testRules, now: daysAgo(200) });
      await ingestReport(db.store, a, report([server({ name: 'ancient', command: 'bash', args: ['-c', 'z'] }), server({ name: 'calm' }), server({ name: 'middle' }), server({ name: 'fresh' })], host), { rules: testRules, now: daysAgo(1) });
      // org B keeps everything for ten years
      await withOrg(db.store, b, (tx) => setRetentionDays(tx, b, 3650, NOW.toISOString()));
      await ingestReport(db.store, b, report([server({ name: 'b-old', command: 'sh', args: ['-c', 'x'] })], { hostname: 'b-host' }), { rules: testRules, now: daysAgo(400) });

      // of org A's 400-day-old alerts, one was resolved long ago and one is still open
      const oldAlerts = await withOrg(db.store, a, (tx) => tx.selectFrom('alerts').select(['id', 'event_id']).where('org_id', '=', a.orgId).where('created_at', '=', daysAgo(400).toISOString()).orderBy('id').execute());
      expect(oldAlerts.length).toBeGreaterThanOrEqual(2);
      const [resolved, stillOpen] = oldAlerts as [(typeof oldAlerts)[0], (typeof oldAlerts)[0]];
      await withOrg(db.store, a, async (tx) => {
        await tx.updateTable('alerts').set({ status: 'resolved', resolved_at: daysAgo(390).toISOString(), resolved_by: 'u-1' }).where('org_id', '=', a.orgId).where('id', '=', resolved.id).execute();
        await tx.updateTable('alerts').set({ status: 'acknowledged', acknowledged_at: daysAgo(390).toISOString(), acknowledged_by: 'u-1' }).where('org_id', '=', a.orgId).where('id', '!=', resolved.id).execute();
      });

      const inventoryA = async () =>
        withOrg(db.store, a, async (tx) => ({
          hosts: await tx.selectFrom('hosts').selectAll().where('org_id', '=', a.orgId).execute(),
          servers: await tx.selectFrom('servers').selectAll().where('org_id', '=', a.orgId).orderBy('id').execute(),
          instances: await tx.selectFrom('server_instances').selectAll().where('org_id', '=', a.orgId).orderBy('id').execute(),
          findings: await tx.selectFrom('findings').selectAll().where('org_id', '=', a.orgId).orderBy('id').execute(),
          tools: await tx.selectFrom('tools').selectAll().where('org_id', '=', a.orgId).orderBy('id').execute(),
        }));
      const before = await inventoryA();
      const countsB = await countRows(db, b);
      const oldEventsBefore = await withOrg(db.store, a, (tx) => tx.selectFrom('events').select('id').where('org_id', '=', a.orgId).where('created_at', '<', daysAgo(365).toISOString()).execute());

      const result = await pruneAllOrganisations(db.store, NOW);
      const pruned = result.get(a.orgId)!;
      expect(pruned.reports).toBe(1);
      expect(pruned.alerts).toBe(1);
      expect(pruned.dailySnapshots).toBe(1);
      // every old event went except those an unresolved alert still points at
      const keptOld = oldAlerts.filter((x) => x.id !== resolved.id).map((x) => x.event_id);
      expect(pruned.events).toBe(oldEventsBefore.length - new Set(keptOld).size);

      await withOrg(db.store, a, async (tx) => {
        const reports = await tx.selectFrom('reports').select('received_at').where('org_id', '=', a.orgId).orderBy('received_at').execute();
        expect(reports.map((r) => r.received_at)).toEqual([daysAgo(200).toISOString(), daysAgo(1).toISOString()]);
        const alerts = await tx.selectFrom('alerts').select('id').where('org_id', '=', a.orgId).execute();
        expect(alerts.map((x) => x.id)).toContain(stillOpen.id);
        expect(alerts.map((x) => x.id)).not.toContain(resolved.id);
        const oldEvents = await tx.selectFrom('events').select('id').where('org_id', '=', a.orgId).where('created_at', '<', daysAgo(365).toISOString()).execute();
        expect(oldEvents.map((e) => e.id).sort()).toEqual([...new Set(keptOld)].sort());
        const days = await tx.selectFrom('daily_snapshots').select('day').where('org_id', '=', a.orgId).orderBy('day').execute();
        expect(days.map((d) => d.day)).toEqual([daysAgo(200).toISOString().slice(0, 10), daysAgo(1).toISOString().slice(0, 10)]);
        const audit = await tx.selectFrom('audit_log').select(['action', 'actor_type', 'details']).where('org_id', '=', a.orgId).where('action', '=', 'retention.pruned').execute();
        expect(audit).toHaveLength(1);
        expect(audit[0]!.actor_type).toBe('system');
        expect(JSON.parse(audit[0]!.details)).toMatchObject({ retentionDays: 365, reports: 1, alerts: 1 });
      });
      // the current inventory is exactly as it was; org B lost nothing
      expect(await inventoryA()).toEqual(before);
      expect(await countRows(db, b)).toEqual(countsB);
      expect(result.get(b.orgId)).toEqual({ reports: 0, events: 0, alerts: 0, webhookDeliveries: 0, dailySnapshots: 0 });

      // a second sweep finds nothing and writes no audit entry
      expect(await pruneOrganisation(db.store, a, NOW)).toEqual({ reports: 0, events: 0, alerts: 0, webhookDeliveries: 0, dailySnapshots: 0 });
      const audits = await withOrg(db.store, a, (tx) => tx.selectFrom('audit_log').select('id').where('org_id', '=', a.orgId).where('action', '=', 'retention.pruned').execute());
      expect(audits).toHaveLength(1);

      // a shorter period takes more: 90 days drops the 200-day-old report
      await withOrg(db.store, a, (tx) => setRetentionDays(tx, a, 90, NOW.toISOString()));
      expect((await pruneOrganisation(db.store, a, NOW)).reports).toBe(1);
      expect(await inventoryA()).toEqual(before);
    });

    it('the sweep visits every organisation: new ones through the trigger, older ones through the migration backfill', async () => {
      const ids = async () => (await db.store.db.selectFrom('org_registry').select('org_id').orderBy('org_id').execute()).map((r) => r.org_id);
      expect(await ids()).toEqual(db.orgs.map((o) => o.orgId).sort());
      // an upgraded database: organisations that existed before migration 020 (read as the
      // app role, under forced row-level security on PostgreSQL)
      // (migrations run as the owner role on PostgreSQL: the runtime role may not drop or create)
      const owner = db.t.migrationUrl ? openDatabase({ databaseUrl: db.t.migrationUrl, poolSize: 1 }) : db.store;
      await owner.db.transaction().execute(async (tx) => {
        if (dialect === 'postgres') {
          await sql`drop trigger orgs_registry on orgs`.execute(tx);
          await sql`drop function palisade_org_registry_add()`.execute(tx);
        } else {
          await sql`drop trigger orgs_registry`.execute(tx);
        }
        await sql`drop table org_registry`.execute(tx);
      });
      await owner.db.transaction().execute((tx) => orgRegistryUp(tx, dialect));
      if (owner !== db.store) await owner.close();
      // the runtime role's grants on the new table, as every start gives them
      await migrateTestDatabase(db.t);
      expect(await ids()).toEqual(db.orgs.map((o) => o.orgId).sort());
      if (dialect === 'postgres') {
        // and the organisations table is walled again afterwards
        const r = await sql<{ relforcerowsecurity: boolean }>`select relforcerowsecurity from pg_class where relname = 'orgs'`.execute(db.store.db);
        expect(r.rows[0]?.relforcerowsecurity).toBe(true);
        expect((await db.store.db.selectFrom('orgs').select('id').execute()).length).toBe(0);
      }
    });

    it('deletes in batches larger than one statement', async () => {
      const c = db.orgs[1]!;
      await withOrg(db.store, c, (tx) => setRetentionDays(tx, c, 30, NOW.toISOString()));
      const hostId = await withOrg(db.store, c, (tx) => tx.selectFrom('hosts').select('id').where('org_id', '=', c.orgId).executeTakeFirstOrThrow()).then((h) => h.id);
      const old = daysAgo(100).toISOString();
      await withOrg(db.store, c, async (tx) => {
        const rows = Array.from({ length: 4500 }, (_, i) => ({ id: `bulk-${i}`, org_id: c.orgId, host_id: hostId, report_hash: 'h', agent_key_id: null, agent_version: '1', scanned_at: old, received_at: old, server_count: 0, event_count: 0 }));
        for (let i = 0; i < rows.length; i += 500) await tx.insertInto('reports').values(rows.slice(i, i + 500)).execute();
      });
      const r = await pruneOrganisation(db.store, c, NOW);
      expect(r.reports).toBe(4501); // the bulk rows and the org's own 400-day-old report
      const left = await withOrg(db.store, c, (tx) => tx.selectFrom('reports').select('id').where('org_id', '=', c.orgId).execute());
      expect(left).toEqual([]);
    });
  });
}
