// Webhooks against a real HTTP receiver on 127.0.0.1 that checks the HMAC signature itself:
// alerts from an ingest are delivered signed, Slack-shaped when asked, retried with backoff
// and recorded; admins only; the secret is shown once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, inviteUser, makeTestApp, setupOwner, type TestApp } from '../helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server } from './fixtures.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

class Receiver {
  readonly got: Received[] = [];
  /** status to answer per path; a function gets the attempt count */
  answer: (path: string, n: number) => number = () => 200;
  private srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      this.got.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = this.answer(req.url ?? '', this.got.filter((g) => g.path === req.url).length);
      res.end('ok');
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((r) => this.srv.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.srv.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.srv.close(() => r()));
  }
  on(path: string): Received[] {
    return this.got.filter((g) => g.path === path);
  }
}

/** The receiver's own check: HMAC-SHA256 over "timestamp.body" with the secret, constant-time. */
function signatureValid(secret: string, r: Received): boolean {
  const ts = String(r.headers['x-palisade-timestamp'] ?? '');
  const given = Buffer.from(String(r.headers['x-palisade-signature'] ?? ''));
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`);
  return /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) < 300 && given.length === expected.length && timingSafeEqual(given, expected);
}

async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`webhooks on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let analyst: Client;
    let key: string;
    const receiver = new Receiver();
    let base: string;

    beforeAll(async () => {
      process.env.PALISADE_WEBHOOK_RETRY_BASE_MS = '40'; // retries in milliseconds, not minutes, for the test
      process.env.PALISADE_WEBHOOK_SWEEP_MS = '100';
      process.env.PALISADE_WEBHOOK_ALLOW_PRIVATE = '1'; // the test's receiver listens on loopback
      base = await receiver.start();
      t = await makeTestApp(dialect);
      ({ client: owner } = await setupOwner(t.app));
      ({ client: analyst } = await inviteUser(t.app, owner, 'analyst@a.test', 'analyst'));
      key = (await owner.post('/api/v1/agent-keys', { name: 'k' })).json().key;
    });
    afterAll(async () => {
      await t?.close();
      await receiver.stop();
    });

    const ingest = (r: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(r) });

    it('admins add endpoints (http/https only); the secret is shown once', async () => {
      expect((await analyst.post('/api/v1/webhooks', { name: 'x', url: `${base}/x` })).statusCode).toBe(403);
      expect((await owner.post('/api/v1/webhooks', { name: 'x', url: 'file:///etc/passwd' })).statusCode).toBe(400);
      expect((await owner.post('/api/v1/webhooks', { name: 'x', url: 'gopher://127.0.0.1/' })).statusCode).toBe(400);
      const res = await owner.post('/api/v1/webhooks', { name: 'generic', url: `${base}/generic`, minSeverity: 'info' });
      expect(res.statusCode).toBe(201);
      expect(res.json().secret).toMatch(/^whsec_/);
      const list = await owner.get('/api/v1/webhooks');
      expect(list.body).not.toContain(res.json().secret);
      expect(list.json().items[0]).toMatchObject({ name: 'generic', enabled: true, secretPrefix: res.json().secret.slice(0, 12) });
    });

    it('refuses internal targets (SSRF) unless the operator allows them; metadata addresses always', async () => {
      process.env.PALISADE_WEBHOOK_ALLOW_PRIVATE = '0';
      try {
        const before = (await owner.get('/api/v1/webhooks')).json();
        for (const url of ['http://10.0.0.5/hook', 'http://127.0.0.1:9/x', 'http://localhost:8080/x', 'http://[::1]/x']) {
          const res = await owner.post('/api/v1/webhooks', { name: 'internal', url });
          expect(res.statusCode, url).toBe(400);
          expect(res.json().error.message).toContain('PALISADE_WEBHOOK_ALLOW_PRIVATE=1');
        }
        expect((await owner.get('/api/v1/webhooks')).json()).toEqual(before);
      } finally {
        process.env.PALISADE_WEBHOOK_ALLOW_PRIVATE = '1';
      }
      expect((await owner.post('/api/v1/webhooks', { name: 'meta', url: 'http://169.254.169.254/latest/meta-data/' })).statusCode).toBe(400);
    });

    it('delivers alerts from an ingest, signed; Slack endpoints get {text, blocks}', async () => {
      const generic = (await owner.get('/api/v1/webhooks')).json().items[0];
      const secret = (await owner.post('/api/v1/webhooks', { name: 'slack', url: `${base}/slack`, format: 'slack', minSeverity: 'info' })).json().secret as string;
      const hooks = (await owner.get('/api/v1/webhooks')).json().items;
      expect(hooks).toHaveLength(2);
      await ingest(report([server({ name: 'alpha' })], { hostname: 'wh-host' }));
      await until(() => receiver.on('/generic').length >= 1 && receiver.on('/slack').length >= 1);
      const g = receiver.on('/generic')[0]!;
      expect(g.headers['content-type']).toBe('application/json');
      expect(g.headers['x-palisade-event']).toBe('alert.created');
      const body = JSON.parse(g.body);
      expect(body).toMatchObject({ event: 'alert.created', alert: { type: 'server_added', status: 'open' } });
      expect(signatureValid(secret, receiver.on('/slack')[0]!)).toBe(true);
      expect(signatureValid(secret, g)).toBe(false); // each endpoint has its own secret
      const slack = JSON.parse(receiver.on('/slack')[0]!.body);
      expect(typeof slack.text).toBe('string');
      expect(Array.isArray(slack.blocks)).toBe(true);
      const deliveries = (await owner.get(`/api/v1/webhooks/${generic.id}/deliveries`)).json();
      await until(async () => (await owner.get(`/api/v1/webhooks/${generic.id}/deliveries`)).json().items.every((d: { status: string }) => d.status === 'delivered'));
      expect(deliveries.total).toBeGreaterThan(0);
    });

    it('retries a failing endpoint with backoff, then records it delivered; gives up after the last attempt', async () => {
      const flaky = (await owner.post('/api/v1/webhooks', { name: 'flaky', url: `${base}/flaky`, minSeverity: 'info' })).json();
      const dead = (await owner.post('/api/v1/webhooks', { name: 'dead', url: `${base}/dead`, minSeverity: 'info' })).json();
      receiver.answer = (path, n) => (path === '/flaky' ? (n < 3 ? 503 : 200) : path === '/dead' ? 500 : 200);
      const r1 = await owner.post(`/api/v1/webhooks/${flaky.id}/test`, {});
      // the first attempt has happened when the test route answers (a quick retry may have too)
      expect(r1.statusCode).toBe(200);
      expect(r1.json().attempts).toBeGreaterThanOrEqual(1);
      expect(receiver.on('/flaky')[0]).toBeDefined();
      expect(signatureValid(flaky.secret, receiver.on('/flaky')[0]!)).toBe(true);
      await owner.post(`/api/v1/webhooks/${dead.id}/test`, {});
      await until(async () => (await owner.get(`/api/v1/webhooks/${flaky.id}/deliveries`)).json().items[0].status === 'delivered');
      const d = (await owner.get(`/api/v1/webhooks/${flaky.id}/deliveries`)).json().items[0];
      expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200 });
      // every attempt carries the same body, each signed afresh
      const bodies = new Set(receiver.on('/flaky').map((x) => x.body));
      expect(bodies.size).toBe(1);
      expect(receiver.on('/flaky').every((x) => signatureValid(flaky.secret, x))).toBe(true);
      await until(async () => (await owner.get(`/api/v1/webhooks/${dead.id}/deliveries`)).json().items[0].status === 'failed');
      const failed = (await owner.get(`/api/v1/webhooks/${dead.id}/deliveries`)).json().items[0];
      expect(failed).toMatchObject({ status: 'failed', attempts: 5, lastStatusCode: 500, nextAttemptAt: null });
      expect(receiver.on('/dead')).toHaveLength(5);
    });

    it('disabled and deleted endpoints get nothing; analysts cannot change them', async () => {
      const hooks = (await owner.get('/api/v1/webhooks')).json().items as Array<{ id: string; name: string }>;
      const generic = hooks.find((h) => h.name === 'generic')!;
      expect((await analyst.request('PATCH', `/api/v1/webhooks/${generic.id}`, { body: { enabled: false } })).statusCode).toBe(403);
      expect((await owner.request('PATCH', `/api/v1/webhooks/${generic.id}`, { body: { enabled: false } })).json().enabled).toBe(false);
      for (const h of hooks.filter((x) => x.name !== 'generic')) expect((await owner.request('DELETE', `/api/v1/webhooks/${h.id}`)).statusCode).toBe(204);
      const before = receiver.got.length;
      await ingest(report([server({ name: 'alpha' }), server({ name: 'beta' })], { hostname: 'wh-host' }));
      await new Promise((r) => setTimeout(r, 400));
      expect(receiver.got.length).toBe(before);
    });
  });
}
