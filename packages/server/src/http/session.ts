// Issuing the sign-in cookies after setup, signup, login, invitation acceptance and refresh.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Role } from '../db/schema.js';
import { setAuthCookies } from '../auth/cookies.js';
import { randomToken } from '../auth/crypto.js';
import { signAccessToken } from '../auth/jwt.js';
import { startSession } from '../auth/sessions.js';

export async function setSessionCookies(app: FastifyInstance, reply: FastifyReply, v: { userId: string; orgId: string; role: Role; sessionId: string; refreshToken: string }): Promise<void> {
  const access = await signAccessToken({ sub: v.userId, org: v.orgId, role: v.role, sid: v.sessionId }, app.platform.jwtKey);
  setAuthCookies(reply, { access, refresh: v.refreshToken, csrf: randomToken(24) }, app.platform.config.production);
}

/** Starts a new session family for the user and sets the cookies. */
export async function signIn(app: FastifyInstance, reply: FastifyReply, user: { id: string; role: Role }, orgId: string): Promise<string> {
  const { sessionId, refreshToken } = await startSession(app.platform.store, user.id, orgId);
  await setSessionCookies(app, reply, { userId: user.id, orgId, role: user.role, sessionId, refreshToken });
  await app.platform.store.db.updateTable('users').set({ last_login_at: new Date().toISOString() }).where('id', '=', user.id).execute();
  return sessionId;
}
