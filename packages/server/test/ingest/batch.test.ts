// Issue 12: the queue stores several queued reports of one organisation in one transaction
// (Storage.ingestBatch). Each report's result and the rows it leaves are those of the same
// reports stored one per transaction; a report that fails inside a batch fails alone (the batch
// is rolled back and each report runs on its own); a report accepted here is processed from the
// parsed form kept since accept. Behaviour only (counts, statuses), no timing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgScope } from '../../src/db/index.js';
import { IngestQueue, queueLimits } from '../../src/services/ingest/queue.js';
import type { IngestResult } from '../../src/services/ingest/types.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, tool } from '../inventory/fixtures.js';
import { countRows, openInventoryDb, type InventoryDb } from '../inventory/helpers.js';

const from = { agentKeyId: null, ip: '127.0.0.1' };

/** Host h's report at revision rev: 4 servers shared between hosts, one of them moved to a new version per revision. */
function hostReport(h: number, rev: number, extra = 0) {
  const servers = Array.from({ length: 4 + extra }, (_, i) =>
    server({
      name: `batch-srv-${(h + i) % 6}`,
      args: ['-y', `@example/batch-srv-${(h + i) % 6}@1.0.${i === rev % 4 ? rev : 0}`],
      tools: [tool(`t${(h + i) % 6}`, `Tool of ${(h + i) % 6}${i === rev % 4 ? ` v${rev}` : ''}`)],
      ...(i === 1 && rev % 2 === 1 ? { command: 'bash', args: ['-c', `run ${h}`] } : {}),
    }),
  );
  return JSON.stringify(report(servers, { hostname: `batch-host-${h}` }, new Date(Date.UTC(2026, 10, 20, 10, rev)).toISOString()));
}

async function runAll(queue: IngestQueue, scope: OrgScope, bodies: string[]): Promise<Array<{ status: string; result: IngestResult | null; error: string | null }>> {
  queue.pause();
  const ids: string[] = [];
  for (const body of bodies) {
    const a = await queue.accept(scope, body, from);
    expect(a.id).not.toBeNull();
    ids.push(a.id!);
  }
  queue.start();
  await queue.drained();
  const out = [];
  for (const id of ids) {
    const s = await queue.status(scope, id);
    out.push({ status: s!.status, result: s!.result, error: s!.error });
  }
  return out;
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`ingest batches on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 3);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('stores reports batched as it stores them one by one: the same results and rows', async () => {
      const [batchedOrg, singleOrg] = [db.orgs[0]!, db.orgs[1]!];
      const batched = new IngestQueue(db.store, {}, { ...queueLimits(dialect), batch: 8 });
      const single = new IngestQueue(db.store, {}, { ...queueLimits(dialect), batch: 1, concurrency: 1 });
      try {
        const rounds = [0, 1, 2, 3].map((rev) => Array.from({ length: 6 }, (_, h) => hostReport(h, rev)));
        for (const bodies of rounds) {
          const a = await runAll(batched, batchedOrg, bodies);
          const b = await runAll(single, singleOrg, bodies);
          const shape = (r: (typeof a)[number]) => ({ status: r.status, unchanged: r.result?.unchanged, servers: r.result?.servers, events: r.result?.events, alerts: r.result?.alerts });
          expect(a.map(shape)).toEqual(b.map(shape));
          expect(a.every((r) => r.status === 'done')).toBe(true);
        }
        expect(batched.batches).toBeGreaterThan(0);
        expect(single.batches).toBe(0);
        // accepted by this queue: processed from the parsed form kept since accept
        expect(batched.sources).toEqual({ kept: 24, inbox: 0 });
        expect(await countRows(db, batchedOrg)).toEqual(await countRows(db, singleOrg));
      } finally {
        await batched.stop();
        await single.stop();
      }
    }, 120_000);

    it('fails a report that fails inside a batch alone: the others of the batch are stored', async () => {
      const scope = db.orgs[2]!;
      // the report with 5 servers fails after its writes, inside the batch's transaction
      const queue = new IngestQueue(
        db.store,
        {
          afterWrite: async (_tx, _scope, _job, result) => {
            if (result.servers === 5) throw new Error('test: this report fails');
          },
          onError: () => undefined,
        },
        { ...queueLimits(dialect), batch: 8 },
      );
      try {
        const bodies = [hostReport(0, 0), hostReport(1, 0), hostReport(2, 0, 1), hostReport(3, 0), hostReport(4, 0)];
        const out = await runAll(queue, scope, bodies);
        expect(out.map((r) => r.status)).toEqual(['done', 'done', 'failed', 'done', 'done']);
        const rows = await countRows(db, scope);
        expect(rows.hosts).toBe(4);
        expect(rows.reports).toBe(4);
        // and the next batch of the same hosts is stored whole
        const next = await runAll(queue, scope, [0, 1, 3, 4].map((h) => hostReport(h, 1)));
        expect(next.map((r) => r.status)).toEqual(['done', 'done', 'done', 'done']);
        expect((await countRows(db, scope)).reports).toBe(8);
      } finally {
        await queue.stop();
      }
    }, 120_000);
  });
}
