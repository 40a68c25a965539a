// The HTTP side of per-user upstream OAuth:
//   GET /oauth/upstreams/<name>/authorize  authenticated as the principal (gateway token or
//       OAuth access token); redirects (302) to the upstream's sign-in page, or answers
//       {"authorizationUrl": ...} with ?format=json
//   GET /oauth/upstreams/<name>/callback   the authorization server's redirect back; the state
//       (single use, expiring, bound to the principal that started) decides whose token it is
//   DELETE /oauth/upstreams/<name>/token  authenticated: sign the principal out of the upstream
//       (its tokens deleted, and revoked at the authorization server when it has an endpoint)
// Responses never carry a code, token or client secret; audit records name the principal only.
import type http from 'node:http';
import type { AuthResult } from '../auth.js';
import type { Gateway } from '../gateway.js';
import { OAuthFlowError } from './upstream-oauth.js';

export interface OAuthRouteDeps {
  gateway: Gateway;
  authenticate: (authorization: string | undefined) => Promise<AuthResult>;
  baseUrl: () => string;
}

const ROUTE = /^\/oauth\/upstreams\/([a-zA-Z0-9_-]{1,64})\/(authorize|callback|token)$/;

/** Serve the route if it is one of these; false when the path is not an upstream OAuth path. */
export async function handleUpstreamOAuth(deps: OAuthRouteDeps, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
  const m = ROUTE.exec(url.pathname);
  if (!m) return false;
  const [, name, step] = m as unknown as [string, string, 'authorize' | 'callback' | 'token'];
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...headers,
    });
    res.end(JSON.stringify(body));
  };
  const method = step === 'token' ? 'DELETE' : 'GET';
  if (req.method !== method) {
    send(405, { error: 'method_not_allowed' }, { allow: method });
    return true;
  }
  const flow = deps.gateway.upstreamOAuth(name);
  if (!flow) {
    send(404, { error: 'not_found', message: `No upstream "${name}" with per-user OAuth.` });
    return true;
  }
  if (step === 'authorize' || step === 'token') {
    const auth = await deps.authenticate(req.headers.authorization);
    if (!auth.ok) {
      deps.gateway.audit({ kind: 'auth', decision: 'refused', reason: auth.description });
      send(auth.status, { error: auth.error, error_description: auth.description }, { 'www-authenticate': `Bearer error="${auth.error}"` });
      return true;
    }
    if (!deps.gateway.mayUseUpstream(auth.principal, name)) {
      send(404, { error: 'not_found', message: `No upstream "${name}" with per-user OAuth for this principal.` });
      return true;
    }
    if (step === 'token') {
      const had = await flow.revoke(auth.principal.id);
      deps.gateway.audit({ kind: 'upstream-oauth', principal: auth.principal.id, upstream: name, decision: had ? 'signed-out' : 'sign-out-nothing' });
      send(had ? 200 : 404, had ? { status: 'signed-out', upstream: name } : { error: 'not_found', message: `You had no token for ${name}.` });
      return true;
    }
    try {
      const target = await flow.start(auth.principal, deps.baseUrl());
      deps.gateway.audit({ kind: 'upstream-oauth', principal: auth.principal.id, upstream: name, decision: 'authorize-started' });
      if (url.searchParams.get('format') === 'json') send(200, { authorizationUrl: target });
      else send(302, { authorizationUrl: target }, { location: target });
    } catch (err) {
      const status = err instanceof OAuthFlowError ? err.status : 502;
      const message = err instanceof OAuthFlowError ? err.message : 'the authorization could not be started';
      deps.gateway.audit({ kind: 'upstream-oauth', principal: auth.principal.id, upstream: name, decision: 'authorize-failed', reason: message });
      send(status, { error: 'authorization_failed', message: `Palisade gateway could not start the authorization for ${name}: ${message}.` });
    }
    return true;
  }
  try {
    const who = await flow.finish(url.searchParams);
    deps.gateway.audit({ kind: 'upstream-oauth', principal: who.principal, upstream: name, decision: 'authorized' });
    await deps.gateway.authorized(name, { id: who.principal, name: who.principalName });
    send(200, {
      status: 'authorized',
      upstream: name,
      principal: who.principalName,
      message: `Palisade gateway can now call ${name} for ${who.principalName}. You may close this page.`,
    });
  } catch (err) {
    const status = err instanceof OAuthFlowError ? err.status : 502;
    const message = err instanceof OAuthFlowError ? err.message : 'the authorization could not be completed';
    deps.gateway.audit({ kind: 'upstream-oauth', upstream: name, decision: 'callback-refused', reason: message });
    send(status, { error: 'authorization_failed', message: `Palisade gateway refused this sign-in for ${name}: ${message}.` });
  }
  return true;
}
