// The routes behind the advisories page, the overview and the audit log (issue 14), on SQLite
// and PostgreSQL: advisory search by id, alias and package with the servers and hosts each
// affects and its KEV mark, OSV import (admins only; bad input changes nothing), the
// overview's new/changed servers and silent hosts, and audit filters with names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, makeTestApp, setupOwner, type Client, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';
import { storeKnownExploited } from '../src/services/advisories.js';
import { withOrg } from '../src/db/scope.js';
import { report, server } from './inventory/fixtures.js';

const OSV = {
  schema_version: '1.6.0',
  id: 'GHSA-test-2026-notes',
  aliases: ['CVE-2026-40001'],
  modified: '2026-11-01T00:00:00Z',
  published: '2026-10-01T00:00:00Z',
  summary: 'Path traversal in the notes MCP server (test record)',
  affected: [{ package: { ecosystem: 'npm', name: '@example/notes' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.2.0' }] }] }],
  database_specific: { severity: 'HIGH' },
  references: [{ type: 'ADVISORY', url: 'https://example.test/advisories/GHSA-test-2026-notes' }, { type: 'WEB', url: 'javascript:alert(1)' }],
};

interface Adv {
  id: string;
  aliases: string[];
  severity: string;
  knownExploited: boolean;
  packages: string[];
  url: string | null;
  affected: Array<{ name: string; hosts: Array<{ hostname: string }>; hostCount: number }>;
  hostCount: number;
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`advisories, overview and audit routes on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, { timeout: 120_000 }, () => {
    let t: TestApp;
    let owner: Client;
    let analyst: Client;
    let orgId: string;
    let key: string;
    const notes = server({ name: 'notes', args: ['-y', '@example/notes@1.0.0'], package: { ecosystem: 'npm', name: '@example/notes', version: '1.0.0', pinned: true, runner: 'npx' } });
    const send = async (body: unknown) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expect(res.statusCode, res.body).toBe(200);
    };
    const advisories = async (q = '') => {
      const res = await analyst.get(`/api/v1/advisories${q}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { items: Adv[]; total: number; sync: { lastImportAt: string | null; advisories: number; knownExploited: number } };
    };

    beforeAll(async () => {
      t = await makeTestApp(dialect);
      ({ client: owner, orgId } = await setupOwner(t.app));
      ({ client: analyst } = await inviteUser(t.app, owner, 'analyst@a.test', 'analyst'));
      key = ((await owner.post('/api/v1/agent-keys', { name: 'laptops' })).json() as { key: string }).key;
      await send(report([notes], { hostname: 'ws-1' }));
      await send(report([notes], { hostname: 'ws-2', user: 'bob' }));
    });
    afterAll(async () => {
      await t?.close();
    });

    it('imports an OSV file as an admin only, and refuses bad input without changing anything', async () => {
      const before = (await advisories('?affected=false')).sync.advisories;
      expect((await analyst.post('/api/v1/advisories/import', { records: [OSV] })).statusCode).toBe(403);
      expect((await owner.post('/api/v1/advisories/import', { records: [] })).statusCode).toBe(400);
      expect((await owner.post('/api/v1/advisories/import', { nope: 1 })).statusCode).toBe(400);
      const junk = await owner.post('/api/v1/advisories/import', { records: [{ id: 42 }, 'text'] });
      expect(junk.statusCode).toBe(200);
      expect(junk.json()).toMatchObject({ added: 0, skipped: 2 });
      expect((await advisories('?affected=false')).sync.advisories).toBe(before);
      expect((await advisories()).total).toBe(0);

      const res = await owner.post('/api/v1/advisories/import', { records: [OSV] });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ added: 1, skipped: 0, alerts: 2 });
      const again = await owner.post('/api/v1/advisories/import', { records: [OSV] });
      expect(again.json()).toMatchObject({ added: 0, unchanged: 1, alerts: 0 });
      const audit = (await owner.get('/api/v1/audit?action=advisory.imported')).json() as { items: Array<{ details: { added: number } }> };
      expect(audit.items.map((e) => e.details.added)).toEqual([0, 1, 0]);
    });

    it('lists the advisories affecting the organisation with servers, hosts and the KEV mark, searchable', async () => {
      const mine = await advisories();
      expect(mine.total).toBe(1);
      const a = mine.items[0]!;
      expect(a.id).toBe('GHSA-test-2026-notes');
      expect(a.aliases).toEqual(['CVE-2026-40001']);
      expect(a.packages).toEqual(['npm:@example/notes']);
      expect(a.knownExploited).toBe(false);
      expect(a.severity).toBe('high');
      expect(a.url).toBe('https://example.test/advisories/GHSA-test-2026-notes');
      expect(a.affected.map((s) => s.name)).toEqual(['notes']);
      expect(a.affected[0]!.hosts.map((h) => h.hostname).sort()).toEqual(['ws-1', 'ws-2']);
      expect(a.hostCount).toBe(2);
      expect(mine.sync.lastImportAt).not.toBeNull();

      for (const q of ['ghsa-test', 'CVE-2026-40001', 'example/notes']) expect((await advisories(`?q=${encodeURIComponent(q)}`)).items.map((x) => x.id)).toEqual(['GHSA-test-2026-notes']);
      expect((await advisories('?q=CVE-2026-4000')).total).toBe(0); // aliases match whole
      expect((await advisories('?q=%25')).total).toBe(0); // LIKE wildcards are literal

      await storeKnownExploited(t.platform.store, ['CVE-2026-40001']);
      const kev = (await advisories()).items[0]!;
      expect(kev.knownExploited).toBe(true);
      expect(kev.severity).toBe('critical');
      expect((await advisories()).sync.knownExploited).toBe(1);
    });

    it('the overview lists new servers, changed servers and hosts that stopped reporting', async () => {
      const old = new Date(Date.now() - 5 * 86_400_000).toISOString();
      await withOrg(t.platform.store, { orgId }, (tx) => tx.updateTable('hosts').set({ last_seen: old }).where('org_id', '=', orgId).where('hostname', '=', 'ws-2').execute());
      await send(report([{ ...notes, args: [...notes.args, '--danger'] }], { hostname: 'ws-1' }, '2026-11-21T10:00:00.000Z'));
      const res = await analyst.get('/api/v1/overview');
      expect(res.statusCode, res.body).toBe(200);
      const o = res.json() as { newServers: Array<{ name: string }>; changedServers: Array<{ name: string; changes: string[] }>; silentHosts: Array<{ hostname: string }>; hosts: { silent: number }; trend: unknown[] };
      expect(o.newServers.map((s) => s.name)).toContain('notes');
      expect(o.changedServers.map((s) => s.name)).toEqual(['notes']);
      expect(o.changedServers[0]!.changes).toContain('config_changed');
      expect(o.silentHosts.map((h) => h.hostname)).toEqual(['ws-2']);
      expect(o.hosts.silent).toBe(1);
      expect(Array.isArray(o.trend)).toBe(true);
    });

    it('audit filters by actor type and names alerts by server and host', async () => {
      const alerts = (await analyst.get('/api/v1/alerts?type=advisory_matched')).json() as { items: Array<{ id: string; title: string }> };
      expect(alerts.items).toHaveLength(2);
      expect(alerts.items[0]!.title).toMatch(/^`notes` on host `ws-\d` \(Claude Desktop\) is affected by GHSA-test-2026-notes/);
      expect((await analyst.post(`/api/v1/alerts/${alerts.items[0]!.id}/acknowledge`, {})).statusCode).toBe(200);
      const users = (await owner.get('/api/v1/audit?actorType=user&limit=200')).json() as { items: Array<{ actorType: string; action: string; targetName: string | null }> };
      expect(users.items.every((e) => e.actorType === 'user')).toBe(true);
      const ack = users.items.find((e) => e.action === 'alert.acknowledged')!;
      expect(ack.targetName).toMatch(/^advisory matched: notes on ws-\d$/);
      const agents = (await owner.get('/api/v1/audit?actorType=agent&limit=200')).json() as { items: Array<{ actorType: string }>; total: number };
      expect(agents.total).toBeGreaterThan(0);
      expect(agents.items.every((e) => e.actorType === 'agent')).toBe(true);
      expect((await owner.get('/api/v1/audit?actorType=robot')).statusCode).toBe(400);
      expect((await analyst.get('/api/v1/audit')).statusCode).toBe(403);
    });
  });
}
