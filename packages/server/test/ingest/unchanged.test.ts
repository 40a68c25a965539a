// Unchanged re-scans recognised at accept (issue 12, lever 1): by the raw body's key (only the
// scan time differs) or by the report's content hash (other bytes: key order, a probe's
// duration), answered 200 from one read with no inbox row and no report stored; the last-seen
// moves are written with others. And never while a report of the same host still waits in the
// inbox: a host that changes and changes back ends in its last state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrg } from '../../src/db/index.js';
import { ingestQueueFor } from '../../src/services/ingest/queue.js';
import { contentHash } from '../../src/services/ingest/validate.js';
import { makeTestApp, setupOwner, type TestApp } from '../helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server } from '../inventory/fixtures.js';

/** The same object with its keys in reverse order at every level: the same JSON value in other bytes. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)]));
  return v;
}

describe('content hash', () => {
  it('ignores the scan time and each probe duration, and nothing else', () => {
    const probe = (durationMs: number, ok = true) => ({ ok, serverInfo: { name: 'x', version: '1' }, durationMs });
    const a = report([server({ name: 'a', probe: probe(12) })], {}, '2026-11-20T10:00:00.000Z');
    const b = report([server({ name: 'a', probe: probe(340) })], {}, '2026-11-20T10:15:00.000Z');
    expect(contentHash(b)).toBe(contentHash(a));
    expect(contentHash(reversedKeys(a) as typeof a)).toBe(contentHash(a));
    expect(contentHash(report([server({ name: 'a', probe: probe(12, false) })]))).not.toBe(contentHash(a));
    expect(contentHash(report([server({ name: 'a', probe: probe(12) })], { hostname: 'other' }))).not.toBe(contentHash(a));
    expect(contentHash(report([server({ name: 'a', args: ['-y', '@example/a@1.0.1'], probe: probe(12) })]))).not.toBe(contentHash(a));
  });
});

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`unchanged re-scans at accept on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let key: string;
    let org: string;
    beforeAll(async () => {
      t = await makeTestApp(dialect);
      const a = await setupOwner(t.app);
      org = a.orgId;
      key = (await a.client.post('/api/v1/agent-keys', { name: 'a' })).json().key as string;
    });
    afterAll(async () => {
      await t?.close();
    });
    const send = (body: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json', prefer: 'wait=0' }, payload: body });
    const queue = () => ingestQueueFor(t.platform.store);
    const counts = (hostname: string) =>
      withOrg(t.platform.store, { orgId: org }, async (tx) => {
        const inbox = await tx
          .withTables<{ ingest_inbox: { org_id: string; host_key: string } }>()
          .selectFrom('ingest_inbox')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('org_id', '=', org)
          .where('host_key', '=', `${hostname}|alice`)
          .executeTakeFirstOrThrow();
        const host = await tx.selectFrom('hosts').select(['id', 'last_seen', 'last_scanned_at']).where('org_id', '=', org).where('hostname', '=', hostname).executeTakeFirstOrThrow();
        const reports = await tx.selectFrom('reports').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).where('host_id', '=', host.id).executeTakeFirstOrThrow();
        const servers = await tx
          .selectFrom('server_instances as i')
          .innerJoin('servers as s', 's.id', 'i.server_id')
          .select('s.name')
          .where('i.org_id', '=', org)
          .where('i.host_id', '=', host.id)
          .orderBy('s.name')
          .execute();
        return { inbox: Number(inbox.n), reports: Number(reports.n), host, servers: servers.map((s) => s.name) };
      });

    it('answers a re-scan in other bytes (key order, probe durations) with 200 from one read: no inbox row, no report', async () => {
      const first = report([server({ name: 'u-a', probe: { ok: true, durationMs: 40 } }), server({ name: 'u-b' })], { hostname: 'unchanged-1' }, '2026-11-20T10:00:00.000Z');
      const r1 = await send(JSON.stringify(first));
      expect(r1.statusCode).toBe(202);
      await queue().drained();
      const before = await counts('unchanged-1');
      expect(before).toMatchObject({ inbox: 1, reports: 1, servers: ['u-a', 'u-b'] });

      const again = report([server({ name: 'u-a', probe: { ok: true, durationMs: 95 } }), server({ name: 'u-b' })], { hostname: 'unchanged-1' }, '2026-11-20T10:15:00.000Z');
      const r2 = await send(JSON.stringify(reversedKeys(again)));
      expect(r2.statusCode).toBe(200);
      expect(r2.json()).toMatchObject({ status: 'done', unchanged: true, hostId: before.host.id, servers: 2 });
      await queue().flushSeen();
      const after = await counts('unchanged-1');
      expect(after).toMatchObject({ inbox: 1, reports: 1, servers: ['u-a', 'u-b'] });
      expect(after.host.last_scanned_at).toBe('2026-11-20T10:15:00.000Z');
      expect(after.host.last_seen >= before.host.last_seen).toBe(true);
    });

    it('queues a re-scan behind a report of the same host still in the inbox: changed and changed back ends in the last state', async () => {
      const v1 = (at: string) => report([server({ name: 'back-a' })], { hostname: 'unchanged-2' }, at);
      const r1 = await send(JSON.stringify(v1('2026-11-20T10:00:00.000Z')));
      expect(r1.statusCode).toBe(202);
      await queue().drained();
      queue().pause();
      try {
        // v2 waits in the inbox; then v1 again, in the same bytes but the scan time, then in other bytes
        const r2 = await send(JSON.stringify(report([server({ name: 'back-b' })], { hostname: 'unchanged-2' }, '2026-11-20T10:05:00.000Z')));
        expect(r2.statusCode).toBe(202);
        const r3 = await send(JSON.stringify(v1('2026-11-20T10:10:00.000Z')));
        expect(r3.statusCode).toBe(202);
        const r4 = await send(JSON.stringify(reversedKeys(v1('2026-11-20T10:15:00.000Z'))));
        expect(r4.statusCode).toBe(202);
      } finally {
        queue().start();
      }
      await queue().drained();
      const after = await counts('unchanged-2');
      expect(after.servers).toEqual(['back-a']);
      // v1, v2, v1 again (the fourth is v1 unchanged: processed as a touch, no report of its own)
      expect(after.reports).toBe(3);
      expect(after.inbox).toBe(4);
      // and with nothing pending, v1 once more is answered at accept
      const r5 = await send(JSON.stringify(v1('2026-11-20T10:20:00.000Z')));
      expect(r5.statusCode).toBe(200);
      expect(r5.json()).toMatchObject({ unchanged: true });
    });

    it('runs one host\'s waiting reports one at a time, in the order received, while other hosts run beside them', async () => {
      const hosts = ['order-1', 'order-2'];
      // twelve versions per host that alternate (each changes the one before it back), queued
      // back to back: taken side by side, a version would be judged against the state two
      // versions back (the same as itself: "unchanged") while the one before it is still writing
      const N = 12;
      const name = (i: number) => (i % 2 ? 'odd' : 'even');
      const version = (h: string, i: number) => report([server({ name: name(i) })], { hostname: h }, `2026-11-21T10:${String(i).padStart(2, '0')}:00.000Z`);
      for (const h of hosts) expect((await send(JSON.stringify(version(h, 0)))).statusCode).toBe(202);
      await queue().drained();
      queue().pause();
      try {
        for (const h of hosts) for (let i = 1; i < N; i++) expect((await send(JSON.stringify(version(h, i)))).statusCode).toBe(202);
      } finally {
        queue().start();
      }
      await queue().drained();
      for (const h of hosts) expect((await counts(h)).servers, h).toEqual([name(N - 1)]);
    });
  });
}
