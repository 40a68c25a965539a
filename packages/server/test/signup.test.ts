// Self sign-up into an organisation that allows it, the invitation lookup and the password
// strength check, on real SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, inviteUser, makeTestApp, PASSWORD, setupOwner, type TestApp } from './helpers/app.js';
import { withOrg } from '../src/db/scope.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';

const NEW_PASSWORD = 'violet lantern orbit seventeen';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`sign-up and invitations on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let orgId: string;
    let admin: Client;
    let viewer: Client;

    beforeAll(async () => {
      t = await makeTestApp(dialect);
      ({ client: owner, orgId } = await setupOwner(t.app));
      ({ client: admin } = await inviteUser(t.app, owner, 'admin@a.test', 'admin'));
      ({ client: viewer } = await inviteUser(t.app, owner, 'viewer@a.test', 'viewer'));
    });
    afterAll(async () => {
      await t?.close();
    });

    const users = () => withOrg(t.platform.store, { orgId }, (tx) => tx.selectFrom('memberships').innerJoin('users', 'users.id', 'memberships.user_id').select(['users.email', 'memberships.role']).where('memberships.org_id', '=', orgId).execute());
    const detailsOf = (e: { details: unknown }) => (typeof e.details === 'string' ? e.details : JSON.stringify(e.details));
    const audit = (action: string) => withOrg(t.platform.store, { orgId }, (tx) => tx.selectFrom('audit_log').selectAll().where('org_id', '=', orgId).where('action', '=', action).execute());

    it('is off by default: the link answers 404, exactly as for an unknown organisation, and creates nobody', async () => {
      const anon = new Client(t.app);
      const settings = (await owner.get('/api/v1/signup/settings')).json();
      expect(settings).toEqual({ enabled: false, role: 'viewer', path: `/signup?org=${orgId}` });
      const closed = await anon.get(`/api/v1/signup/${orgId}`);
      const unknown = await anon.get('/api/v1/signup/00000000-0000-4000-8000-000000000000');
      expect(closed.statusCode).toBe(404);
      expect(unknown.statusCode).toBe(404);
      expect(closed.json()).toEqual(unknown.json());
      const before = (await users()).length;
      const post = await anon.post(`/api/v1/signup/${orgId}`, { email: 'eve@a.test', password: NEW_PASSWORD });
      expect(post.statusCode).toBe(404);
      expect((await users()).length).toBe(before);
    });

    it('only admins and owners turn it on; the change is audited', async () => {
      expect((await viewer.request('PUT', '/api/v1/signup/settings', { body: { enabled: true } })).statusCode).toBe(403);
      const on = await admin.request('PUT', '/api/v1/signup/settings', { body: { enabled: true } });
      expect(on.statusCode).toBe(200);
      expect(on.json().enabled).toBe(true);
      const entries = await audit('settings.updated');
      expect(entries.some((e) => detailsOf(e).includes('"selfSignup":true'))).toBe(true);
      expect((await new Client(t.app).get(`/api/v1/signup/${orgId}`)).json()).toEqual({ orgName: 'Org A', role: 'viewer' });
    });

    it('creates a viewer who can sign in; a taken email gets the same answer and changes nothing', async () => {
      const anon = new Client(t.app);
      const made = await anon.post(`/api/v1/signup/${orgId}`, { email: 'Newcomer@A.test', password: NEW_PASSWORD });
      expect(made.statusCode).toBe(202);
      expect((await users()).find((u) => u.email === 'newcomer@a.test')?.role).toBe('viewer');
      const login = await new Client(t.app).post('/api/v1/auth/login', { email: 'newcomer@a.test', password: NEW_PASSWORD });
      expect(login.statusCode).toBe(200);
      expect(login.json().user.role).toBe('viewer');
      expect((await audit('auth.self_signup')).length).toBe(1);

      const count = (await users()).length;
      const taken = await anon.post(`/api/v1/signup/${orgId}`, { email: 'admin@a.test', password: 'another unrelated passphrase 88' });
      expect(taken.statusCode).toBe(202);
      expect(taken.json()).toEqual(made.json());
      expect((await users()).length).toBe(count);
      // the existing account keeps its password
      expect((await new Client(t.app).post('/api/v1/auth/login', { email: 'admin@a.test', password: PASSWORD })).statusCode).toBe(200);
      expect((await audit('auth.self_signup')).length).toBe(1);
    });

    it('refuses bad input with a clear error and changes nothing', async () => {
      const anon = new Client(t.app);
      const count = (await users()).length;
      const weak = await anon.post(`/api/v1/signup/${orgId}`, { email: 'weak@a.test', password: 'password1234' });
      expect(weak.statusCode).toBe(400);
      expect(weak.json().error.code).toBe('weak_password');
      expect((await anon.post(`/api/v1/signup/${orgId}`, { email: 'not-an-email', password: NEW_PASSWORD })).statusCode).toBe(400);
      expect((await anon.post(`/api/v1/signup/${orgId}`, { email: 'x@a.test', password: NEW_PASSWORD, role: 'owner' })).statusCode).toBe(400);
      expect((await anon.post('/api/v1/signup/not-a-uuid', { email: 'x@a.test', password: NEW_PASSWORD })).statusCode).toBe(400);
      expect((await users()).length).toBe(count);
    });

    it('turned off again, the link stops working', async () => {
      expect((await owner.request('PUT', '/api/v1/signup/settings', { body: { enabled: false } })).json().enabled).toBe(false);
      expect((await new Client(t.app).post(`/api/v1/signup/${orgId}`, { email: 'late@a.test', password: NEW_PASSWORD })).statusCode).toBe(404);
      expect((await audit('settings.updated')).filter((e) => detailsOf(e).includes('selfSignup')).length).toBe(2);
    });

    it('the strength check gives the same verdict as the server applies', async () => {
      const anon = new Client(t.app);
      const short = (await anon.post('/api/v1/password-strength', { password: 'abc' })).json();
      expect(short).toMatchObject({ score: 0, acceptable: false });
      expect(short.message).toMatch(/at least 12 characters/);
      const common = (await anon.post('/api/v1/password-strength', { password: 'password1234' })).json();
      expect(common.acceptable).toBe(false);
      expect(common.score).toBeLessThan(3);
      const withEmail = (await anon.post('/api/v1/password-strength', { password: 'jonathan.smith-2026', email: 'jonathan.smith@a.test' })).json();
      expect(withEmail.acceptable).toBe(false);
      const good = (await anon.post('/api/v1/password-strength', { password: NEW_PASSWORD })).json();
      expect(good).toEqual({ score: expect.any(Number), acceptable: true, message: null });
      expect(good.score).toBeGreaterThanOrEqual(3);
      expect((await anon.post('/api/v1/password-strength', { password: 'x'.repeat(2000) })).statusCode).toBe(400);
    });

    it('an invitation link can be looked up (who, what role, which organisation) until it is used', async () => {
      const inv = (await admin.post('/api/v1/invitations', { email: 'guest@a.test', role: 'analyst' })).json();
      const anon = new Client(t.app);
      const look = await anon.post('/api/v1/invitations/lookup', { token: inv.token });
      expect(look.statusCode).toBe(200);
      expect(look.json()).toEqual({ email: 'guest@a.test', role: 'analyst', orgName: 'Org A', expiresAt: inv.expiresAt });
      expect((await anon.post('/api/v1/invitations/accept', { token: inv.token, password: NEW_PASSWORD })).statusCode).toBe(201);
      const used = await anon.post('/api/v1/invitations/lookup', { token: inv.token });
      expect(used.statusCode).toBe(400);
      expect(used.json().error.code).toBe('invalid_invitation');
      expect((await anon.post('/api/v1/invitations/lookup', { token: 'made-up' })).statusCode).toBe(400);
    });
  });
}
