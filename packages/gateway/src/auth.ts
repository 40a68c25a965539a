// Inbound authentication. (a) Palisade gateway tokens: random, shown once, only their SHA-256
// kept (in the store, or in the config file's auth.tokens), a display prefix, scoped to
// virtual servers, optional expiry. (b) OAuth 2.1 resource server: JWT access tokens checked
// against the issuer's JWKS with jose, audience bound to the gateway's resource URL (RFC 8707).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { GatewayConfig } from './config.js';
import type { Principal } from './gateway.js';
import type { GatewayStore } from './store.js';

export const TOKEN_PREFIX = 'plgw_';
const DISPLAY_PREFIX = 12;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new gateway token (shown once) with what is stored about it. */
export function newToken(): { token: string; sha256: string; prefix: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, sha256: hashToken(token), prefix: token.slice(0, DISPLAY_PREFIX) };
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: 401 | 403; error: string; description: string };

export const ANONYMOUS: Principal = { id: 'local', kind: 'anonymous', name: 'local (no auth configured)', virtualServers: null };

export class Authenticator {
  private jwks?: JWTVerifyGetKey;
  private jwksPromise?: Promise<JWTVerifyGetKey>;

  constructor(
    private readonly cfg: GatewayConfig,
    private readonly store: GatewayStore,
    /** the resource URL tokens must be issued for */
    readonly resource: string,
  ) {}

  async authenticate(authorization: string | undefined): Promise<AuthResult> {
    if (!this.cfg.auth) return { ok: true, principal: ANONYMOUS };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return { ok: false, status: 401, error: 'invalid_request', description: 'This gateway needs a bearer token (Authorization: Bearer ...).' };
    const token = m[1]!;
    if (token.startsWith(TOKEN_PREFIX)) return this.gatewayToken(token);
    if (this.cfg.auth.oauth) return this.oauthToken(token);
    return { ok: false, status: 401, error: 'invalid_token', description: 'The token is not a Palisade gateway token.' };
  }

  private gatewayToken(token: string): AuthResult {
    const digest = hashToken(token);
    const now = Date.now();
    const fromStore = this.store.tokenByHash(digest);
    let found: { name: string; virtualServers: string[] | null; expiresAt: string | null } | undefined = fromStore
      ? { name: fromStore.name, virtualServers: fromStore.virtualServers, expiresAt: fromStore.expiresAt }
      : undefined;
    if (!found) {
      const a = Buffer.from(digest, 'hex');
      for (const t of this.cfg.auth?.tokens ?? []) {
        const b = Buffer.from(t.sha256, 'hex');
        if (b.length === a.length && timingSafeEqual(a, b)) found = { name: t.name, virtualServers: t.virtualServers ?? null, expiresAt: t.expiresAt ?? null };
      }
    }
    if (!found) return { ok: false, status: 401, error: 'invalid_token', description: 'Unknown gateway token.' };
    if (found.expiresAt && Date.parse(found.expiresAt) <= now)
      return {
        ok: false,
        status: 401,
        error: 'invalid_token',
        description: 'The gateway token has expired; create a new one with palisade gateway token create.',
      };
    return { ok: true, principal: { id: `token:${digest.slice(0, 16)}`, kind: 'token', name: found.name, virtualServers: found.virtualServers } };
  }

  private async keys(): Promise<JWTVerifyGetKey> {
    if (this.jwks) return this.jwks;
    this.jwksPromise ??= (async () => {
      const oauth = this.cfg.auth!.oauth!;
      let uri = oauth.jwksUri;
      if (!uri) {
        const base = oauth.issuer.replace(/\/$/, '');
        for (const wellKnown of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
          try {
            const res = await fetch(base + wellKnown, { signal: AbortSignal.timeout(5000) });
            if (res.ok) {
              const meta = (await res.json()) as { jwks_uri?: string };
              if (typeof meta.jwks_uri === 'string') {
                uri = meta.jwks_uri;
                break;
              }
            }
          } catch {
            // try the next document
          }
        }
        uri ??= `${base}/.well-known/jwks.json`;
      }
      this.jwks = createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      return this.jwks;
    })().finally(() => {
      this.jwksPromise = undefined;
    });
    return this.jwksPromise;
  }

  private async oauthToken(token: string): Promise<AuthResult> {
    const oauth = this.cfg.auth!.oauth!;
    try {
      const { payload } = await jwtVerify(token, await this.keys(), {
        issuer: oauth.issuer,
        audience: oauth.audience ?? this.resource,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
        clockTolerance: 30,
        requiredClaims: ['exp', 'sub'],
      });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : Array.isArray(payload.scp) ? (payload.scp as string[]) : [];
      for (const s of oauth.scopes ?? [])
        if (!scopes.includes(s)) return { ok: false, status: 403, error: 'insufficient_scope', description: `The token lacks the scope ${s}.` };
      let vs: string[] | null = null;
      if (oauth.virtualServersClaim) {
        const claim = payload[oauth.virtualServersClaim];
        vs = Array.isArray(claim) ? claim.map(String) : typeof claim === 'string' ? claim.split(/[ ,]+/).filter(Boolean) : [];
      }
      return {
        ok: true,
        principal: { id: `oauth:${hashToken(`${payload.iss}#${payload.sub}`).slice(0, 24)}`, kind: 'oauth', name: String(payload.sub), virtualServers: vs },
      };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const why =
        code === 'ERR_JWT_EXPIRED'
          ? 'The access token has expired.'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
            ? `The access token was not issued for this gateway (${(err as Error).message}).`
            : 'The access token could not be verified.';
      return { ok: false, status: 401, error: 'invalid_token', description: why };
    }
  }
}
