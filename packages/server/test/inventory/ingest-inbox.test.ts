// Accept, then process (issue 12): 202 with an id, the status by id, idempotent by (host, body),
// resumed after a restart, fair between organisations (ordering of completion, not timing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrg } from '../../src/db/index.js';
import { ingestQueueFor } from '../../src/services/ingest/queue.js';
import { makeTestApp, setupOwner, signupOwner, type TestApp } from '../helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, tool } from './fixtures.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`ingest inbox on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let keyA: string;
    let keyB: string;
    let orgA: string;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { signupOpen: true });
      const a = await setupOwner(t.app);
      const b = await signupOwner(t.app, 'owner@b.test', 'Org B');
      orgA = a.orgId;
      keyA = (await a.client.post('/api/v1/agent-keys', { name: 'a' })).json().key as string;
      keyB = (await b.client.post('/api/v1/agent-keys', { name: 'b' })).json().key as string;
    });
    afterAll(async () => {
      await t?.close();
    });
    const send = (key: string, body: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/agent/report',
        headers: { 'x-api-key': key, 'content-type': 'application/json', prefer: 'wait=0' },
        payload: body,
      });
    const status = (key: string, id: string) => t.app.inject({ method: 'GET', url: `/api/v1/agent/report/${id}`, headers: { 'x-api-key': key } });

    it('answers 202 with an id, processes the report, gives its status; a resend is the same report', async () => {
      const body = JSON.stringify(report([server({ name: 'inbox-a' })], { hostname: 'inbox-1' }));
      const res = await send(keyA, body);
      expect(res.statusCode).toBe(202);
      const { id } = res.json() as { id: string };
      await ingestQueueFor(t.platform.store).drained();
      const s = await status(keyA, id);
      expect(s.statusCode).toBe(200);
      expect(s.json()).toMatchObject({ id, status: 'done', result: { reportId: id, unchanged: false, servers: 1 } });
      // the same body again: the same inbox row, nothing new stored
      const again = await send(keyA, body);
      expect([200, 202]).toContain(again.statusCode);
      const reports = await withOrg(t.platform.store, { orgId: orgA }, (tx) => tx.selectFrom('reports').select('id').where('org_id', '=', orgA).execute());
      expect(reports.map((r) => r.id)).toEqual([id]);
      // another organisation's key cannot read it
      expect((await status(keyB, id)).statusCode).toBe(404);
    });

    it('processes a small organisation’s reports before a big report of another that came first', async () => {
      const queue = ingestQueueFor(t.platform.store);
      queue.pause();
      // org A: one report of about 4 MB (many servers with tools)
      const big = report(
        Array.from({ length: 1200 }, (_, i) =>
          server({
            name: `big-${i}`,
            args: ['-y', `@big/pkg-${i}@1.0.0`],
            tools: Array.from({ length: 10 }, (_, k) => tool(`tool_${k}`, `Tool ${k} of big ${i}: ${'x'.repeat(180)}`)),
          }),
        ),
        { hostname: 'big-host' },
      );
      const bigBody = JSON.stringify(big);
      expect(bigBody.length).toBeGreaterThan(3_500_000);
      const a = await send(keyA, bigBody);
      expect(a.statusCode).toBe(202);
      const small: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await send(keyB, JSON.stringify(report([server({ name: `small-${i}` })], { hostname: `small-${i}` })));
        expect(r.statusCode).toBe(202);
        small.push((r.json() as { id: string }).id);
      }
      queue.start();
      await queue.drained();
      const done = async (key: string, id: string) => (await status(key, id)).json() as { status: string; processedAt: string };
      const bigDone = await done(keyA, (a.json() as { id: string }).id);
      expect(bigDone.status).toBe('done');
      for (const id of small) {
        const s = await done(keyB, id);
        expect(s.status).toBe('done');
        expect(s.processedAt < bigDone.processedAt).toBe(true);
      }
    }, 120_000);

    it('keeps the bytes of reports processed at once within the in-flight budget, and still runs every large one', async () => {
      const queue = ingestQueueFor(t.platform.store);
      queue.pause();
      const saved = { ...queue.limits };
      queue.limits.concurrency = 4;
      queue.limits.inflightBytes = 2_500_000;
      queue.peakInflightBytes = 0;
      try {
        // org A: three reports of about 1 MB (two never fit beside each other with a small one), org B: small ones
        const large = (n: number) =>
          JSON.stringify(
            report(
              Array.from({ length: 300 }, (_, i) =>
                server({
                  name: `mem-${n}-${i}`,
                  args: ['-y', `@mem/pkg-${i}@1.0.0`],
                  tools: Array.from({ length: 10 }, (_, k) => tool(`tool_${k}`, `Tool ${k} of ${i}: ${'y'.repeat(180)}`)),
                }),
              ),
              { hostname: `mem-host-${n}` },
            ),
          );
        const bigIds: string[] = [];
        for (let n = 0; n < 3; n++) {
          const body = large(n);
          expect(body.length).toBeGreaterThan(900_000);
          const r = await send(keyA, body);
          expect(r.statusCode).toBe(202);
          bigIds.push((r.json() as { id: string }).id);
        }
        const small: string[] = [];
        for (let i = 0; i < 8; i++) {
          const r = await send(keyB, JSON.stringify(report([server({ name: `mem-small-${i}` })], { hostname: `mem-small-${i}` })));
          small.push((r.json() as { id: string }).id);
        }
        queue.start();
        await queue.drained();
        for (const id of bigIds) expect(((await status(keyA, id)).json() as { status: string }).status).toBe('done');
        for (const id of small) expect(((await status(keyB, id)).json() as { status: string }).status).toBe('done');
        expect(queue.peakInflightBytes).toBeGreaterThan(900_000);
        expect(queue.peakInflightBytes).toBeLessThanOrEqual(2_500_000);
      } finally {
        Object.assign(queue.limits, saved);
      }
    }, 180_000);

    it('resumes the inbox after a restart: a report accepted but not processed is processed once', async () => {
      const queue = ingestQueueFor(t.platform.store);
      queue.pause();
      const res = await send(keyA, JSON.stringify(report([server({ name: 'resume-a' })], { hostname: 'resume-1' })));
      expect(res.statusCode).toBe(202);
      const { id } = res.json() as { id: string };
      // a second app on the same database (a restart): its queue resumes the pending row
      const again = await makeTestApp(dialect, {}, t.db);
      try {
        await again.app.ready();
        await ingestQueueFor(again.platform.store).drained();
        const s = (await again.app.inject({ method: 'GET', url: `/api/v1/agent/report/${id}`, headers: { 'x-api-key': keyA } })).json() as { status: string };
        expect(s.status).toBe('done');
      } finally {
        await again.app.close();
      }
      queue.start();
      await queue.drained();
      const reports = await withOrg(t.platform.store, { orgId: orgA }, (tx) => tx.selectFrom('reports').select('id').where('id', '=', id).execute());
      expect(reports).toHaveLength(1);
    });
  });
}
