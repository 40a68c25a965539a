// Sign-in, sessions and CSRF against a real app on real SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, base64url } from 'jose';
import { defaultThrottle, LoginThrottle } from '../src/auth/login-throttle.js';
import { Client, makeTestApp, PASSWORD, SETUP_TOKEN, TEST_JWT_SECRET, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';

function cookieOf(res: { cookies: unknown }, name: string) {
  return (res.cookies as { name: string; value: string; httpOnly?: boolean; sameSite?: string; path?: string; secure?: boolean; maxAge?: number }[]).find((c) => c.name === name);
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`auth on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let ownerId: string;
    let orgId: string;

    beforeAll(async () => {
      t = await makeTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('setup: says it is needed, refuses a wrong token and a weak password, then works exactly once', async () => {
      const c = new Client(t.app);
      expect((await c.get('/api/v1/setup')).json()).toEqual({ needed: true, signupOpen: false });
      const wrong = await c.post('/api/v1/setup', { setupToken: 'not-the-token-0000000000', orgName: 'A', email: 'owner@a.test', password: PASSWORD });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().error.code).toBe('bad_setup_token');
      const weak = await c.post('/api/v1/setup', { setupToken: SETUP_TOKEN, orgName: 'A', email: 'owner@a.test', password: 'short' });
      expect(weak.statusCode).toBe(400);
      expect(weak.json().error).toMatchObject({ code: 'weak_password', message: expect.stringMatching(/at least 12 characters/) });
      const common = await c.post('/api/v1/setup', { setupToken: SETUP_TOKEN, orgName: 'A', email: 'owner@a.test', password: 'password1234' });
      expect(common.json().error.code).toBe('weak_password');
      const ok = await c.post('/api/v1/setup', { setupToken: SETUP_TOKEN, orgName: 'Org A', email: 'Owner@A.test', password: PASSWORD });
      expect(ok.statusCode).toBe(201);
      expect(ok.json().user).toMatchObject({ email: 'owner@a.test', role: 'owner' });
      owner = c;
      ownerId = ok.json().user.id;
      orgId = ok.json().org.id;
      const again = await new Client(t.app).post('/api/v1/setup', { setupToken: SETUP_TOKEN, orgName: 'B', email: 'other@b.test', password: PASSWORD });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('already_set_up');
      expect((await c.get('/api/v1/setup')).json().needed).toBe(false);
    });

    it('stores the password with bcrypt cost 12', async () => {
      const row = await t.platform.store.db.selectFrom('users').select('password_hash').where('id', '=', ownerId).executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^\$2[aby]\$12\$/);
      expect(row.password_hash).not.toContain(PASSWORD);
    });

    it('signup is off by default (404)', async () => {
      const r = await new Client(t.app).post('/api/v1/auth/signup', { orgName: 'X', email: 'x@x.test', password: PASSWORD });
      expect(r.statusCode).toBe(404);
    });

    it('login sets the three cookies with the promised flags', async () => {
      const c = new Client(t.app);
      const r = await c.post('/api/v1/auth/login', { email: 'owner@a.test', password: PASSWORD });
      expect(r.statusCode).toBe(200);
      const s = cookieOf(r, 'palisade_session')!;
      const rf = cookieOf(r, 'palisade_refresh')!;
      const cs = cookieOf(r, 'palisade_csrf')!;
      expect(s).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', maxAge: 900 });
      expect(rf).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/api/v1/auth' });
      expect(cs.httpOnly).toBeFalsy();
      expect(s.secure).toBeFalsy(); // not production
      const [, payload] = s.value.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      expect(claims).toMatchObject({ sub: ownerId, org: orgId, role: 'owner', iss: 'palisade', aud: 'palisade-api' });
      expect(claims.exp - claims.iat).toBe(900);
      expect(typeof claims.sid).toBe('string');
      const stored = await t.platform.store.db.selectFrom('refresh_tokens').select('token_hash').execute();
      expect(stored.some((x) => x.token_hash === rf.value)).toBe(false); // only the hash is kept
      expect((await c.get('/api/v1/me')).json().user.email).toBe('owner@a.test');
    });

    it('wrong password and unknown email get the same answer', async () => {
      const a = await new Client(t.app).post('/api/v1/auth/login', { email: 'owner@a.test', password: 'wrong-password-123456' });
      const b = await new Client(t.app).post('/api/v1/auth/login', { email: 'nobody@a.test', password: 'wrong-password-123456' });
      expect(a.statusCode).toBe(401);
      expect(b.statusCode).toBe(401);
      expect(a.json()).toEqual(b.json());
      expect(a.cookies).toEqual([]);
    });

    it('refuses forged, expired and alg:none access tokens', async () => {
      const now = Math.floor(Date.now() / 1000);
      const sid = JSON.parse(Buffer.from(owner.jar.get('palisade_session')!.split('.')[1]!, 'base64url').toString()).sid as string;
      const claims = { org: orgId, role: 'owner', sid };
      const sign = (key: string, iat: number, exp: number) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(ownerId).setIssuer('palisade').setAudience('palisade-api').setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(key));
      const good = await sign(TEST_JWT_SECRET, now, now + 900);
      const forged = await sign('an-attacker-key-that-is-long-enough-0123456789', now, now + 900);
      const expired = await sign(TEST_JWT_SECRET, now - 3600, now - 1800);
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
      const body = base64url.encode(JSON.stringify({ ...claims, sub: ownerId, iss: 'palisade', aud: 'palisade-api', iat: now, exp: now + 900 }));
      const none = `${header}.${body}.`;
      const call = (tok: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: `palisade_session=${tok}` } });
      expect((await call(good)).statusCode).toBe(200); // the control: a correctly signed token works
      for (const tok of [forged, expired, none, `${header}.${body}.${good.split('.')[2]}`]) {
        const r = await call(tok);
        expect(r.statusCode).toBe(401);
        expect(r.json().error.code).toBe('unauthenticated');
      }
    });

    it('refresh rotates; replaying a rotated token revokes the whole session family', async () => {
      const c = new Client(t.app);
      await c.post('/api/v1/auth/login', { email: 'owner@a.test', password: PASSWORD });
      const first = c.jar.get('palisade_refresh')!;
      const r1 = await c.post('/api/v1/auth/refresh');
      expect(r1.statusCode).toBe(200);
      const second = c.jar.get('palisade_refresh')!;
      expect(second).not.toBe(first);
      expect((await c.get('/api/v1/me')).statusCode).toBe(200);
      // an attacker replays the first (already rotated) token
      const replay = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie: `palisade_refresh=${first}; palisade_csrf=x`, 'x-csrf-token': 'x' } });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error.code).toBe('session_revoked');
      // the legitimate holder's newer refresh token and its access token are dead too
      expect((await c.get('/api/v1/me')).statusCode).toBe(401);
      expect((await c.post('/api/v1/auth/refresh')).statusCode).toBe(401);
      const audit = await owner.get('/api/v1/audit?action=auth.refresh_reuse');
      expect(audit.json().total).toBeGreaterThanOrEqual(1);
    });

    it('logout revokes the session on the server at once', async () => {
      const c = new Client(t.app);
      await c.post('/api/v1/auth/login', { email: 'owner@a.test', password: PASSWORD });
      const session = c.jar.get('palisade_session')!;
      const out = await c.post('/api/v1/auth/logout');
      expect(out.statusCode).toBe(204);
      const r = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: `palisade_session=${session}` } });
      expect(r.statusCode).toBe(401);
    });

    it('CSRF: a missing or wrong X-CSRF-Token gets 403 and changes nothing', async () => {
      const before = (await owner.get('/api/v1/agent-keys')).json().total;
      const missing = await owner.post('/api/v1/agent-keys', { name: 'laptop' }, { csrf: false });
      expect(missing.statusCode).toBe(403);
      expect(missing.json().error.code).toBe('csrf_failed');
      const wrong = await owner.post('/api/v1/agent-keys', { name: 'laptop' }, { csrf: 'not-the-cookie-value' });
      expect(wrong.statusCode).toBe(403);
      const logout = await owner.post('/api/v1/auth/logout', {}, { csrf: false });
      expect(logout.statusCode).toBe(403);
      expect((await owner.get('/api/v1/me')).statusCode).toBe(200); // still signed in
      expect((await owner.get('/api/v1/agent-keys')).json().total).toBe(before);
      const ok = await owner.post('/api/v1/agent-keys', { name: 'laptop' });
      expect(ok.statusCode).toBe(201);
    });

    it('password change: needs the current password, refuses a weak one, ends the other sessions', async () => {
      const a = new Client(t.app);
      const b = new Client(t.app);
      await a.post('/api/v1/auth/login', { email: 'owner@a.test', password: PASSWORD });
      await b.post('/api/v1/auth/login', { email: 'owner@a.test', password: PASSWORD });
      const wrong = await a.post('/api/v1/auth/password', { currentPassword: 'not-my-password-000', newPassword: 'fixture-New-Pass-4k2-not-real' });
      expect(wrong.json().error.code).toBe('wrong_password');
      const weak = await a.post('/api/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'short' });
      expect(weak.json().error.code).toBe('weak_password');
      expect((await a.post('/api/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'fixture-New-Pass-4k2-not-real' }, { csrf: false })).statusCode).toBe(403);
      const ok = await a.post('/api/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'fixture-New-Pass-4k2-not-real' });
      expect(ok.statusCode).toBe(204);
      expect((await a.get('/api/v1/me')).statusCode).toBe(200);
      expect((await b.get('/api/v1/me')).statusCode).toBe(401);
      expect((await owner.get('/api/v1/me')).statusCode).toBe(401); // the setup session was another sign-in
      expect((await new Client(t.app).post('/api/v1/auth/login', { email: 'owner@a.test', password: PASSWORD })).statusCode).toBe(401);
      // change it back so the remaining tests sign in as before
      expect((await a.post('/api/v1/auth/password', { currentPassword: 'fixture-New-Pass-4k2-not-real', newPassword: PASSWORD })).statusCode).toBe(204);
      owner = a;
      t.platform.throttle = new LoginThrottle();
    });

    it('login slows down after failures and then answers 429 with retry-after', async () => {
      t.platform.throttle = new LoginThrottle(undefined, { ...defaultThrottle, windowMs: 60_000, freeFailures: 2, pairMax: 4, baseDelayMs: 1000, maxDelayMs: 1000 });
      const email = 'owner@a.test';
      const times: number[] = [];
      for (let i = 0; i < 4; i++) {
        const start = Date.now();
        const r = await new Client(t.app).post('/api/v1/auth/login', { email, password: `wrong-password-${i}-xxxxx` });
        times.push(Date.now() - start);
        expect(r.statusCode).toBe(401);
      }
      // answers after the free failures are held back (bcrypt time only adds to this)
      expect(times[2]!).toBeGreaterThanOrEqual(1000);
      expect(times[3]!).toBeGreaterThanOrEqual(1000);
      const blocked = await new Client(t.app).post('/api/v1/auth/login', { email, password: PASSWORD });
      expect(blocked.statusCode).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      t.platform.throttle = new LoginThrottle();
      // failed sign-ins are audited without delaying the answer: allow the writes a moment
      let total = 0;
      for (let i = 0; i < 50 && total < 4; i++, await new Promise((r) => setTimeout(r, 100))) total = (await owner.get('/api/v1/audit?action=auth.login_failed')).json().total;
      expect(total).toBeGreaterThanOrEqual(4);
    });
  });
}
