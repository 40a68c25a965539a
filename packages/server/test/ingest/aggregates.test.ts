// Stage 6, aggregates (services/ingest/aggregates.ts), against real databases: a definition's
// denormalised columns (instances, hosts, clients, distinct findings, score and level) are
// recomputed from its rows, and the server list's side tables follow them; a definition no
// host runs any more keeps its last score and level for its history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrg } from '../../src/db/index.js';
import { ingestReport } from '../../src/services/ingest.js';
import { refreshServerAggregates } from '../../src/services/ingest/aggregates.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, testRules } from '../inventory/fixtures.js';
import { openInventoryDb, type InventoryDb } from '../inventory/helpers.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 10, minute));

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`aggregates stage on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 1);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('recomputes a definition’s columns from its rows and keeps the list’s client index in line', async () => {
      const org = db.orgs[0]!;
      const shell = server({ name: 'agg-shell', command: 'bash', args: ['-c', 'agg'] });
      await ingestReport(db.store, org, report([shell], { hostname: 'agg-1' }), { rules: testRules, now: at(0) });
      await ingestReport(db.store, org, report([{ ...shell, client: 'cursor', id: 'agg-cursor' }], { hostname: 'agg-2' }), { rules: testRules, now: at(1) });
      const read = () =>
        withOrg(db.store, org, async (tx) => {
          const s = await tx
            .selectFrom('servers')
            .select(['id', 'instance_count', 'host_count', 'clients', 'finding_count', 'score', 'level'])
            .where('org_id', '=', org.orgId)
            .where('name', '=', 'agg-shell')
            .executeTakeFirstOrThrow();
          const clients = await tx
            .withTables<{ server_clients: { org_id: string; client: string; server_id: string } }>()
            .selectFrom('server_clients')
            .select('client')
            .where('org_id', '=', org.orgId)
            .where('server_id', '=', s.id)
            .orderBy('client')
            .execute();
          return { ...s, instance_count: Number(s.instance_count), host_count: Number(s.host_count), finding_count: Number(s.finding_count), score: Number(s.score), index: clients.map((c) => c.client) };
        });
      const stored = await read();
      expect(stored).toMatchObject({ instance_count: 2, host_count: 2, clients: 'claude-desktop,cursor', finding_count: 1, level: 'critical', index: ['claude-desktop', 'cursor'] });

      // columns gone wrong (as if a write had been lost): the stage puts them right from the rows
      await withOrg(db.store, org, (tx) => tx.updateTable('servers').set({ instance_count: 99, host_count: 0, clients: '', finding_count: 7 }).where('org_id', '=', org.orgId).where('id', '=', stored.id).execute());
      await withOrg(db.store, org, (tx) => refreshServerAggregates(tx, db.store, org, [stored.id], at(2).toISOString()));
      expect(await read()).toEqual(stored);

      // both hosts drop it: no instances, no clients in the index, its last score and level kept
      await ingestReport(db.store, org, report([], { hostname: 'agg-1' }), { rules: testRules, now: at(3) });
      await ingestReport(db.store, org, report([], { hostname: 'agg-2' }), { rules: testRules, now: at(4) });
      expect(await read()).toMatchObject({ instance_count: 0, host_count: 0, clients: '', finding_count: 0, score: stored.score, level: 'critical', index: [] });
    }, 120_000);
  });
}
