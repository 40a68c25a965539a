// Who may call a route is declared on the route itself, in its config:
//   app.get('/servers', { config: { access: access.user('inventory:read') } }, handler)
// One onRequest hook (installed by app.ts) enforces it before the body is even parsed, and
// every /api/ route MUST declare access (registration fails otherwise), so a forgotten guard
// is a start-up error rather than an open route. The route-walking tests read the same config.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/scope.js';
import { ApiError, forbidden, unauthenticated } from '../errors.js';
import { resolveSessionUser, type AuthUser } from './accounts.js';
import { verifyAgentKey, type AuthAgent } from './agent-keys.js';
import { GATEWAY_KEY_HEADER, verifyGatewayKey, type AuthGateway } from './gateway-keys.js';
import { constantTimeEqual } from './crypto.js';
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from './cookies.js';
import { verifyAccessToken } from './jwt.js';
import { can, type Permission } from './permissions.js';

export type Access =
  | { kind: 'public' }
  /** an agent key (X-API-Key) of the org; never a user */
  | { kind: 'agent' }
  /** a gateway key (X-Gateway-Key) of the org (issue 16 §4); never a user */
  | { kind: 'gateway' }
  /** a signed-in user whose role holds the permission (null: any signed-in user) */
  | { kind: 'user'; permission: Permission | null }
  /** refresh and logout: authenticated by the refresh cookie in the handler; CSRF still applies */
  | { kind: 'refresh' };

export const access = {
  public: { kind: 'public' } as Access,
  agent: { kind: 'agent' } as Access,
  gateway: { kind: 'gateway' } as Access,
  signedIn: { kind: 'user', permission: null } as Access,
  refresh: { kind: 'refresh' } as Access,
  user: (permission: Permission): Access => ({ kind: 'user', permission }),
};

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    user?: AuthUser;
    agent?: AuthAgent;
    gateway?: AuthGateway;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function checkCsrf(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const cookie = request.cookies[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  if (!cookie || typeof header !== 'string' || !constantTimeEqual(cookie, header)) {
    throw new ApiError(403, 'csrf_failed', 'This request is missing its CSRF token; reload the page and try again (send the palisade_csrf cookie value in the X-CSRF-Token header).');
  }
}

/** Verifies the session cookie and loads the user, or returns null. */
export async function sessionUser(request: FastifyRequest, store: Db, key: Uint8Array): Promise<AuthUser | null> {
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return null;
  const claims = await verifyAccessToken(token, key);
  if (!claims) return null;
  return resolveSessionUser(store, claims);
}

export function makeAccessHook(store: Db, key: Uint8Array) {
  return async function enforceAccess(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const rule = request.routeOptions.config?.access;
    if (!rule || rule.kind === 'public') return;
    if (rule.kind === 'agent') {
      const presented = request.headers['x-api-key'];
      const agent = typeof presented === 'string' ? await verifyAgentKey(store, presented) : null;
      if (!agent) throw new ApiError(401, 'invalid_api_key', 'The agent key is missing, unknown or revoked; create a new key in the dashboard and run `palisade configure --api-key KEY`.');
      request.agent = agent;
      return;
    }
    if (rule.kind === 'gateway') {
      const presented = request.headers[GATEWAY_KEY_HEADER];
      const gateway = typeof presented === 'string' ? await verifyGatewayKey(store, presented) : null;
      if (!gateway) throw new ApiError(401, 'invalid_gateway_key', 'The gateway key is missing, unknown or revoked; create a gateway key in the dashboard (Gateways) and give it to the gateway as backend.key.');
      request.gateway = gateway;
      return;
    }
    if (rule.kind === 'refresh') {
      checkCsrf(request);
      return;
    }
    const user = await sessionUser(request, store, key);
    if (!user) throw unauthenticated();
    checkCsrf(request);
    if (rule.permission && !can(user.role, rule.permission)) throw forbidden();
    request.user = user;
  };
}
