// The inventory HTTP API on a real app over real SQLite and PostgreSQL (app role, RLS on):
// ingest with an agent key, the read API with filters and caps, alerts, overrides with a
// second approver, roles, and another organisation's ids answering 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Client, inviteUser, makeTestApp, setupOwner, signupOwner, type TestApp } from '../helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, tool } from './fixtures.js';
import { withOrg } from '../../src/db/scope.js';

const REPORT = '/api/v1/agent/report';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`inventory API on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let ownerId: string;
    let orgId: string;
    let admin: Client;
    let analyst: Client;
    let viewer: Client;
    let other: Client;
    let otherOrgId: string;
    let key: string;
    let otherKey: string;

    const send = (body: unknown, k = key) => t.app.inject({ method: 'POST', url: REPORT, headers: { 'x-api-key': k, 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
    const counts = async (org = orgId) => {
      const out: Record<string, number> = {};
      await withOrg(t.platform.store, { orgId: org }, async (tx) => {
        for (const table of ['hosts', 'servers', 'server_instances', 'findings', 'tools', 'reports', 'events', 'alerts'] as const) {
          const r = await tx.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).executeTakeFirst();
          out[table] = Number(r?.n ?? 0);
        }
      });
      return out;
    };

    beforeAll(async () => {
      process.env.PALISADE_INGEST_RATE_LIMIT = '100000'; // the fuzz test sends hundreds of reports a minute
      t = await makeTestApp(dialect, { signupOpen: true });
      ({ client: owner, userId: ownerId, orgId } = await setupOwner(t.app));
      ({ client: admin } = await inviteUser(t.app, owner, 'admin@a.test', 'admin'));
      ({ client: analyst } = await inviteUser(t.app, owner, 'analyst@a.test', 'analyst'));
      ({ client: viewer } = await inviteUser(t.app, owner, 'viewer@a.test', 'viewer'));
      ({ client: other, orgId: otherOrgId } = await signupOwner(t.app, 'owner@b.test', 'Org B'));
      key = (await owner.post('/api/v1/agent-keys', { name: 'laptops' })).json().key;
      otherKey = (await other.post('/api/v1/agent-keys', { name: 'b' })).json().key;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('ingests a report with an agent key; the same report again changes nothing', async () => {
      const r = report([server({ name: 'shell', command: 'bash', args: ['-c', 'curl x | sh'] }), server({ name: 'files', tools: [tool('read', 'Reads a file.')] })]);
      const first = await send(r);
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ unchanged: false, servers: 2 });
      const before = await counts();
      const again = await send({ ...r, scannedAt: '2026-11-20T11:00:00.000Z' });
      expect(again.json()).toMatchObject({ unchanged: true });
      expect(await counts()).toEqual(before);
    });

    it('refuses missing, wrong and other kinds of credentials', async () => {
      const r = report([server({ name: 'x' })]);
      expect((await send(r, 'pal_' + 'A'.repeat(43))).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'POST', url: REPORT, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(r) })).statusCode).toBe(401);
      // a signed-in user's cookies are not an agent key, and an agent key cannot read
      expect((await owner.post(REPORT, r)).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/servers', headers: { 'x-api-key': key } })).statusCode).toBe(401);
    });

    it('lists servers with filters, sort and a hard page cap', async () => {
      await send(report([server({ name: 'shell', command: 'bash', args: ['-c', 'curl x | sh'] }), server({ name: 'cursor-only', client: 'cursor', configPath: '/home/bob/.cursor/mcp.json' })], { hostname: 'laptop-2', user: 'bob' }));
      const all = (await viewer.get('/api/v1/servers')).json();
      expect(all.total).toBe(all.items.length);
      expect(all.items.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['shell', 'files', 'cursor-only']));
      const byClient = (await viewer.get('/api/v1/servers?client=cursor')).json();
      expect(byClient.items.map((s: { name: string }) => s.name)).toEqual(['cursor-only']);
      const byText = (await viewer.get('/api/v1/servers?q=CURSOR-')).json();
      expect(byText.total).toBe(1);
      // LIKE wildcards in the text are taken literally
      expect((await viewer.get('/api/v1/servers?q=%25')).json().total).toBe(0);
      expect((await viewer.get('/api/v1/servers?q=_')).json().total).toBe(0);
      expect((await viewer.get('/api/v1/servers?client=cursor-')).json().total).toBe(0);
      const byName = (await viewer.get('/api/v1/servers?sort=name&limit=1')).json();
      expect(byName.items).toHaveLength(1);
      expect(byName.total).toBe(all.total);
      const capped = await viewer.get('/api/v1/servers?limit=100000');
      expect(capped.statusCode).toBe(200);
      expect((await viewer.get('/api/v1/servers?level=bogus')).statusCode).toBe(400);
      const shellEntries = all.items.filter((s: { name: string }) => s.name === 'shell');
      expect(shellEntries).toHaveLength(1); // one definition on two hosts: one entry
      expect(shellEntries[0].hostCount).toBe(2);
      const hosts = (await viewer.get('/api/v1/hosts')).json();
      expect(hosts.total).toBe(2);
      const hostId = hosts.items.find((h: { hostname: string }) => h.hostname === 'laptop-2').id;
      const onHost = (await viewer.get(`/api/v1/servers?host=${hostId}`)).json();
      expect(onHost.items.map((s: { name: string }) => s.name).sort()).toEqual(['cursor-only', 'shell']);
      const host = (await viewer.get(`/api/v1/hosts/${hostId}`)).json();
      expect(host.instances).toHaveLength(2);
      expect(host.clients[0].id).toBe('claude-desktop');
    });

    it('shows a server in detail and hides it from another organisation', async () => {
      const list = (await viewer.get('/api/v1/servers?q=files')).json();
      const id = list.items[0].id;
      const detail = (await viewer.get(`/api/v1/servers/${id}`)).json();
      expect(detail.instances[0].hostname).toBe('laptop-1');
      expect(detail.tools[0]).toMatchObject({ name: 'read', changed: false });
      expect(detail.history.map((e: { type: string }) => e.type)).toContain('server_added');
      const foreign = await other.get(`/api/v1/servers/${id}`);
      expect(foreign.statusCode).toBe(404);
      expect((await other.get('/api/v1/servers')).json().total).toBe(0);
      const hostId = detail.instances[0].hostId;
      expect((await other.get(`/api/v1/hosts/${hostId}`)).statusCode).toBe(404);
      expect((await other.get(`/api/v1/servers?host=${hostId}`)).json().total).toBe(0);
      // org B's agent reports into org B only
      await send(report([server({ name: 'b-server' })], { hostname: 'b-host' }), otherKey);
      expect((await viewer.get('/api/v1/servers?q=b-server')).json().total).toBe(0);
      expect((await other.get('/api/v1/servers')).json().total).toBe(1);
      void otherOrgId;
    });

    it('lists findings and alerts; analysts acknowledge and resolve, viewers cannot', async () => {
      expect((await viewer.get('/api/v1/findings')).statusCode).toBe(200);
      const alerts = (await viewer.get('/api/v1/alerts?status=open')).json();
      expect(alerts.total).toBeGreaterThan(0);
      const id = alerts.items[0].id;
      expect((await viewer.post(`/api/v1/alerts/${id}/acknowledge`, {})).statusCode).toBe(403);
      const ack = await analyst.post(`/api/v1/alerts/${id}/acknowledge`, { note: 'looking' });
      expect(ack.statusCode).toBe(200);
      expect(ack.json()).toMatchObject({ status: 'acknowledged', acknowledgedBy: { email: 'analyst@a.test' }, note: 'looking' });
      const res = await analyst.post(`/api/v1/alerts/${id}/resolve`, {});
      expect(res.json()).toMatchObject({ status: 'resolved', resolvedBy: { email: 'analyst@a.test' } });
      expect((await analyst.post(`/api/v1/alerts/${id}/resolve`, {})).statusCode).toBe(409);
      expect((await other.post(`/api/v1/alerts/${id}/resolve`, {})).statusCode).toBe(404);
      const audit = (await owner.get('/api/v1/audit')).json();
      expect(audit.items.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['alert.acknowledged', 'alert.resolved', 'report.ingested']));
      expect((await viewer.get('/api/v1/alerts?severity=nope')).statusCode).toBe(400);
    });

    it('overrides: admin or owner only, a reason and a future expiry, a second approver for critical servers, voided by a config change', async () => {
      const shell = (await viewer.get('/api/v1/servers?q=shell')).json().items[0];
      const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const body = { decision: 'accept_risk', reason: 'Build pipeline needs it until the migration.', expiresAt };
      expect((await analyst.post(`/api/v1/servers/${shell.id}/overrides`, body)).statusCode).toBe(403);
      expect((await admin.post(`/api/v1/servers/${shell.id}/overrides`, { ...body, reason: 'short' })).statusCode).toBe(400);
      expect((await admin.post(`/api/v1/servers/${shell.id}/overrides`, { ...body, expiresAt: '2020-01-01T00:00:00Z' })).statusCode).toBe(400);
      expect((await other.post(`/api/v1/servers/${shell.id}/overrides`, body)).statusCode).toBe(404);

      // without the setting an override applies at once
      const direct = await admin.post(`/api/v1/servers/${shell.id}/overrides`, body);
      expect(direct.statusCode).toBe(201);
      expect(direct.json().status).toBe('active');
      const listed = (await viewer.get(`/api/v1/servers?q=shell`)).json().items[0];
      expect(listed.override).toMatchObject({ status: 'active', decision: 'accept_risk' });
      expect(listed.effectiveLevel).toBe('none');
      expect(listed.score).toBe(shell.score); // the real score stays visible

      expect((await admin.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: true } })).json().requireSecondApproverForCritical).toBe(true);
      // retention: 365 days unless changed, within 30..3650 days; a bad value changes nothing
      expect((await viewer.get('/api/v1/settings')).statusCode).toBe(403);
      expect((await admin.get('/api/v1/settings')).json().retentionDays).toBe(365);
      for (const bad of [7, 29, 3651, 90.5, 'ninety', null]) expect((await admin.request('PATCH', '/api/v1/settings', { body: { retentionDays: bad } })).statusCode, String(bad)).toBe(400);
      expect((await viewer.request('PATCH', '/api/v1/settings', { body: { retentionDays: 90 } })).statusCode).toBe(403);
      expect((await admin.get('/api/v1/settings')).json().retentionDays).toBe(365);
      expect((await admin.request('PATCH', '/api/v1/settings', { body: { retentionDays: 90 } })).json()).toMatchObject({ retentionDays: 90, requireSecondApproverForCritical: true });
      expect((await admin.request('PATCH', '/api/v1/settings', { body: { retentionDays: 365 } })).json().retentionDays).toBe(365);
      const critical = (await viewer.get('/api/v1/servers?level=critical')).json().items;
      expect(critical.length).toBeGreaterThan(0); // bash -c "curl | sh" is critical under the core rules
      {
        const c = critical[0];
        const pending = (await admin.post(`/api/v1/servers/${c.id}/overrides`, body)).json();
        expect(pending.status).toBe('pending');
        expect((await admin.post(`/api/v1/overrides/${pending.id}/approve`, {})).json().error.code).toBe('same_approver');
        const approved = await owner.post(`/api/v1/overrides/${pending.id}/approve`, {});
        expect(approved.json()).toMatchObject({ status: 'active', approvedBy: { id: ownerId } });
      }

      // the config behind the override changes on a host: voided, with an alert
      await send(report([server({ name: 'shell', command: 'bash', args: ['-c', 'something else'] }), server({ name: 'cursor-only', client: 'cursor', configPath: '/home/bob/.cursor/mcp.json' })], { hostname: 'laptop-2', user: 'bob' }));
      const overrides = (await viewer.get(`/api/v1/overrides?server=${shell.id}`)).json().items;
      expect(overrides.map((o: { status: string }) => o.status)).toContain('voided');
      const voided = (await viewer.get('/api/v1/alerts?status=open')).json().items.filter((a: { type: string }) => a.type === 'override_voided');
      expect(voided.length).toBeGreaterThan(0);
      const audit = (await owner.get('/api/v1/audit?limit=200')).json().items.map((a: { action: string }) => a.action);
      expect(audit).toEqual(expect.arrayContaining(['override.created', 'override.approved', 'override.voided', 'settings.updated']));
    });

    it('gives an overview with counts, trend, top risky servers and hosts', async () => {
      const o = (await viewer.get('/api/v1/overview')).json();
      expect(o.servers.total).toBeGreaterThan(0);
      expect(o.trend.length).toBeGreaterThan(0);
      expect(o.topRisky.length).toBeGreaterThan(0);
      expect(o.hosts).toMatchObject({ total: 2 });
      expect(o.alerts.open).toBeGreaterThan(0);
      expect((await other.get('/api/v1/overview')).json().hosts.total).toBe(1);
    });

    it('rejects malformed reports with 400 and leaves every table as it was', async () => {
      const good = report([server({ name: 'ok' })], { hostname: 'fuzz-host' });
      const mutations = fc.oneof(
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string().map((s) => s),
        fc.record({ path: fc.constantFrom('schemaVersion', 'host', 'servers', 'scannedAt', 'agent', 'summary'), value: fc.jsonValue() }).map(({ path, value }) => JSON.stringify({ ...good, [path]: value })),
        fc.record({ field: fc.constantFrom('name', 'transport', 'args', 'envNames', 'score', 'level', 'findings', 'tools', 'scope'), value: fc.jsonValue() }).map(({ field, value }) => JSON.stringify({ ...good, servers: [{ ...good.servers[0], [field]: value }] })),
        fc.integer({ min: 33, max: 400 }).map((d) => JSON.stringify({ ...good, extra: JSON.parse('['.repeat(d) + ']'.repeat(d)) })),
      );
      await fc.assert(
        fc.asyncProperty(mutations, async (body) => {
          const before = await counts();
          const res = await send(body);
          // a mutation that happens to stay valid is fine; anything else is a clean 400 that changed nothing
          if (res.statusCode !== 200) {
            expect(res.statusCode).toBe(400);
            expect(res.json().error.message).toMatch(/\w+ .*\./);
            expect(res.body).not.toMatch(/at .*\.ts:\d+/);
            expect(await counts()).toEqual(before);
          }
        }),
        { seed: 42, numRuns: 120 },
      );
      const bad = await send('{"schemaVersion":1,"servers":"nope"}');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('invalid_report');
      const snapshot = await counts();
      await send(JSON.stringify({ ...good, host: { hostname: 'h', os: 'linux', user: 'u' }, servers: [{ ...good.servers[0], name: 'x'.repeat(10_000) }] }));
      expect(await counts()).toEqual(snapshot);
    });

    it('answers 413 for a report over the size limit', async () => {
      const huge = JSON.stringify({ pad: 'x'.repeat(6 * 1024 * 1024) });
      const res = await send(huge);
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('payload_too_large');
    });
  });
}
