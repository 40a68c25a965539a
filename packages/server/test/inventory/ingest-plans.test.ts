// Issue 12 defects, on both databases:
// - the product keeps its own planner statistics (ANALYZE after migrations, PRAGMA optimize
//   after bulk changes and from a timer), and every statement an ingest runs uses an index:
//   each one captured from real ingests is EXPLAINed (SQLite: EXPLAIN QUERY PLAN, no `SCAN
//   <table>`; PostgreSQL: EXPLAIN with sequential scans priced out, no `Seq Scan`);
// - 32 concurrent first reports sharing servers and packages on PostgreSQL: zero errors.
import SqliteDatabase from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrg } from '../../src/db/index.js';
import { storageFor } from '../../src/db/storage.js';
import { ingestReport, ingestReportText } from '../../src/services/ingest.js';
import { redacted } from '../../src/services/ingest/normalise.js';
import { acceptUnchangedBody, acceptUnchangedContent, seenBufferFor } from '../../src/services/ingest/touch.js';
import { contentHash, parseReportText, rawReportKey } from '../../src/services/ingest/validate.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, testRules, tool } from './fixtures.js';
import { capturingStore, openInventoryDb, tableScan, type InventoryDb } from './helpers.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 10, minute));

/** A host's report: 8 servers out of a pool of 40 (shared between hosts), with tools and packages. */
function hostReport(h: number, rev = 0) {
  const servers = Array.from({ length: 8 }, (_, i) => {
    const n = (h * 7 + i * 5) % 40;
    return server({
      name: `srv-${n}`,
      args: ['-y', `@example/srv-${n}@1.0.${n === h % 40 ? rev : 0}`],
      tools: [tool(`t${n}a`, `Tool a of ${n}`), tool(`t${n}b`, `Tool b of ${n}`)],
      ...(n % 3 === 0 ? { command: 'bash', args: ['-c', `run ${n}`] } : {}),
    });
  });
  return report(servers, { hostname: `plan-host-${h}` }, at(rev).toISOString());
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`ingest query plans on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 1);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('keeps its own statistics: analyzed after migrations, optimized after bulk changes', async () => {
      if (dialect !== 'sqlite') return;
      const file = new SqliteDatabase(path.join(db.t.dataDir, 'palisade.db'), { readonly: true });
      try {
        const stats = file.prepare("select count(*) as n from sqlite_master where name = 'sqlite_stat1'").get() as { n: number };
        expect(stats.n).toBe(1);
      } finally {
        file.close();
      }
      await storageFor(db.store).maintain(db.store.db, 'bulk');
    });

    it('runs no ingest statement as a table scan', async () => {
      const org = db.orgs[0]!;
      // an aged inventory first: 150 hosts, then the product's own maintenance
      for (let h = 0; h < 150; h++) await ingestReport(db.store, org, hostReport(h), { rules: testRules, now: at(0) });
      await storageFor(db.store).maintain(db.store.db, 'bulk');
      // the statements of changed reports, unchanged ones and a host that drops servers, captured
      const { store: logging, captured } = capturingStore(db);
      try {
        for (let h = 0; h < 6; h++) await ingestReport(logging, org, hostReport(h, 1), { rules: testRules, now: at(5) });
        for (let h = 0; h < 3; h++) await ingestReport(logging, org, hostReport(h, 1), { rules: testRules, now: at(6) });
        await ingestReport(logging, org, report([server({ name: 'srv-1' })], { hostname: 'plan-host-7' }, at(7).toISOString()), {
          rules: testRules,
          now: at(7),
        });
        // an unchanged re-scan (same servers, new scan time): one read, then the buffered last-seen moves
        const text = JSON.stringify(hostReport(10, 2));
        await ingestReportText(logging, org, text, { rules: testRules, now: at(8) });
        const raw = rawReportKey(text.replace(at(2).toISOString(), at(9).toISOString()))!;
        expect(await acceptUnchangedBody(logging, org, raw, at(9).toISOString())).not.toBeNull();
        // the same content in other bytes: found by its content hash
        const same = redacted(parseReportText(text));
        expect(await acceptUnchangedContent(logging, org, contentHash(same), at(9).toISOString(), at(9).toISOString())).not.toBeNull();
        await seenBufferFor(logging).flush();
        expect(captured.some((q) => /update hosts as h set last_seen|update hosts set last_seen = \?, last_scanned_at = case/.test(q.sql))).toBe(true);
        const scans: string[] = [];
        const hot = captured.filter((q) => /^\s*(select|update|delete|with)/i.test(q.sql) && !/set_config|pg_advisory|^select 1$/i.test(q.sql));
        expect(hot.length).toBeGreaterThan(20);
        for (const q of hot) {
          const plan = await tableScan(logging, org, q);
          if (plan) scans.push(`${q.sql}\n${plan}`);
        }
        expect(scans).toEqual([]);
      } finally {
        await logging.db.destroy();
      }
    }, 120_000);

    it('takes 32 concurrent first reports sharing servers and packages with zero errors', async () => {
      const org = db.orgs[0]!;
      const shared = (h: number) =>
        report(
          Array.from({ length: 12 }, (_, i) => {
            // each host lists the shared servers in its own order (lock order must not follow it)
            const n = (i * (h % 2 === 0 ? 1 : 5) + h) % 12;
            return server({
              name: `conc-${n}`,
              args: ['-y', `conc-pkg-${n}@1.0.0`],
              package: { ecosystem: 'npm', name: `conc-pkg-${n}`, version: '1.0.0', pinned: true },
              tools: [tool(`c${n}`, `Tool of ${n}`)],
            });
          }),
          { hostname: `conc-host-${h}` },
        );
      const results = await Promise.allSettled(Array.from({ length: 32 }, (_, h) => ingestReport(db.store, org, shared(h), { rules: testRules, now: at(20) })));
      const errors = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(errors).toEqual([]);
      const rows = await withOrg(db.store, org, (tx) =>
        tx.selectFrom('servers').select(['instance_count', 'host_count']).where('name', 'like', 'conc-%').execute(),
      );
      expect(rows).toHaveLength(12);
      for (const r of rows) expect(r).toEqual({ instance_count: 32, host_count: 32 });
    });
  });
}
