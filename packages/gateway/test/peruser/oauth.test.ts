// issue 16 §3: per-user upstream OAuth against a local OAuth fixture (its own authorization
// server with RFC 9728/8414 metadata, PKCE-checking token endpoint, refresh, and a Streamable
// HTTP MCP server answering the token's subject). Two principals authorize as two upstream
// users and each call answers its own subject; the store holds no plaintext token; refresh
// works after expiry; a forged or replayed state is refused; a principal without a token, or
// whose refresh is refused (invalid_grant), gets the how-to-authorize error.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { newToken, parseConfig, ConfigError, runGatewayCommand } from '../../src/index.js';
import { connect, NODE, spawnListening, startFromYaml, textOf, tmpDir, writeConfig } from '../helpers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/oauth-upstream.mjs', import.meta.url));
const CLIENT_SECRET = 'fixture-client-secret-0123456789';
const KEY = 'k'.repeat(16) + 'a-test-key-of-32+chars';
const TTL = 2; // seconds: short, so the test sees tokens expire and refresh

const users = { alice: newToken(), bob: newToken(), carol: newToken(), dave: newToken() };
const IDENTITY = fileURLToPath(new URL('../fixtures/identity-server.mjs', import.meta.url));
let fixture: ChildProcess;
/** an OTLP endpoint that accepts and drops spans: traces on, so trace context goes upstream too */
let otlp: http.Server;
let fx: string;
let gw: Awaited<ReturnType<typeof startFromYaml>>;
const warnings: string[] = [];
const clients: Partial<Record<keyof typeof users, Client>> = {};

beforeAll(async () => {
  const started = await spawnListening([FIXTURE, '--ttl', String(TTL)]);
  fixture = started.child;
  const port = started.port;
  fx = `http://127.0.0.1:${port}`;
  otlp = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => otlp.listen(0, '127.0.0.1', resolve));
  gw = await startFromYaml(
    `
listen: { port: 0 }
telemetry: { otlpEndpoint: 'http://127.0.0.1:${(otlp.address() as { port: number }).port}/v1/traces' }
tokenEncryptionKey: "\${GW_TOKEN_KEY}"
auth:
  tokens:
${Object.entries(users)
  .map(([name, t]) => `    - { name: ${name}, sha256: ${t.sha256}${name === 'dave' ? ', virtualServers: [local]' : ''} }`)
  .join('\n')}
virtualServers:
  local: { upstreams: [ids] }
  remote: { upstreams: [saas] }
upstreams:
  ids:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(IDENTITY)}]
  saas:
    url: ${fx}/mcp
    allowPrivateAddress: true
    auth:
      type: oauth
      clientId: palisade-test-client
      clientSecret: "\${SAAS_CLIENT_SECRET}"
      scopes: [mcp]
`,
    { env: { ...process.env, GW_TOKEN_KEY: KEY, SAAS_CLIENT_SECRET: CLIENT_SECRET }, warn: (m) => warnings.push(m) },
  );
}, 120_000);

afterAll(async () => {
  for (const c of Object.values(clients)) await c?.close().catch(() => undefined);
  await gw?.close();
  fixture?.kill('SIGKILL');
  otlp?.close();
});

const base = () => new URL(gw.url!).origin;
const bearer = (u: keyof typeof users) => ({ authorization: `Bearer ${users[u].token}` });

/** Play the browser: the gateway's authorize endpoint, the fixture's sign-in as `upstreamUser`; returns the callback URL (not yet opened). */
async function signIn(principal: keyof typeof users, upstreamUser: string): Promise<string> {
  const start = await fetch(`${base()}/oauth/upstreams/saas/authorize`, { headers: bearer(principal), redirect: 'manual' });
  expect(start.status).toBe(302);
  const to = new URL(start.headers.get('location')!);
  expect(to.origin).toBe(fx);
  expect(to.searchParams.get('code_challenge_method')).toBe('S256');
  expect(to.searchParams.get('redirect_uri')).toBe(`${base()}/oauth/upstreams/saas/callback`);
  expect(to.searchParams.get('resource')).toBe(`${fx}/mcp`);
  expect(to.href).not.toContain(CLIENT_SECRET);
  to.searchParams.set('user', upstreamUser);
  const back = await fetch(to, { redirect: 'manual' });
  expect(back.status).toBe(302);
  return back.headers.get('location')!;
}

async function client(u: keyof typeof users): Promise<Client> {
  clients[u] ??= await connect(gw.url!, bearer(u));
  return clients[u];
}

async function subject(u: keyof typeof users): Promise<string> {
  const r = await (await client(u)).callTool({ name: 'saas__whoami', arguments: {} });
  return (JSON.parse(textOf(r)) as { subject: string }).subject;
}

async function refusal(u: keyof typeof users): Promise<{ code: number; message: string; data?: { authorizeUrl?: string } }> {
  const e = await (await client(u)).callTool({ name: 'saas__whoami', arguments: {} }).then(
    () => undefined,
    (err: unknown) => err as { code: number; message: string; data?: { authorizeUrl?: string } },
  );
  expect(e, `${u}'s call was answered`).toBeDefined();
  return e!;
}

async function stats(): Promise<{ codeGrants: number; refreshGrants: number; issued: string[]; refused: string[]; traceparents: string[] }> {
  return (await (await fetch(`${fx}/stats`)).json()) as never;
}

describe('per-user upstream OAuth', () => {
  it('refuses to start without a long enough encryption key', () => {
    const yaml = (key: string) =>
      `tokenEncryptionKey: "\${K}"\nupstreams:\n  saas:\n    url: https://saas.example/mcp\n    auth: { type: oauth, clientId: c }\n${key}`;
    expect(() => parseConfig(yaml('').replace('tokenEncryptionKey: "${K}"\n', ''), '/tmp/g.yaml', {})).toThrow(/tokenEncryptionKey/);
    expect(() => parseConfig(yaml(''), '/tmp/g.yaml', { K: 'short' })).toThrow(/too short/);
    expect(() => parseConfig(yaml(''), '/tmp/g.yaml', { K: KEY })).not.toThrow();
    expect(() =>
      parseConfig(
        'tokenEncryptionKey: "${K}"\nupstreams:\n  s:\n    url: https://s.example/mcp\n    auth: { type: oauth, clientId: c, clientSecret: literal }\n',
        '/tmp/g.yaml',
        {
          K: KEY,
        },
      ),
    ).toThrow(ConfigError);
  });

  it('gateway check accepts an OAuth upstream nobody authorized yet and reports it', async () => {
    const file = writeConfig(
      tmpDir(),
      'tokenEncryptionKey: "${K}"\nupstreams:\n  saas:\n    url: https://saas.example/mcp\n    auth: { type: oauth, clientId: c }\n',
    );
    const out: string[] = [];
    const io = { out: (x: string) => void out.push(x), err: (x: string) => void out.push(x), env: { ...process.env, K: KEY } };
    expect(await runGatewayCommand(['gateway', 'check', '--config', file], io)).toBe(0);
    expect(out.join('')).toMatch(/saas \(http, per-user, at most 50 instances\) per-user OAuth: each user authorizes at \/oauth\/upstreams\/saas\/authorize/);
  }, 60_000);

  it('gives a principal without a token an error that says where to authorize', async () => {
    // nobody has authorized yet: the tools are not known, so sign alice in first
    const cb = await signIn('alice', 'alice@saas');
    const done = await fetch(cb);
    expect(done.status).toBe(200);
    expect(((await done.json()) as { status: string }).status).toBe('authorized');
    const e = await refusal('carol');
    expect(e.code).toBe(-32003);
    expect(e.message).toContain(`${base()}/oauth/upstreams/saas/authorize`);
    expect(e.data?.authorizeUrl).toBe(`${base()}/oauth/upstreams/saas/authorize`);
  }, 60_000);

  it("uses each principal's own token: two principals, two upstream users", async () => {
    expect(await subject('alice')).toBe('alice@saas');
    const cb = await signIn('bob', 'bob@saas');
    expect((await fetch(cb)).status).toBe(200);
    expect(await subject('bob')).toBe('bob@saas');
    expect(await subject('alice')).toBe('alice@saas');
    // carol still has none, and never gets someone else's
    expect((await refusal('carol')).code).toBe(-32003);
  }, 60_000);

  it("sends the caller's trace context with the user's token", async () => {
    const traceId = randomBytes(16).toString('hex');
    const c = await connect(gw.url!, { ...bearer('alice'), traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    try {
      const r = await c.callTool({ name: 'saas__whoami', arguments: {} });
      expect(JSON.parse(textOf(r))).toEqual({ subject: 'alice@saas' });
    } finally {
      await c.close();
    }
    expect((await stats()).traceparents.some((t) => t.split('-')[1] === traceId)).toBe(true);
  }, 60_000);

  it('refuses a forged state and a replayed callback', async () => {
    const forged = await fetch(`${base()}/oauth/upstreams/saas/callback?code=abc&state=forged-state`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toMatch(/unknown, already used or expired/);
    const cb = await signIn('carol', 'carol@saas');
    expect((await fetch(cb)).status).toBe(200);
    const replay = await fetch(cb);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toMatch(/unknown, already used or expired/);
    expect(await subject('carol')).toBe('carol@saas');
    // an unauthenticated authorize is refused, and so is one by a principal not allowed to use the upstream
    expect((await fetch(`${base()}/oauth/upstreams/saas/authorize`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${base()}/oauth/upstreams/saas/authorize`, { headers: bearer('dave'), redirect: 'manual' })).status).toBe(404);
  }, 60_000);

  it('refreshes an expired token with the refresh token', async () => {
    const before = (await stats()).refreshGrants;
    await new Promise((r) => setTimeout(r, TTL * 1000 + 300));
    expect(await subject('alice')).toBe('alice@saas');
    expect((await stats()).refreshGrants).toBeGreaterThan(before);
    expect(await subject('alice')).toBe('alice@saas');
  }, 60_000);

  it('deletes the tokens of a principal whose refresh is refused and says how to authorize again', async () => {
    expect((await fetch(`${fx}/admin/revoke?user=bob@saas`, { method: 'POST' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, TTL * 1000 + 300));
    const e = await refusal('bob');
    expect(e.code).toBe(-32003);
    expect(e.message).toMatch(/revoked your authorization/);
    expect(e.message).toContain('/oauth/upstreams/saas/authorize');
    const db = new Database(path.join(gw.dir, '.palisade-gateway', 'gateway.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT principal FROM upstream_tokens').all() as { principal: string }[];
      expect(rows).toHaveLength(2); // alice and carol
    } finally {
      db.close();
    }
    // alice is unaffected
    expect(await subject('alice')).toBe('alice@saas');
  }, 60_000);

  it('stores no token in plaintext and writes none to audit or logs', async () => {
    const issued = (await stats()).issued;
    expect(issued.length).toBeGreaterThanOrEqual(8);
    const folder = path.join(gw.dir, '.palisade-gateway');
    const bytes = readdirSync(folder)
      .map((f) => readFileSync(path.join(folder, f)).toString('latin1'))
      .join('\n');
    expect(bytes).toContain('v1.'); // the sealed rows are there
    for (const t of issued) expect(bytes.includes(t), 'a token in the store files').toBe(false);
    expect(bytes.includes(CLIENT_SECRET)).toBe(false);
    const db = new Database(path.join(folder, 'gateway.sqlite'), { readonly: true });
    try {
      const sealed = db.prepare('SELECT sealed FROM upstream_tokens').all() as { sealed: string }[];
      for (const r of sealed) expect(r.sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      const audit = JSON.stringify(db.prepare('SELECT * FROM audit').all());
      expect(audit).toContain('authorized');
      for (const t of issued) expect(audit.includes(t)).toBe(false);
    } finally {
      db.close();
    }
    const logs = warnings.join('\n');
    for (const t of [...issued, CLIENT_SECRET]) expect(logs.includes(t)).toBe(false);
  }, 60_000);

  it("never uses another principal's token: a sealed row copied to another principal does not decrypt; signing out deletes it", async () => {
    const id = (u: keyof typeof users) => `token:${users[u].sha256.slice(0, 16)}`;
    const db = new Database(path.join(gw.dir, '.palisade-gateway', 'gateway.sqlite'));
    try {
      const alice = db.prepare('SELECT sealed FROM upstream_tokens WHERE upstream = ? AND principal = ?').get('saas', id('alice')) as { sealed: string };
      expect(db.prepare('UPDATE upstream_tokens SET sealed = ? WHERE upstream = ? AND principal = ?').run(alice.sealed, 'saas', id('carol')).changes).toBe(1);
    } finally {
      db.close();
    }
    const e = await refusal('carol');
    expect(e.code).toBe(-32003);
    expect(e.message).not.toContain('alice');
    expect(await subject('alice')).toBe('alice@saas');
    // sign out: alice's tokens are gone and her next call asks her to authorize
    const out = await fetch(`${base()}/oauth/upstreams/saas/token`, { method: 'DELETE', headers: bearer('alice') });
    expect(out.status).toBe(200);
    expect((await refusal('alice')).code).toBe(-32003);
    expect((await fetch(`${base()}/oauth/upstreams/saas/token`, { method: 'DELETE', headers: bearer('alice') })).status).toBe(404);
    expect((await fetch(`${base()}/oauth/upstreams/saas/token`, { method: 'DELETE' })).status).toBe(401);
  }, 60_000);
});
