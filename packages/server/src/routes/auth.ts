// Sign-up (when open), sign-in, refresh with rotation and replay detection, sign-out,
// password change, me.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { access } from '../auth/access.js';
import { createOrgWithOwner, findLoginCandidate, normaliseEmail, requireStrongPassword, resolveSessionUser } from '../auth/accounts.js';
import { clearAuthCookies, REFRESH_COOKIE, SESSION_COOKIE } from '../auth/cookies.js';
import { sha256Hex } from '../auth/crypto.js';
import { verifyAccessToken } from '../auth/jwt.js';
import { throttleMessage } from '../auth/login-throttle.js';
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../auth/passwords.js';
import { permissionsOf } from '../auth/permissions.js';
import { revokeSession, rotateRefreshToken } from '../auth/sessions.js';
import { audit, writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { ApiError, unauthenticated } from '../errors.js';
import { Type } from 'typebox';
import { Me, Message, UserAndOrg } from '../http/models.js';
import { asWire, NoContent, typed } from '../http/schemas.js';
import { setSessionCookies, signIn } from '../http/session.js';
import { credentialFields, orgNameField } from './setup.js';

const invalidCredentials = () => new ApiError(401, 'invalid_credentials', 'The email or password is wrong; check both and try again.');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function authRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const p = app.platform;
  const secure = p.config.production;

  if (p.config.signupOpen) {
    // The same answer, after the same bcrypt work, whether the email is new or already has an
    // account: sign-up never tells who has one. A new owner then signs in as usual.
    app.post(
      '/auth/signup',
      {
        config: { access: access.public, rateLimit: { max: 10, timeWindow: '1 minute' } },
        schema: {
          summary: 'Create a new organisation and its owner (only with PALISADE_SIGNUP=open); then sign in. The answer is the same whether or not the email already has an account.',
          tags: ['auth'],
          body: Type.Object({ orgName: orgNameField, ...credentialFields }, { additionalProperties: false }),
          response: { 202: Message },
        },
      },
      async (request, reply) => {
        const created = await createOrgWithOwner(p.store, request.body, undefined, { quietIfTaken: true });
        if (created) {
          p.setup.token = null;
          await audit(p.store, { orgId: created.org.id }, { actorType: 'user', actorId: created.user.id, actorEmail: created.user.email, action: 'auth.signup', targetType: 'org', targetId: created.org.id, ip: request.ip });
        } else request.log.info({ reason: 'email already registered' }, 'sign-up did nothing');
        return reply.code(202).send({ message: 'If this email had no account yet, its organisation and owner account now exist: sign in with this email and password.' });
      },
    );
  }

  app.post(
    '/auth/login',
    {
      config: { access: access.public, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: {
        summary: 'Sign in; sets the session, refresh and CSRF cookies',
        tags: ['auth'],
        body: Type.Object(credentialFields, { additionalProperties: false }),
        response: { 200: UserAndOrg },
      },
    },
    async (request, reply) => {
      const email = normaliseEmail(request.body.email);
      // per address, per (account, address) and per account: independent counts (auth/login-throttle.ts)
      const decision = await p.throttle.check(email, request.ip);
      if (decision.retryAfterS > 0) throw new ApiError(429, 'rate_limited', throttleMessage(decision), { 'retry-after': String(decision.retryAfterS) });
      const candidate = await findLoginCandidate(p.store, email);
      // the unknown-account path spends the same bcrypt time and gets the same answer
      const ok = candidate ? await verifyPassword(request.body.password, candidate.passwordHash) : await verifyAgainstDummy(request.body.password);
      if (decision.delayMs) await sleep(decision.delayMs);
      if (!ok || !candidate) {
        await p.throttle.fail(email, request.ip);
        // written without holding the answer back, so a known account answers as fast as an unknown one
        if (candidate) {
          void audit(p.store, { orgId: candidate.orgId }, { actorType: 'user', actorId: candidate.userId, actorEmail: candidate.email, action: 'auth.login_failed', targetType: 'user', targetId: candidate.userId, ip: request.ip }).catch((err: unknown) =>
            request.log.error({ err }, 'could not write the audit entry for a failed sign-in'),
          );
        } else request.log.info({ reason: 'unknown account' }, 'sign-in failed');
        throw invalidCredentials();
      }
      // clears this (account, address) pair only: never the address's own count
      await p.throttle.succeed(email, request.ip);
      const sessionId = await signIn(app, reply, { id: candidate.userId, role: candidate.role }, candidate.orgId);
      await audit(p.store, { orgId: candidate.orgId }, { actorType: 'user', actorId: candidate.userId, actorEmail: candidate.email, action: 'auth.login', targetType: 'session', targetId: sessionId, ip: request.ip });
      return asWire(UserAndOrg, {
        user: { id: candidate.userId, email: candidate.email, role: candidate.role, createdAt: candidate.createdAt },
        org: { id: candidate.orgId, name: candidate.orgName },
      });
    },
  );

  app.post(
    '/auth/refresh',
    { config: { access: access.refresh, rateLimit: { max: 60, timeWindow: '1 minute' } }, schema: { summary: 'Rotate the refresh token and issue a new access token (X-CSRF-Token required)', tags: ['auth'], response: { 200: UserAndOrg } } },
    async (request, reply) => {
      const presented = request.cookies[REFRESH_COOKIE];
      if (!presented) throw unauthenticated();
      const r = await rotateRefreshToken(p.store, presented);
      if (r.kind === 'reuse') {
        await audit(p.store, { orgId: r.orgId }, { actorType: 'system', action: 'auth.refresh_reuse', targetType: 'session', targetId: r.sessionId, ip: request.ip, details: { userId: r.userId } });
        clearAuthCookies(reply, secure);
        throw new ApiError(401, 'session_revoked', 'This sign-in was ended because an old refresh token was used again (it may have been copied); sign in again.');
      }
      if (r.kind === 'invalid') {
        clearAuthCookies(reply, secure);
        throw unauthenticated();
      }
      const user = await resolveSessionUser(p.store, { sub: r.userId, org: r.orgId, sid: r.sessionId });
      if (!user) {
        clearAuthCookies(reply, secure);
        throw unauthenticated();
      }
      await setSessionCookies(app, reply, { userId: user.userId, orgId: user.orgId, role: user.role, sessionId: r.sessionId, refreshToken: r.refreshToken });
      return asWire(UserAndOrg, await userAndOrgOf(app, user.userId, user.orgId));
    },
  );

  app.post('/auth/logout', { config: { access: access.refresh }, schema: { summary: 'Sign out: revokes the session on the server (X-CSRF-Token required)', tags: ['auth'], response: { 204: NoContent } } }, async (request, reply) => {
    const sessionId = await sessionIdOf(app, request);
    if (sessionId) {
      const s = await p.store.db.selectFrom('sessions').select(['org_id', 'user_id', 'revoked_at']).where('id', '=', sessionId).executeTakeFirst();
      await revokeSession(p.store, sessionId, 'logout');
      if (s && !s.revoked_at) {
        const scope = { orgId: s.org_id };
        await withOrg(p.store, scope, (tx) => writeAudit(tx, scope, { actorType: 'user', actorId: s.user_id, action: 'auth.logout', targetType: 'session', targetId: sessionId, ip: request.ip }));
      }
    }
    clearAuthCookies(reply, secure);
    return reply.code(204).send();
  });

  app.post(
    '/auth/password',
    {
      config: { access: access.signedIn, rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        summary: 'Change your password; ends your other sessions',
        tags: ['auth'],
        body: Type.Object({ currentPassword: Type.String({ maxLength: 1024 }), newPassword: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const u = request.user!;
      const decision = await p.throttle.check(u.email, request.ip);
      if (decision.retryAfterS > 0) throw new ApiError(429, 'rate_limited', throttleMessage(decision, 'password checks'), { 'retry-after': String(decision.retryAfterS) });
      const row = await p.store.db.selectFrom('users').select('password_hash').where('id', '=', u.userId).executeTakeFirstOrThrow();
      if (!(await verifyPassword(request.body.currentPassword, row.password_hash))) {
        await p.throttle.fail(u.email, request.ip);
        throw new ApiError(400, 'wrong_password', 'The current password is wrong; type it again.');
      }
      requireStrongPassword(request.body.newPassword, u.email);
      const hash = await hashPassword(request.body.newPassword);
      const scope = { orgId: u.orgId };
      await withOrg(p.store, scope, async (tx) => {
        await tx.updateTable('users').set({ password_hash: hash }).where('id', '=', u.userId).execute();
        // every other sign-in of this account ends; this one stays
        await tx.updateTable('sessions').set({ revoked_at: new Date().toISOString(), revoked_reason: 'password_changed' }).where('user_id', '=', u.userId).where('id', '!=', u.sessionId).where('revoked_at', 'is', null).execute();
        await writeAudit(tx, scope, { actorType: 'user', actorId: u.userId, actorEmail: u.email, action: 'auth.password_changed', targetType: 'user', targetId: u.userId, ip: request.ip });
      });
      return reply.code(204).send();
    },
  );

  app.get(
    '/me',
    { config: { access: access.signedIn }, schema: { summary: 'The signed-in user, their organisation and permissions', tags: ['auth'], response: { 200: Me } } },
    async (request) => {
      const u = request.user!;
      const { user, org } = await userAndOrgOf(app, u.userId, u.orgId);
      return asWire(Me, { user, org, permissions: [...permissionsOf(u.role)] });
    },
  );
}

async function userAndOrgOf(app: FastifyInstance, userId: string, orgId: string) {
  const row = await withOrg(app.platform.store, { orgId }, (tx) =>
    tx
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
      .select(['users.id', 'users.email', 'memberships.role', 'users.created_at', 'orgs.name as org_name'])
      .where('memberships.org_id', '=', orgId)
      .where('memberships.user_id', '=', userId)
      .executeTakeFirstOrThrow(),
  );
  return { user: { id: row.id, email: row.email, role: row.role, createdAt: row.created_at }, org: { id: orgId, name: row.org_name } };
}

/** The session to end: from the access token (even if expired) or the refresh token. */
async function sessionIdOf(app: FastifyInstance, request: FastifyRequest): Promise<string | null> {
  const token = request.cookies[SESSION_COOKIE];
  if (token) {
    const claims = await verifyAccessToken(token, app.platform.jwtKey);
    if (claims) return claims.sid;
  }
  const refresh = request.cookies[REFRESH_COOKIE];
  if (refresh) {
    const row = await app.platform.store.db.selectFrom('refresh_tokens').select('session_id').where('token_hash', '=', sha256Hex(refresh)).executeTakeFirst();
    if (row) return row.session_id;
  }
  return null;
}
