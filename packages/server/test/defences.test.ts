// Defences: headers and CSP, closed CORS, body limits, request ids, error shape, log
// redaction, health, metrics and the OpenAPI document, on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, makeTestApp, PASSWORD, setupOwner, SETUP_TOKEN, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`defences on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let agentKey: string;

    beforeAll(async () => {
      t = await makeTestApp(dialect);
      ({ client: owner } = await setupOwner(t.app));
      await new Client(t.app).post('/api/v1/auth/login', { email: 'owner@a.test', password: PASSWORD });
      agentKey = (await owner.post('/api/v1/agent-keys', { name: 'k' })).json().key;
      await t.app.inject({ method: 'GET', url: '/api/v1/agent/whoami', headers: { 'x-api-key': agentKey, authorization: `Bearer ${agentKey}` } });
      await t.app.inject({ method: 'GET', url: `/setup?token=${SETUP_TOKEN}` });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('sends a strict CSP and security headers; no CORS headers even for a foreign Origin', async () => {
      const r = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example' } });
      const csp = String(r.headers['content-security-policy']);
      for (const d of [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
      ])
        expect(csp).toContain(d);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect((await owner.get('/api/v1/me')).headers['cache-control']).toBe('no-store');
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      const pre = await t.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/me',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(Object.keys(pre.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    });

    it('limits JSON bodies to 1 MiB with a JSON 413', async () => {
      const big = JSON.stringify({ email: 'a@a.test', password: 'x'.repeat(1024 * 1024 + 10) });
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: big });
      expect(r.statusCode).toBe(413);
      expect(r.json().error.code).toBe('payload_too_large');
    });

    it('keeps a sane client x-request-id, makes one otherwise', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-123' } })).headers['x-request-id']).toBe('trace-123');
      const made = (await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id <script>' } })).headers['x-request-id'];
      expect(made).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers errors as { error: { code, message } } without stack traces', async () => {
      const bad = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email": ' });
      expect(bad.statusCode).toBe(400);
      expect(Object.keys(bad.json())).toEqual(['error']);
      expect(bad.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
      const proto = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"email":"a@a.test","password":"x","__proto__":{"admin":true}}',
      });
      expect(proto.statusCode).toBe(400);
      const missing = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('not_found');
      const invalid = await owner.post('/api/v1/agent-keys', { name: 'x', extra: 1 });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().error.message).toMatch(/^The request is not valid/);
    });

    it('without a built dashboard, / says how to build it', async () => {
      const r = await t.app.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(404);
      expect(r.body).toMatch(/npm run build -w packages\/web/);
    });

    it('redacts credentials even when code logs whole headers or bodies', async () => {
      const marker = 'redaction-probe';
      t.app.log.info(
        {
          req: { headers: { authorization: `Bearer ${agentKey}`, cookie: `palisade_session=${agentKey}`, 'x-api-key': agentKey } },
          headers: { 'x-api-key': agentKey },
          password: PASSWORD,
          body: { password: PASSWORD, token: SETUP_TOKEN },
          setupToken: SETUP_TOKEN,
        },
        marker,
      );
      const line = t.logs.find((l) => l.includes(marker))!;
      expect(line).toBeDefined();
      expect(line).toContain('[redacted]');
      for (const secret of [PASSWORD, agentKey, SETUP_TOKEN]) expect(line).not.toContain(secret);
    });

    it('never writes passwords, keys, tokens or cookies to the log', async () => {
      const text = t.logs.join('');
      expect(text.length).toBeGreaterThan(1000);
      expect(text).toContain('request completed');
      for (const secret of [PASSWORD, agentKey, SETUP_TOKEN, ...owner.jar.values()]) expect(text).not.toContain(secret);
    });

    it('GET /healthz and GET /metrics', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok', database: 'ok' });
      const m = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(m.headers['content-type']).toMatch(/^text\/plain/);
      expect(m.body).toMatch(/palisade_http_requests_total\{method="POST",route="\/api\/v1\/auth\/login",status="200"\} \d+/);
      expect(m.body).toMatch(/palisade_http_request_duration_seconds_bucket\{method="GET",route="\/healthz",le="\+Inf"\} \d+/);
      expect(m.body).toContain('route="unmatched"'); // the 404 above, without its URL
      expect(m.body).not.toContain('nothing-here');
      expect(m.body).not.toContain('owner@a.test');
    });

    it('GET /api/v1/openapi.json describes every registered route', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      expect(doc.openapi).toBe('3.1.0');
      const registered = t.platform.openapi.routes.filter((r) => r.url.startsWith('/api/'));
      expect(registered.length).toBeGreaterThan(10);
      for (const r of registered) {
        const p = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        expect(doc.paths[p]?.[r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined();
      }
      // and fastify's own table agrees with the collector
      for (const line of t.app.printRoutes({ commonPrefix: false }).split('\n')) {
        const m = /(\/api\/v1\/\S+) \(([A-Z, ]+)\)/.exec(line);
        if (!m) continue;
        const p = m[1]!.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        expect(doc.paths[p], p).toBeDefined();
      }
      expect(doc.paths['/api/v1/agent-keys'].post.requestBody.content['application/json'].schema.required).toEqual(['name']);
    });
  });

  describe.skipIf(skipReason(dialect))(`internal errors on ${dialect}`, () => {
    it('answer 500 { error: internal } with the request id and no stack trace; the log keeps the detail', async () => {
      const t = await makeTestApp(dialect);
      try {
        const { client } = await setupOwner(t.app);
        // pull the database out from under the running app
        await t.platform.store.db.destroy();
        const r = await client.get('/api/v1/me', { headers: { 'x-request-id': 'broken-db-1' } });
        expect(r.statusCode).toBe(500);
        expect(r.json()).toEqual({ error: { code: 'internal', message: expect.stringContaining('broken-db-1') } });
        expect(r.body).not.toMatch(/\bat .*\.(ts|js):\d+|kysely|driver/i);
        expect(t.logs.join('')).toMatch(/"reqId":"broken-db-1".*request failed/);
        const h = await t.app.inject({ method: 'GET', url: '/healthz' });
        expect(h.statusCode).toBe(503);
      } finally {
        await t.app.close().catch(() => undefined);
        await t.db.drop();
      }
    });
  });
}
