// Webhook fairness and shutdown (issue 13): one organisation's flood or slow endpoint does not
// hold up another's alerts; concurrency per organisation and in all is bounded; every attempt
// has a deadline; "send test" answers within its timeout; delivery errors name the host and
// a generic reason, never a resolved address; dead letters are counted and shown; SIGTERM
// drains with a deadline, leaves what is undelivered queued, and exits 0.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withOrg, type OpenedDatabase } from '../src/db/index.js';
import { WebhookDispatcher } from '../src/services/webhooks/dispatcher.js';
import { sendWebhook } from '../src/services/webhooks/send.js';
import { makeTestApp, setupOwner, SETUP_TOKEN, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason, tempDir } from './helpers/databases.js';
import { openInventoryDb, type InventoryDb } from './inventory/helpers.js';

/** A receiver on 127.0.0.1 that answers after `delayMs` (never, when Infinity) and counts concurrency. */
class Receiver {
  delayMs = 0;
  status = 200;
  got: { path: string; at: number }[] = [];
  concurrent = 0;
  maxConcurrent = 0;
  private readonly open = new Set<http.ServerResponse>();
  private readonly srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      this.got.push({ path: req.url ?? '', at: Date.now() });
      this.concurrent++;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
      this.open.add(res);
      const end = () => {
        this.concurrent--;
        this.open.delete(res);
        if (!res.writableEnded) {
          res.statusCode = this.status;
          res.end('ok');
        }
      };
      res.on('close', () => {
        if (this.open.has(res)) {
          this.concurrent--;
          this.open.delete(res);
        }
      });
      if (Number.isFinite(this.delayMs)) setTimeout(end, this.delayMs);
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((r) => this.srv.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.srv.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    for (const r of this.open) r.destroy();
    this.srv.closeAllConnections();
    await new Promise((r) => this.srv.close(() => r(undefined)));
  }
}

async function addHook(store: OpenedDatabase, orgId: string, url: string): Promise<string> {
  const id = crypto.randomUUID();
  await withOrg(store, { orgId }, (tx) =>
    tx
      .insertInto('webhooks')
      .values({
        id,
        org_id: orgId,
        name: 'h',
        url,
        format: 'generic',
        secret: 'whsec_test',
        secret_prefix: 'whsec_test',
        min_severity: 'info',
        disabled_at: null,
        created_by: null,
        created_at: new Date().toISOString(),
      })
      .execute(),
  );
  return id;
}

async function queue(store: OpenedDatabase, orgId: string, hookId: string, n: number, path = ''): Promise<string[]> {
  const now = new Date().toISOString();
  const ids: string[] = [];
  await withOrg(store, { orgId }, async (tx) => {
    for (let i = 0; i < n; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      await tx
        .insertInto('webhook_deliveries')
        .values({
          id,
          org_id: orgId,
          webhook_id: hookId,
          alert_id: null,
          event: `alert.test${path}`,
          body: '{}',
          status: 'pending',
          attempts: 0,
          last_status_code: null,
          last_error: null,
          next_attempt_at: now,
          created_at: now,
          delivered_at: null,
        })
        .execute();
      await tx.insertInto('webhook_queue').values({ delivery_id: id, org_id: orgId, due_at: now }).execute();
    }
  });
  return ids;
}

const statusOf = async (store: OpenedDatabase, orgId: string, id: string) =>
  withOrg(store, { orgId }, (tx) =>
    tx.selectFrom('webhook_deliveries').select(['status', 'attempts', 'last_error']).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirstOrThrow(),
  );

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`webhook fairness on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    const receivers: Receiver[] = [];
    let dispatcher: WebhookDispatcher | undefined;
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 2);
    });
    afterEach(async () => {
      await dispatcher?.stop(0);
      for (const r of receivers.splice(0)) await r.stop();
    });
    afterAll(async () => {
      await db?.close();
    });

    it("one organisation's flood to a slow endpoint neither delays another's alert nor exceeds its share", async () => {
      const [A, B] = db.orgs as [{ orgId: string }, { orgId: string }];
      const slow = new Receiver();
      const fast = new Receiver();
      receivers.push(slow, fast);
      slow.delayMs = 3_000;
      const slowHook = await addHook(db.store, A.orgId, await slow.start());
      const fastHook = await addHook(db.store, B.orgId, await fast.start());
      await queue(db.store, A.orgId, slowHook, 40);
      const [bId] = await queue(db.store, B.orgId, fastHook, 1);
      dispatcher = new WebhookDispatcher(db.store, {
        allowPrivate: true,
        concurrency: 4,
        perOrgConcurrency: 2,
        perOrgQueue: 10,
        attemptTimeoutMs: 5_000,
        sweepEveryMs: 60_000,
      });
      const started = Date.now();
      void dispatcher.kick();
      const deadline = Date.now() + 2_500;
      while ((await statusOf(db.store, B.orgId, bId!)).status !== 'delivered') {
        expect(Date.now(), "the other organisation's alert waited behind the flood").toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(fast.got.length).toBe(1);
      expect(fast.got[0]!.at - started).toBeLessThan(2_000);
      // the flood runs at most its own share at once, and at most perOrgQueue ids sit in memory
      await new Promise((r) => setTimeout(r, 300));
      expect(slow.maxConcurrent).toBeLessThanOrEqual(2);
      expect(dispatcher.stats().queued).toBeLessThanOrEqual(10);
    });

    it('every attempt has a deadline; a hung endpoint is retried with backoff, then becomes a dead letter', async () => {
      const [A] = db.orgs as [{ orgId: string }];
      const hung = new Receiver();
      receivers.push(hung);
      hung.delayMs = Infinity;
      const hook = await addHook(db.store, A.orgId, await hung.start());
      const [id] = await queue(db.store, A.orgId, hook, 1, '/hung');
      dispatcher = new WebhookDispatcher(db.store, { allowPrivate: true, attemptTimeoutMs: 300, retryBaseMs: 50, retryCapMs: 200, sweepEveryMs: 100 });
      dispatcher.start();
      void dispatcher.kick();
      // a bound for a loaded machine, not a timing check: five attempts take about 2.5 s
      const end = Date.now() + 45_000;
      let s = await statusOf(db.store, A.orgId, id!);
      while (s.status === 'pending' && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        s = await statusOf(db.store, A.orgId, id!);
      }
      expect(s).toMatchObject({ status: 'failed', attempts: 5 });
      expect(s.last_error).toMatch(/^No answer from 127\.0\.0\.1 within 300 ms\.$/);
      expect(hung.got.length).toBe(5);
      // the gaps grow (exponential backoff) and are never exactly the base (jitter)
      const gaps = hung.got.slice(1).map((g, i) => g.at - hung.got[i]!.at);
      expect(gaps.every((g) => g >= 300)).toBe(true);
    }, 60_000);
  });
}

describe('webhook delivery errors name the host, never a resolved address', () => {
  it('a refused private destination and a refused connection', async () => {
    const refused = await sendWebhook({ url: 'http://localhost:9/hook', secret: 's', body: '{}', event: 'x', allowPrivate: false, timeoutMs: 2_000 });
    expect(refused.error).toMatch(/^Not sent: localhost resolves to a private or loopback address/);
    expect(refused.error).not.toMatch(/127\.0\.0\.1|::1/);
    const closed = await sendWebhook({ url: 'http://localhost:9/hook', secret: 's', body: '{}', event: 'x', allowPrivate: true, timeoutMs: 2_000 });
    expect(closed.error).toMatch(/^Could not reach localhost: the connection was refused\.$/);
    expect(closed.error).not.toMatch(/127\.0\.0\.1|::1|ECONNREFUSED/);
  });
});

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`send test and dead letters on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    const receiver = new Receiver();
    let base: string;
    beforeAll(async () => {
      process.env.PALISADE_WEBHOOK_ALLOW_PRIVATE = '1';
      t = await makeTestApp(dialect);
      base = await receiver.start();
    });
    afterAll(async () => {
      await receiver.stop();
      await t?.close();
      delete process.env.PALISADE_WEBHOOK_ALLOW_PRIVATE;
    });

    it('"send test" to an endpoint that never answers answers within its timeout, and the hook shows its dead letters', async () => {
      const { client } = await setupOwner(t.app);
      receiver.delayMs = Infinity;
      const hook = (await client.post('/api/v1/webhooks', { name: 'hangs', url: `${base}/hang`, minSeverity: 'info' })).json();
      const started = Date.now();
      const r = await client.post(`/api/v1/webhooks/${hook.id}/test`, {});
      expect(Date.now() - started).toBeLessThan(7_000);
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ status: 'pending', attempts: 1, deadLetter: false });
      expect(r.json().lastError).toMatch(/No answer from 127\.0\.0\.1 within 5000 ms/);
      // a delivery that gives up is a dead letter, counted on the hook
      const orgId = (await client.get('/api/v1/me')).json().org.id as string;
      await withOrg(t.platform.store, { orgId }, (tx) =>
        tx.updateTable('webhook_deliveries').set({ status: 'failed', next_attempt_at: null }).where('org_id', '=', orgId).execute(),
      );
      const listed = (await client.get('/api/v1/webhooks')).json().items[0];
      expect(listed.deadLetters).toBe(1);
      expect((await client.get(`/api/v1/webhooks/${hook.id}/deliveries`)).json().items[0]).toMatchObject({ status: 'failed', deadLetter: true });
    }, 20_000);
  });
}

describe('SIGTERM with webhook deliveries in flight', () => {
  it('drains with a deadline, leaves the undelivered ones queued, and exits 0', async () => {
    const hung = new Receiver();
    hung.delayMs = Infinity;
    const base = await hung.start();
    const data = tempDir();
    // a database with 20 queued deliveries to an endpoint that never answers
    const t = await makeTestApp('sqlite', { dataDir: data, setupToken: SETUP_TOKEN });
    const { orgId } = await setupOwner(t.app);
    const hookId = await addHook(t.platform.store, orgId, `${base}/hang`);
    const ids = await queue(t.platform.store, orgId, hookId, 20);
    await t.app.close();
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const script = `const m = await import(${JSON.stringify(main)}); process.exitCode = await m.runServe({ port: '0', host: '127.0.0.1', data: process.env.PALISADE_DATA_DIR });`;
    const { DATABASE_URL: _d, NODE_ENV: _n, ...env } = process.env;
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repo,
      env: {
        ...env,
        PALISADE_DATA_DIR: data,
        PALISADE_WEBHOOK_ALLOW_PRIVATE: '1',
        PALISADE_WEBHOOK_SWEEP_MS: '100',
        PALISADE_WEBHOOK_TIMEOUT_MS: '60000',
        PALISADE_WEBHOOK_DRAIN_MS: '2000',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const until = Date.now() + 60_000;
      while (hung.concurrent < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(hung.concurrent, stderr).toBeGreaterThanOrEqual(2);
      const sent = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - sent).toBeLessThan(8_000);
      expect(stderr).toMatch(/webhook deliveries in flight/);
    } finally {
      child.kill('SIGKILL');
      await hung.stop();
    }
    // nothing lost: every delivery is still pending, still queued, no attempt recorded
    const after = await makeTestApp('sqlite', { dataDir: data });
    try {
      const rows = await withOrg(after.platform.store, { orgId }, (tx) =>
        tx.selectFrom('webhook_deliveries').select(['id', 'status', 'attempts']).where('org_id', '=', orgId).execute(),
      );
      expect(rows.filter((r) => ids.includes(r.id)).every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);
      const queued = await after.platform.store.db.selectFrom('webhook_queue').select('delivery_id').execute();
      expect(queued.map((q) => q.delivery_id).sort()).toEqual([...ids].sort());
    } finally {
      await after.app.close();
    }
  }, 90_000);

  it('drains for 10 seconds by default', () => {
    expect(new WebhookDispatcher({} as never).options.drainMs).toBe(10_000);
  });
});
