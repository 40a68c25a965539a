// Protocol v2's statements on an aged inventory use indexes (as ingest-plans.test.ts checks for
// v1): the unchanged offer's look-ups (by its body's raw key, by its offer hash), the needed-servers read and the v2 report's
// resolution, each captured from a real call and EXPLAINed (SQLite: no `SCAN <table>`;
// PostgreSQL: no `Seq Scan` with sequential scans priced out).
import { offerBody, redactReport, serverOffers, type ScanReport } from '@palisade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageFor } from '../../src/db/storage.js';
import { ingestReport } from '../../src/services/ingest.js';
import { acceptUnchangedOffer, answerOffer, parseOffer, resolveV2Report } from '../../src/services/ingest/offer.js';
import { rawReportKey } from '../../src/services/ingest/validate.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, testRules, tool } from '../inventory/fixtures.js';
import { capturingStore, openInventoryDb, tableScan, type InventoryDb } from '../inventory/helpers.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 10, minute)).toISOString();

function hostReport(h: number, rev = 0): ScanReport {
  const servers = Array.from({ length: 6 }, (_, i) => {
    const n = (h * 7 + i * 5) % 30;
    return server({ name: `p2-${n}`, args: ['-y', `@example/p2-${n}@1.0.${n === h % 30 ? rev : 0}`], tools: [tool(`t${n}`, `Tool of ${n}`)] });
  });
  return redactReport(report(servers, { hostname: `v2-plan-host-${h}` }, at(rev)));
}

const offerText = (r: ScanReport) => {
  const { schemaVersion, agent, host, scannedAt, clients } = r;
  return JSON.stringify({ schemaVersion, agent, host, scannedAt, clients, servers: serverOffers(r) });
};

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`protocol v2 query plans on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 1);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('runs no v2 statement as a table scan', async () => {
      const org = db.orgs[0]!;
      for (let h = 0; h < 150; h++) await ingestReport(db.store, org, hostReport(h), { rules: testRules, now: new Date(at(0)) });
      await storageFor(db.store).maintain(db.store.db, 'bulk');
      const { store: logging, captured } = capturingStore(db);
      try {
        // an unchanged offer in the agent's own bytes: found by its raw key
        const r3 = hostReport(3, 0);
        const raw = rawReportKey(offerBody(r3, serverOffers(r3)))!;
        expect(await acceptUnchangedOffer(logging, org, raw, at(19))).not.toBeNull();
        // in other bytes: answered from the look-up by offer hash
        const same = await answerOffer(logging, org, parseOffer(offerText(hostReport(3, 0))), at(20));
        expect(same.kind).toBe('unchanged');
        // a changed one: the host's held hashes read, one server needed
        const changed = hostReport(0, 1); // its first server is the one whose version moves
        const need = await answerOffer(logging, org, parseOffer(offerText(changed)), at(21));
        expect(need).toMatchObject({ kind: 'need', need: [expect.any(String)] });
        if (need.kind !== 'need') return;
        // its v2 report: the other servers referenced and resolved from the host's entries
        const offers = serverOffers(changed);
        const servers = changed.servers.map((s, i) => (need.need.includes(offers[i]!.key) ? s : { ref: offers[i]!.key, hash: offers[i]!.hash }));
        const whole = await resolveV2Report(logging, org, JSON.stringify({ ...changed, servers, offer: need.offer }));
        expect(whole.refs).toBe(5);
        expect(JSON.parse(whole.text)).toEqual(changed);
        const hot = captured.filter((q) => /^\s*(select|update|delete|with)/i.test(q.sql) && !/set_config|pg_advisory|^select 1$/i.test(q.sql));
        expect(hot.length).toBeGreaterThanOrEqual(3);
        expect(hot.some((q) => /e"?\."?offer_hash"? =/.test(q.sql))).toBe(true);
        expect(hot.some((q) => /e"?\."?offer_raw"? =/.test(q.sql))).toBe(true);
        expect(hot.some((q) => /"?host_entries"? as "?e"?/.test(q.sql) && q.sql.includes('entries'))).toBe(true);
        const scans: string[] = [];
        for (const q of hot) {
          const plan = await tableScan(logging, org, q);
          if (plan) scans.push(`${q.sql}\n${plan}`);
        }
        expect(scans).toEqual([]);
      } finally {
        await logging.db.destroy();
      }
    }, 120_000);
  });
}
