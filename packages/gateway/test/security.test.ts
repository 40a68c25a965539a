import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { GatewayStore, newToken, startGateway } from '../src/index.js';
import { parseConfig } from '../src/config.js';
import { connect, fixtureUpstream, INIT_BODY, rawRequest, startHttpFixture, textOf, tmpDir, writeConfig } from './helpers.js';

describe('inbound security: Host/Origin, tokens, OAuth, sessions, no token passthrough', () => {
  let fixture: Awaited<ReturnType<typeof startHttpFixture>>;
  let jwksServer: Server;
  let issuer: string;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let base: string;
  let file: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    fixture = await startHttpFixture('basic');
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((req, res) => {
      if (req.url === '/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
    const dir = tmpDir();
    const ci = newToken();
    tokens.ci = ci.token;
    file = writeConfig(
      dir,
      `
upstreams:
  up:
    url: ${fixture.url}
    allowPrivateAddress: true
    headers: { X-Upstream-Key: "\${PAL_TEST_UPSTREAM_KEY}" }
  ssrf:
    url: ${fixture.url}
${fixtureUpstream('local', 'basic')}
virtualServers:
  dev: { upstreams: [up] }
  ops: { upstreams: [local], tools: { deny: ["local__crash"] } }
auth:
  tokens: [{ name: ci, sha256: "${ci.sha256}", virtualServers: [dev] }]
  oauth: { issuer: "${issuer}", jwksUri: "${issuer}/jwks.json" }
policy: { blockLevel: critical }
`,
    );
    process.env.PAL_TEST_UPSTREAM_KEY = 'upstream-secret-from-env';
    gw = await startGateway(file, { port: 0, warn: () => undefined });
    base = gw.url!.replace(/\/mcp$/, '');
    // tokens from `palisade gateway token create` live in the store
    const store = new GatewayStore(parseConfig(`upstreams: {}`, file).store);
    const all = newToken();
    store.addToken('all', all.sha256, all.prefix, undefined, undefined);
    tokens.all = all.token;
    const expired = newToken();
    store.addToken('old', expired.sha256, expired.prefix, undefined, new Date(Date.now() - 1000).toISOString());
    tokens.expired = expired.token;
    store.close();
  });

  afterAll(async () => {
    await gw?.close();
    fixture?.stop();
    jwksServer?.close();
    delete process.env.PAL_TEST_UPSTREAM_KEY;
  });

  const jwt = (claims: Record<string, unknown>, opts: { aud?: string; exp?: number; k?: CryptoKey } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setSubject('alice')
      .setAudience(opts.aud ?? `${base}/mcp`)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(opts.k ?? key);

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin with 403', async () => {
    const evilHost = await rawRequest(`${base}/mcp`, {
      method: 'POST',
      headers: {
        host: 'evil.example:80',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${tokens.all}`,
      },
      body: INIT_BODY,
    });
    expect(evilHost.status).toBe(403);
    const evilOrigin = await rawRequest(`${base}/mcp`, {
      method: 'POST',
      headers: {
        origin: 'http://evil.example',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${tokens.all}`,
      },
      body: INIT_BODY,
    });
    expect(evilOrigin.status).toBe(403);
    expect((await rawRequest(`${base}/healthz`)).status).toBe(200);
  });

  it('answers 401 with WWW-Authenticate resource_metadata for missing, forged and expired tokens', async () => {
    for (const auth of [undefined, 'Bearer plgw_forged000000000000000000000000000000000', `Bearer ${tokens.expired}`, 'Basic dXNlcjpwYXNz']) {
      const r = await rawRequest(`${base}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(auth ? { authorization: auth } : {}) },
        body: INIT_BODY,
      });
      expect(r.status, String(auth)).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(r.headers['www-authenticate']).toContain(`resource_metadata="${base}/.well-known/oauth-protected-resource"`);
    }
  });

  it('publishes protected resource metadata (RFC 9728)', async () => {
    const r = await rawRequest(`${base}/.well-known/oauth-protected-resource`);
    expect(JSON.parse(r.body)).toMatchObject({ resource: `${base}/mcp`, authorization_servers: [issuer] });
  });

  it('accepts a JWT from the issuer for this audience; refuses wrong audience, expired and foreign-key tokens', async () => {
    const good = await connect(`${base}/mcp`, { authorization: `Bearer ${await jwt({ scope: 'mcp' })}` });
    expect((await good.listTools()).tools.length).toBeGreaterThan(0);
    await good.close();
    const bad = [
      await jwt({}, { aud: 'https://other.example/mcp' }),
      await jwt({}, { exp: Math.floor(Date.now() / 1000) - 120 }),
      await jwt({}, { k: otherKey }),
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.',
    ];
    for (const t of bad) {
      const r = await rawRequest(`${base}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${t}` },
        body: INIT_BODY,
      });
      expect(r.status).toBe(401);
    }
  });

  it('scopes a gateway token to its virtual servers', async () => {
    const ci = await connect(`${base}/mcp`, { authorization: `Bearer ${tokens.ci}` });
    const names = (await ci.listTools()).tools.map((t) => t.name);
    expect(names).toContain('up__echo');
    expect(names.some((n) => n.startsWith('local__'))).toBe(false);
    await expect(ci.callTool({ name: 'local__echo', arguments: { text: 'x' } })).rejects.toThrow(/Unknown tool/);
    await ci.close();
    const r = await rawRequest(`${base}/servers/ops/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${tokens.ci}` },
      body: INIT_BODY,
    });
    expect(r.status).toBe(404);
    const ops = await connect(`${base}/servers/ops/mcp`, { authorization: `Bearer ${tokens.all}` });
    const opsNames = (await ops.listTools()).tools.map((t) => t.name);
    expect(opsNames).toContain('local__echo');
    expect(opsNames).not.toContain('local__crash');
    expect(opsNames).not.toContain('up__echo');
    await ops.close();
  });

  it("answers 404 to another principal's session id", async () => {
    const init = await rawRequest(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${tokens.ci}` },
      body: INIT_BODY,
    });
    expect(init.status).toBe(200);
    const sid = init.headers['mcp-session-id'] as string;
    expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const common = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    };
    const other = await rawRequest(`${base}/mcp`, { method: 'POST', headers: { ...common, authorization: `Bearer ${tokens.all}` }, body: list });
    expect(other.status).toBe(404);
    const own = await rawRequest(`${base}/mcp`, { method: 'POST', headers: { ...common, authorization: `Bearer ${tokens.ci}` }, body: list });
    expect(own.status).toBe(200);
    const guessed = await rawRequest(`${base}/mcp`, {
      method: 'POST',
      headers: { ...common, 'mcp-session-id': 'x'.repeat(43), authorization: `Bearer ${tokens.ci}` },
      body: list,
    });
    expect(guessed.status).toBe(404);
  });

  it("never forwards the client's Authorization to an upstream; upstream credentials come from the config's env references", async () => {
    const client = await connect(`${base}/mcp`, { authorization: `Bearer ${tokens.ci}` });
    const seen = JSON.parse(textOf(await client.callTool({ name: 'up__headers', arguments: {} }))) as { headers: Record<string, string> }[];
    await client.close();
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r.headers)).not.toContain(tokens.ci);
      expect(r.headers['x-upstream-key']).toBe('upstream-secret-from-env');
    }
  });

  it('refuses an upstream URL on a loopback address unless allowPrivateAddress is set (SSRF guard)', () => {
    const ssrf = gw.gateway.upstreams.get('ssrf')!;
    expect(ssrf.up).toBe(false);
    expect(ssrf.error).toMatch(/loopback address.*allowPrivateAddress/);
    expect(gw.gateway.upstreams.get('up')!.up).toBe(true);
  });
});
