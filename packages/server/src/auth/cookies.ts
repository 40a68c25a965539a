// The three sign-in cookies (see docs/api.md): the access JWT, the refresh token (sent only
// to /api/v1/auth) and the CSRF token the page reads and echoes in X-CSRF-Token.
import type { FastifyReply } from 'fastify';
import { ACCESS_TTL_SECONDS } from './jwt.js';
import { REFRESH_TTL_MS } from './sessions.js';

export const SESSION_COOKIE = 'palisade_session';
export const REFRESH_COOKIE = 'palisade_refresh';
export const CSRF_COOKIE = 'palisade_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const REFRESH_PATH = '/api/v1/auth';

export function setAuthCookies(reply: FastifyReply, v: { access: string; refresh: string; csrf: string }, secure: boolean): void {
  const base = { sameSite: 'lax' as const, secure };
  reply.setCookie(SESSION_COOKIE, v.access, { ...base, httpOnly: true, path: '/', maxAge: ACCESS_TTL_SECONDS });
  reply.setCookie(REFRESH_COOKIE, v.refresh, { ...base, httpOnly: true, path: REFRESH_PATH, maxAge: Math.floor(REFRESH_TTL_MS / 1000) });
  reply.setCookie(CSRF_COOKIE, v.csrf, { ...base, httpOnly: false, path: '/', maxAge: Math.floor(REFRESH_TTL_MS / 1000) });
}

export function clearAuthCookies(reply: FastifyReply, secure: boolean): void {
  const base = { sameSite: 'lax' as const, secure };
  reply.clearCookie(SESSION_COOKIE, { ...base, httpOnly: true, path: '/' });
  reply.clearCookie(REFRESH_COOKIE, { ...base, httpOnly: true, path: REFRESH_PATH });
  reply.clearCookie(CSRF_COOKIE, { ...base, path: '/' });
}
