// Per-user OAuth to a remote upstream (issue 16 §3), with oauth4webapi for the protocol:
// discovery (the upstream's 401 WWW-Authenticate resource_metadata -> RFC 9728 protected
// resource metadata -> RFC 8414 authorization server metadata), the authorization-code flow
// with PKCE (S256) and a state bound to the principal that started it, the code exchange,
// refresh before expiry, and deletion of a user's tokens when the server answers invalid_grant.
// Every request to the upstream's servers goes through the SSRF guard.
import * as oauth from 'oauth4webapi';
import { guardedFetch, type Resolver } from '@palisade/mcp';
import type { UpstreamConfig, UpstreamOAuthConfig } from '../config.js';
import type { Principal } from '../gateway.js';
import type { TokenVault, StoredTokens } from './vault.js';

/** The principal has no usable token for this upstream: it must authorize (the message says how). */
export class AuthorizationRequired extends Error {
  constructor(
    readonly upstream: string,
    readonly authorizeUrl: string | undefined,
    why: string,
  ) {
    super(
      authorizeUrl
        ? `The upstream ${upstream} needs your authorization (${why}). Open ${authorizeUrl} with your gateway credentials (Authorization header) to sign in to ${upstream}: it redirects to the upstream's sign-in page and back (or GET ${authorizeUrl}?format=json to receive the sign-in URL to open in a browser), then call again.`
        : `The upstream ${upstream} needs your authorization (${why}), which is given through the gateway's HTTP endpoint /oauth/upstreams/${upstream}/authorize; this gateway is not serving HTTP.`,
    );
    this.name = 'AuthorizationRequired';
  }
}

/** A refused authorization step, with a sentence safe to show (no code, token or secret). */
export class OAuthFlowError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'OAuthFlowError';
  }
}

const REFRESH_SKEW_MS = 60_000;
/** how long a refresh waits for another gateway process that is refreshing the same token */
const REFRESH_WAIT_MS = 10_000;

/** Not within a minute (or half its lifetime) of expiring: used as it is. */
function fresh(t: StoredTokens): boolean {
  const skew = Math.min(REFRESH_SKEW_MS, (t.lifetimeMs ?? REFRESH_SKEW_MS * 2) / 2);
  return t.expiresAt === undefined || t.expiresAt - Date.now() > skew;
}

export class UpstreamOAuth {
  private as?: oauth.AuthorizationServer;
  private discovering?: Promise<oauth.AuthorizationServer>;
  private readonly refreshing = new Map<string, Promise<string>>();
  private readonly fetchFn: typeof fetch & { close: () => Promise<void> };
  private readonly client: oauth.Client;
  private readonly clientAuth: oauth.ClientAuth;
  private readonly insecure: boolean;
  private readonly resource: URL;
  /** the gateway's external base URL, once it listens over HTTP */
  baseUrl?: string;

  constructor(
    readonly upstream: UpstreamConfig,
    private readonly vault: TokenVault,
    resolver?: Resolver,
  ) {
    this.fetchFn = guardedFetch(upstream.allowPrivateAddress, { resolve: resolver });
    this.resource = new URL(upstream.url!);
    const a = upstream.auth as UpstreamOAuthConfig;
    this.client = { client_id: a.clientId };
    this.clientAuth = a.clientSecret ? oauth.ClientSecretPost(a.clientSecret) : oauth.None();
    // plain http only where the operator already allowed private addresses (a loopback fixture, a lab)
    this.insecure = upstream.allowPrivateAddress;
  }

  private get name(): string {
    return this.upstream.name;
  }

  private opts<T extends object>(extra?: T): T & { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]: boolean } {
    return {
      ...(extra ?? ({} as T)),
      [oauth.customFetch]: ((url: string, init: RequestInit) => this.fetchFn(url, init)) as typeof fetch,
      [oauth.allowInsecureRequests]: this.insecure,
    };
  }

  authorizeEndpoint(): string | undefined {
    return this.baseUrl ? `${this.baseUrl}/oauth/upstreams/${encodeURIComponent(this.name)}/authorize` : undefined;
  }

  callbackUrl(base: string): string {
    return `${base}/oauth/upstreams/${encodeURIComponent(this.name)}/callback`;
  }

  /** The authorization server's metadata, found from the upstream (cached once found). */
  async discover(): Promise<oauth.AuthorizationServer> {
    if (this.as) return this.as;
    this.discovering ??= this.doDiscover().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private async doDiscover(): Promise<oauth.AuthorizationServer> {
    const a = this.upstream.auth!;
    let issuer = a.authorizationServer;
    if (!issuer) {
      // an unauthenticated request: the 401 names the protected resource metadata
      let metadataUrl: URL | undefined;
      try {
        const probe = await this.fetchFn(this.resource, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
          signal: AbortSignal.timeout(10_000),
        });
        await probe.body?.cancel().catch(() => undefined);
        const m = /resource_metadata="([^"]+)"/i.exec(probe.headers.get('www-authenticate') ?? '');
        if (m) metadataUrl = new URL(m[1]!, this.resource);
      } catch (err) {
        throw new OAuthFlowError(`could not reach the upstream ${this.name} to discover its authorization server: ${describe(err)}`, 502);
      }
      let prm: oauth.ResourceServer;
      try {
        const res = metadataUrl
          ? await this.fetchFn(metadataUrl, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) })
          : await oauth.resourceDiscoveryRequest(this.resource, this.opts());
        prm = await oauth.processResourceDiscoveryResponse(this.resource, res);
      } catch (err) {
        throw new OAuthFlowError(
          `the upstream ${this.name} publishes no usable protected resource metadata (RFC 9728): ${describe(err)}; set upstreams.${this.name}.auth.authorizationServer`,
          502,
        );
      }
      issuer = prm.authorization_servers?.[0];
      if (!issuer) throw new OAuthFlowError(`the protected resource metadata of ${this.name} names no authorization server`, 502);
    }
    const issuerUrl = new URL(issuer);
    let as: oauth.AuthorizationServer;
    try {
      as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, this.opts({ algorithm: 'oauth2' as const })));
    } catch (err) {
      throw new OAuthFlowError(`the authorization server of ${this.name} (${issuerUrl.origin}) gave no usable metadata (RFC 8414): ${describe(err)}`, 502);
    }
    if (!as.authorization_endpoint || !as.token_endpoint)
      throw new OAuthFlowError(`the authorization server of ${this.name} has no authorization or token endpoint`, 502);
    if (as.code_challenge_methods_supported && !as.code_challenge_methods_supported.includes('S256'))
      throw new OAuthFlowError(`the authorization server of ${this.name} does not support PKCE with S256`, 502);
    this.as = as;
    return as;
  }

  /** Start a flow for this principal: the URL of the upstream's sign-in page to send the user to. */
  async start(principal: Principal, base: string): Promise<string> {
    const as = await this.discover();
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const redirectUri = this.callbackUrl(base);
    await this.vault.addFlow(state, { upstream: this.name, principal: principal.id, principalName: principal.name, verifier, redirectUri });
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.client.client_id);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    url.searchParams.set('resource', this.resource.href);
    const scopes = this.upstream.auth!.scopes;
    if (scopes.length) url.searchParams.set('scope', scopes.join(' '));
    return url.href;
  }

  /** The redirect back: check the state (known, unused, unexpired, this upstream), exchange the code. */
  async finish(params: URLSearchParams): Promise<{ principal: string; principalName: string }> {
    const state = params.get('state');
    if (!state) throw new OAuthFlowError('the redirect carries no state');
    const flow = await this.vault.takeFlow(state);
    if (!flow || flow.upstream !== this.name)
      throw new OAuthFlowError('this sign-in link is unknown, already used or expired; start again from the authorize endpoint');
    const as = await this.discover();
    let checked: URLSearchParams;
    try {
      checked = oauth.validateAuthResponse(as, this.client, params, state);
    } catch (err) {
      const e = err as { error?: unknown; cause?: unknown };
      const code = e instanceof oauth.AuthorizationResponseError ? String(e.error) : undefined;
      throw new OAuthFlowError(code ? `the authorization server refused: ${code.slice(0, 100)}` : 'the redirect from the authorization server is not valid');
    }
    let tokens: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.authorizationCodeGrantRequest(
        as,
        this.client,
        this.clientAuth,
        checked,
        flow.redirectUri,
        flow.verifier,
        this.opts({ additionalParameters: { resource: this.resource.href } }),
      );
      tokens = await oauth.processAuthorizationCodeResponse(as, this.client, res);
    } catch (err) {
      throw new OAuthFlowError(`the authorization server did not exchange the code: ${tokenError(err)}`, 502);
    }
    await this.vault.put(this.name, flow.principal, toStored(tokens));
    return { principal: flow.principal, principalName: flow.principalName };
  }

  hasToken(principal: string): Promise<boolean> {
    return this.vault.has(this.name, principal);
  }

  /**
   * The principal's access token, refreshed first when it is within a minute (or half its
   * lifetime) of expiring. Throws AuthorizationRequired when there is none or refresh is refused.
   */
  async accessToken(principal: string): Promise<string> {
    const t = await this.vault.get(this.name, principal);
    if (!t) throw new AuthorizationRequired(this.name, this.authorizeEndpoint(), 'no token for you yet');
    if (fresh(t)) return t.accessToken;
    if (!t.refreshToken) {
      if (t.expiresAt! > Date.now()) return t.accessToken;
      await this.vault.delete(this.name, principal);
      throw new AuthorizationRequired(this.name, this.authorizeEndpoint(), 'your token expired and cannot be refreshed');
    }
    let p = this.refreshing.get(principal);
    if (!p) {
      p = this.refresh(principal, t).finally(() => this.refreshing.delete(principal));
      this.refreshing.set(principal, p);
    }
    return p;
  }

  /**
   * A refresh in the principal's turn: with several gateway processes (Redis) one refreshes at
   * a time, and the next one in line finds the token already refreshed instead of sending a
   * refresh token the server may have rotated (which would sign the user out).
   */
  private async refresh(principal: string, t: StoredTokens): Promise<string> {
    const token = await this.vault.backend.refreshTurn(this.name, principal, REFRESH_WAIT_MS, async () => {
      const now = await this.vault.get(this.name, principal);
      if (!now) throw new AuthorizationRequired(this.name, this.authorizeEndpoint(), 'your authorization was removed');
      if (now.accessToken !== t.accessToken && fresh(now)) return now.accessToken;
      return this.refreshWith(principal, now);
    });
    if (token !== null) return token;
    // another process has held the turn for REFRESH_WAIT_MS: its result, or the token while it lasts
    const now = await this.vault.get(this.name, principal);
    if (now && (fresh(now) || (now.expiresAt !== undefined && now.expiresAt > Date.now()))) return now.accessToken;
    throw new Error(`refreshing the token for ${this.name} is taking too long on another gateway process; try again`);
  }

  private async refreshWith(principal: string, t: StoredTokens): Promise<string> {
    const as = await this.discover();
    let tokens: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.refreshTokenGrantRequest(
        as,
        this.client,
        this.clientAuth,
        t.refreshToken!,
        this.opts({ additionalParameters: { resource: this.resource.href } }),
      );
      tokens = await oauth.processRefreshTokenResponse(as, this.client, res);
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant') {
        await this.vault.delete(this.name, principal);
        throw new AuthorizationRequired(this.name, this.authorizeEndpoint(), 'the upstream revoked your authorization');
      }
      // the current token still works until it expires
      if (t.expiresAt !== undefined && t.expiresAt > Date.now()) return t.accessToken;
      throw new Error(`refreshing the token for ${this.name} failed: ${tokenError(err)}`);
    }
    const next = toStored(tokens);
    if (!next.refreshToken && t.refreshToken) next.refreshToken = t.refreshToken;
    await this.vault.put(this.name, principal, next);
    return next.accessToken;
  }

  /**
   * Sign a principal out of the upstream: its tokens are deleted here and, when the
   * authorization server has a revocation endpoint (RFC 7009), revoked there (best effort).
   */
  async revoke(principal: string): Promise<boolean> {
    const t = await this.vault.get(this.name, principal);
    const had = await this.vault.delete(this.name, principal);
    if (t && this.as?.revocation_endpoint) {
      try {
        await oauth.processRevocationResponse(
          await oauth.revocationRequest(this.as, this.client, this.clientAuth, t.refreshToken ?? t.accessToken, this.opts()),
        );
      } catch {
        // deleted here all the same; the server's copy expires on its own
      }
    }
    return had;
  }

  async close(): Promise<void> {
    await this.fetchFn.close().catch(() => undefined);
  }
}

function toStored(t: oauth.TokenEndpointResponse): StoredTokens {
  const lifetimeMs = typeof t.expires_in === 'number' && t.expires_in > 0 ? t.expires_in * 1000 : undefined;
  return {
    accessToken: t.access_token,
    ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}),
    ...(lifetimeMs ? { expiresAt: Date.now() + lifetimeMs, lifetimeMs } : {}),
    ...(t.scope ? { scope: t.scope } : {}),
  };
}

/** An OAuth error code or a short cause: never the response body (it may echo a credential). */
function tokenError(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) return `${err.error}${err.status ? ` (HTTP ${err.status})` : ''}`;
  return describe(err);
}

function describe(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.slice(0, 200);
}
