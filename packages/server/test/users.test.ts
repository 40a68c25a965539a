// Users, roles, invitations, agent keys and the audit log on real SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, inviteUser, makeTestApp, PASSWORD, setupOwner, type TestApp } from './helpers/app.js';
import { withOrg } from '../src/db/scope.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`users, keys and audit on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let ownerId: string;
    let orgId: string;
    let admin: Client;
    let adminId: string;
    let viewer: Client;
    let viewerId: string;

    beforeAll(async () => {
      t = await makeTestApp(dialect);
      ({ client: owner, userId: ownerId, orgId } = await setupOwner(t.app));
      ({ client: admin, userId: adminId } = await inviteUser(t.app, owner, 'admin@a.test', 'admin'));
      ({ client: viewer, userId: viewerId } = await inviteUser(t.app, admin, 'viewer@a.test', 'viewer'));
    });
    afterAll(async () => {
      await t?.close();
    });

    it('lists users with roles; /me shows permissions of the role', async () => {
      const list = (await owner.get('/api/v1/users')).json();
      expect(list.total).toBe(3);
      expect(list.items.map((u: { email: string; role: string }) => `${u.email}:${u.role}`).sort()).toEqual(['admin@a.test:admin', 'owner@a.test:owner', 'viewer@a.test:viewer']);
      const me = (await viewer.get('/api/v1/me')).json();
      expect(me.user.role).toBe('viewer');
      expect(me.permissions).toEqual(['inventory:read', 'alerts:read']);
    });

    it('an invitation token works once; a used, revoked or made-up token does not', async () => {
      const inv = (await admin.post('/api/v1/invitations', { email: 'analyst@a.test', role: 'analyst' })).json();
      expect(inv.link).toBe(`/invite?token=${inv.token}`);
      const first = await new Client(t.app).post('/api/v1/invitations/accept', { token: inv.token, password: PASSWORD });
      expect(first.statusCode).toBe(201);
      const second = await new Client(t.app).post('/api/v1/invitations/accept', { token: inv.token, password: PASSWORD });
      expect(second.statusCode).toBe(400);
      expect(second.json().error.code).toBe('invalid_invitation');
      const inv2 = (await admin.post('/api/v1/invitations', { email: 'later@a.test', role: 'viewer' })).json();
      expect((await admin.request('DELETE', `/api/v1/invitations/${inv2.id}`)).statusCode).toBe(204);
      expect((await new Client(t.app).post('/api/v1/invitations/accept', { token: inv2.token, password: PASSWORD })).statusCode).toBe(400);
      expect((await new Client(t.app).post('/api/v1/invitations/accept', { token: 'made-up', password: PASSWORD })).statusCode).toBe(400);
      const stored = await withOrg(t.platform.store, { orgId }, (tx) => tx.selectFrom('invitations').select('token_hash').execute());
      expect(stored.length).toBeGreaterThanOrEqual(2);
      expect(stored.some((r) => r.token_hash === inv.token)).toBe(false);
    });

    it('admins cannot grant owner or invite owners; owners can', async () => {
      const r = await admin.request('PATCH', `/api/v1/users/${viewerId}`, { body: { role: 'owner' } });
      expect(r.statusCode).toBe(403);
      expect((await admin.post('/api/v1/invitations', { email: 'o2@a.test', role: 'owner' })).statusCode).toBe(403);
      expect((await admin.request('DELETE', `/api/v1/users/${ownerId}`)).statusCode).toBe(403);
      expect((await admin.request('PATCH', `/api/v1/users/${viewerId}`, { body: { role: 'analyst' } })).json().role).toBe('analyst');
      expect((await viewer.get('/api/v1/me')).json().user.role).toBe('analyst'); // applies at once
    });

    it('the last owner cannot be demoted or removed', async () => {
      const demote = await owner.request('PATCH', `/api/v1/users/${ownerId}`, { body: { role: 'admin' } });
      expect(demote.statusCode).toBe(409);
      expect(demote.json().error.code).toBe('last_owner');
      const remove = await owner.request('DELETE', `/api/v1/users/${ownerId}`);
      expect(remove.statusCode).toBe(409);
      // with a second owner, the first may step down
      expect((await owner.request('PATCH', `/api/v1/users/${adminId}`, { body: { role: 'owner' } })).statusCode).toBe(200);
      expect((await owner.request('PATCH', `/api/v1/users/${ownerId}`, { body: { role: 'admin' } })).statusCode).toBe(200);
      expect((await admin.request('PATCH', `/api/v1/users/${ownerId}`, { body: { role: 'owner' } })).statusCode).toBe(200);
    });

    it('removing a user ends their sessions at once', async () => {
      const { client: temp, userId } = await inviteUser(t.app, owner, 'temp@a.test', 'viewer');
      expect((await temp.get('/api/v1/me')).statusCode).toBe(200);
      expect((await owner.request('DELETE', `/api/v1/users/${userId}`)).statusCode).toBe(204);
      expect((await temp.get('/api/v1/me')).statusCode).toBe(401);
      expect((await new Client(t.app).post('/api/v1/auth/login', { email: 'temp@a.test', password: PASSWORD })).statusCode).toBe(401);
    });

    it('agent keys: shown once, SHA-256 at rest, 12-char prefix, revoked key gets 401 at once', async () => {
      const created = await admin.post('/api/v1/agent-keys', { name: 'build server' });
      expect(created.statusCode).toBe(201);
      const { id, key, prefix } = created.json();
      expect(key).toMatch(/^pal_[A-Za-z0-9_-]{43}$/);
      expect(prefix).toBe(key.slice(0, 12));
      const list = (await admin.get('/api/v1/agent-keys')).json();
      expect(JSON.stringify(list)).not.toContain(key);
      expect(list.items.find((k: { id: string }) => k.id === id)).toMatchObject({ name: 'build server', prefix, revokedAt: null });
      // (on PostgreSQL even the test must name the org: RLS hides agent keys otherwise)
      const row = await withOrg(t.platform.store, { orgId }, (tx) => tx.selectFrom('agent_keys').selectAll().where('prefix', '=', prefix).executeTakeFirstOrThrow());
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(row)).not.toContain(key.slice(12));

      const agent = (k: string, url = '/api/v1/agent/whoami') => t.app.inject({ method: 'GET', url, headers: { 'x-api-key': k } });
      expect((await agent(key)).statusCode).toBe(200);
      expect((await agent(key)).json().keyId).toBe(id);
      // an agent key never opens read routes
      for (const url of ['/api/v1/me', '/api/v1/users', '/api/v1/agent-keys', '/api/v1/audit']) expect((await agent(key, url)).statusCode).toBe(401);
      // a key that differs in one character is unknown
      expect((await agent(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).statusCode).toBe(401);
      expect((await admin.request('DELETE', `/api/v1/agent-keys/${id}`)).statusCode).toBe(204);
      const revoked = await agent(key);
      expect(revoked.statusCode).toBe(401);
      expect(revoked.json().error.code).toBe('invalid_api_key');
      expect((await viewer.post('/api/v1/agent-keys', { name: 'x' })).statusCode).toBe(403);
    });

    it('a session cookie does not open agent routes', async () => {
      expect((await owner.get('/api/v1/agent/whoami')).statusCode).toBe(401);
    });

    it('the audit log records state changes with actor, target, time and ip; admins only; filters and pages', async () => {
      const all = (await owner.get('/api/v1/audit?limit=200')).json();
      const actions = new Set(all.items.map((e: { action: string }) => e.action));
      for (const a of ['setup.completed', 'invitation.created', 'invitation.accepted', 'invitation.revoked', 'user.role_changed', 'user.removed', 'agent_key.created', 'agent_key.revoked']) expect(actions).toContain(a);
      const keyCreated = all.items.find((e: { action: string }) => e.action === 'agent_key.created');
      expect(keyCreated).toMatchObject({ actorType: 'user', actorId: adminId, actorEmail: 'admin@a.test', targetType: 'agent_key', ip: '127.0.0.1' });
      expect(Date.parse(keyCreated.at)).toBeGreaterThan(Date.now() - 600_000);
      const filtered = (await owner.get('/api/v1/audit?action=user.role_changed&limit=1')).json();
      expect(filtered.items).toHaveLength(1);
      expect(filtered.total).toBeGreaterThanOrEqual(3);
      expect(filtered.items[0].details).toHaveProperty('from');
      const page2 = (await owner.get('/api/v1/audit?action=user.role_changed&limit=1&offset=1')).json();
      expect(page2.items[0].id).not.toBe(filtered.items[0].id);
      expect((await viewer.get('/api/v1/audit')).statusCode).toBe(403);
      // no route edits or deletes entries
      for (const m of ['PATCH', 'DELETE', 'PUT'] as const) expect((await owner.request(m, `/api/v1/audit/${keyCreated.id}`)).statusCode).toBe(404);
    });
  });
}
