// issue 16 §1 + §3: per-user upstream sign-ins with two gateway processes behind one address
// (no affinity), sharing state through the local Redis. A sign-in started on one replica comes
// back to the other; both then call the upstream as that user; an expired token is refreshed
// once when both replicas need it at the same moment (the fixture rotates refresh tokens and
// refuses a used one, so a second refresh would sign the user out); signing out on one holds on
// the other; Redis holds only sealed values.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { newToken } from '../../src/index.js';
import { connect, spawnListening, startFromYaml, textOf } from '../helpers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/oauth-upstream.mjs', import.meta.url));
const CLIENT_SECRET = 'fixture-client-secret-0123456789';
const KEY = 'r'.repeat(16) + 'a-replica-test-key-of-32+chars';
const TTL = 2;
const REDIS_URL = process.env.PALISADE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `palisade:test:oauth-replicas:${randomBytes(4).toString('hex')}:`;
const alice = newToken();

let fixture: ChildProcess;
let fx: string;
let a: Awaited<ReturnType<typeof startFromYaml>>;
let b: Awaited<ReturnType<typeof startFromYaml>>;
let redis: Redis;
let yaml: string;
let opts: Parameters<typeof startFromYaml>[1];
const clients: Client[] = [];

beforeAll(async () => {
  const started = await spawnListening([FIXTURE, '--ttl', String(TTL)]);
  fixture = started.child;
  const port = started.port;
  fx = `http://127.0.0.1:${port}`;
  yaml = `
listen: { port: 0 }
tokenEncryptionKey: "\${GW_TOKEN_KEY}"
auth:
  tokens:
    - { name: alice, sha256: ${alice.sha256} }
upstreams:
  saas:
    url: ${fx}/mcp
    allowPrivateAddress: true
    auth:
      type: oauth
      clientId: palisade-test-client
      clientSecret: "\${SAAS_CLIENT_SECRET}"
      scopes: [mcp]
`;
  opts = { env: { ...process.env, GW_TOKEN_KEY: KEY, SAAS_CLIENT_SECRET: CLIENT_SECRET, REDIS_URL }, redisKeyPrefix: PREFIX };
  a = await startFromYaml(yaml, opts);
  b = await startFromYaml(yaml, opts);
  redis = new Redis(REDIS_URL);
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await a?.close();
  await b?.close();
  if (redis) {
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  fixture?.kill('SIGKILL');
});

const origin = (gw: typeof a) => new URL(gw.url!).origin;
const bearer = { authorization: `Bearer ${alice.token}` };

async function whoami(gw: typeof a): Promise<string> {
  const c = await connect(gw.url!, bearer);
  clients.push(c);
  const r = await c.callTool({ name: 'saas__whoami', arguments: {} });
  return (JSON.parse(textOf(r)) as { subject: string }).subject;
}

async function refusalCode(gw: typeof a): Promise<number | undefined> {
  const c = await connect(gw.url!, bearer);
  clients.push(c);
  return c.callTool({ name: 'saas__whoami', arguments: {} }).then(
    () => undefined,
    (err: { code?: number }) => err.code,
  );
}

async function stats(): Promise<{ refreshGrants: number; issued: string[] }> {
  return (await (await fetch(`${fx}/stats`)).json()) as never;
}

describe('per-user upstream OAuth on two replicas sharing Redis', () => {
  it('finishes on one replica a sign-in started on the other, and both use the token', async () => {
    // the browser is sent to the upstream by replica A ...
    const start = await fetch(`${origin(a)}/oauth/upstreams/saas/authorize`, { headers: bearer, redirect: 'manual' });
    expect(start.status).toBe(302);
    const to = new URL(start.headers.get('location')!);
    to.searchParams.set('user', 'alice@saas');
    const back = await fetch(to, { redirect: 'manual' });
    expect(back.status).toBe(302);
    // ... and the redirect back lands on replica B (same path: one address behind a load balancer)
    const callback = new URL(back.headers.get('location')!);
    const done = await fetch(`${origin(b)}${callback.pathname}${callback.search}`);
    expect(done.status).toBe(200);
    // used once: the same redirect again, on either replica, is refused
    expect((await fetch(`${origin(a)}${callback.pathname}${callback.search}`)).status).toBe(400);
    expect(await whoami(b)).toBe('alice@saas');
    expect(await whoami(a)).toBe('alice@saas');
    // a third replica that has never seen the upstream: a client lists, then calls at once
    const c = await startFromYaml(yaml, opts);
    try {
      const client = await connect(c.url!, bearer);
      clients.push(client);
      await client.listTools();
      const r = await client.callTool({ name: 'saas__whoami', arguments: {} });
      expect(JSON.parse(textOf(r))).toEqual({ subject: 'alice@saas' });
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('saas__whoami');
    } finally {
      await c.close();
    }
  }, 60_000);

  it('refreshes an expired token once when both replicas need it at the same moment', async () => {
    const before = (await stats()).refreshGrants;
    await new Promise((r) => setTimeout(r, TTL * 1000 + 300));
    const both = await Promise.all([whoami(a), whoami(b), whoami(a), whoami(b)]);
    expect(both).toEqual(['alice@saas', 'alice@saas', 'alice@saas', 'alice@saas']);
    expect((await stats()).refreshGrants - before).toBe(1);
    // still signed in on both afterwards
    expect(await whoami(b)).toBe('alice@saas');
  }, 60_000);

  it('keeps only sealed values in Redis', async () => {
    const keys = await redis.keys(`${PREFIX}oauth:*`);
    expect(keys.some((k) => k.includes(':oauth:tok:'))).toBe(true);
    const values = (await Promise.all(keys.filter((k) => k.includes(':oauth:tok:')).map((k) => redis.get(k)))).join('\n');
    expect(values).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/m);
    for (const t of [...(await stats()).issued, CLIENT_SECRET, alice.token]) expect(values.includes(t)).toBe(false);
  });

  it('signs the user out of both replicas when they sign out on one', async () => {
    const out = await fetch(`${origin(a)}/oauth/upstreams/saas/token`, { method: 'DELETE', headers: bearer });
    expect(out.status).toBe(200);
    expect(await refusalCode(b)).toBe(-32003);
    expect(await refusalCode(a)).toBe(-32003);
  }, 60_000);
});
