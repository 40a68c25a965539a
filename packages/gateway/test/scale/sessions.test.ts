// Many gateway processes, one behaviour: a 2025-11-25 session opened on one process continues
// on another (state in the local Redis), also after the first is killed mid-session.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { newToken } from '../../src/auth.js';
import { fixtureUpstream, INIT_BODY, rawRequest, textOf, tmpDir, writeConfig } from '../helpers.js';
import { dropPrefix, REDIS_URL, roundRobinFetch, startGatewayProc, waitFor, type GatewayProc } from './procs.js';

const prefix = `palisade:test:${randomUUID()}:`;
const procs: GatewayProc[] = [];
const redis = new Redis(REDIS_URL);

function config(): string {
  const dir = tmpDir();
  return writeConfig(dir, `store: ./store\nupstreams:\n${fixtureUpstream('fx')}`);
}

beforeAll(async () => {
  const env = { REDIS_URL, PALISADE_GATEWAY_REDIS_PREFIX: prefix };
  procs.push(...(await Promise.all([startGatewayProc(config(), env), startGatewayProc(config(), env)])));
}, 180_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await dropPrefix(prefix);
  redis.disconnect();
});

describe('sessions shared through Redis', () => {
  it('a client alternating between two processes keeps its session, and continues when one is killed', async () => {
    const [a, b] = procs as [GatewayProc, GatewayProc];
    const seen: string[] = [];
    const client = new Client({ name: 'lb-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(a.url), { fetch: roundRobinFetch([a.url, b.url], seen) });
    await client.connect(transport);
    const sessionId = transport.sessionId!;
    expect(sessionId).toBeTruthy();
    // the record: principal, endpoint, the client's initialize; no credential
    const stored = JSON.parse((await redis.get(`${prefix}sess:${sessionId}`))!) as { principal: string; path: string; init: { protocolVersion: string } };
    expect(stored).toMatchObject({ principal: 'local', path: '/mcp', init: { protocolVersion: '2025-11-25' } });
    expect(await redis.ttl(`${prefix}sess:${sessionId}`)).toBeGreaterThan(60);

    for (let i = 0; i < 6; i++) expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: `call ${i}` } }))).toBe(`call ${i}`);
    const hostA = new URL(a.url).host;
    const hostB = new URL(b.url).host;
    expect(seen).toContain(hostA);
    expect(seen).toContain(hostB);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('fx__add');

    // kill one process mid-session, without a chance to clean up
    a.child.kill('SIGKILL');
    await a.exited;
    seen.length = 0;
    for (let i = 0; i < 4; i++) expect(textOf(await client.callTool({ name: 'fx__add', arguments: { a: i, b: 40 } }))).toBe(String(40 + i));
    expect(new Set(seen)).toEqual(new Set([hostB]));
    expect(transport.sessionId).toBe(sessionId);

    // ending the session on one process ends it everywhere
    await transport.terminateSession();
    expect(await redis.exists(`${prefix}sess:${sessionId}`)).toBe(0);
    const after = await rawRequest(b.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    await client.close();
  }, 120_000);

  it("another principal cannot continue a session on another process (it gets 404, the owner's session goes on)", async () => {
    const alice = newToken();
    const bob = newToken();
    const cfg = () =>
      writeConfig(
        tmpDir(),
        `store: ./store\nupstreams:\n${fixtureUpstream('fx')}auth:\n  tokens:\n    - { name: alice, sha256: '${alice.sha256}' }\n    - { name: bob, sha256: '${bob.sha256}' }\n`,
      );
    const env = { REDIS_URL, PALISADE_GATEWAY_REDIS_PREFIX: prefix };
    const [p1, p2] = await Promise.all([startGatewayProc(cfg(), env), startGatewayProc(cfg(), env)]);
    procs.push(p1, p2);
    const headers = (token: string, session?: string) => ({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}),
    });
    const init = await rawRequest(p1.url, { method: 'POST', headers: headers(alice.token), body: INIT_BODY });
    const sid = init.headers['mcp-session-id'] as string;
    expect(init.status).toBe(200);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const stolen = await rawRequest(p2.url, { method: 'POST', headers: headers(bob.token, sid), body: list });
    expect(stolen.status).toBe(404);
    const owner = await rawRequest(p2.url, { method: 'POST', headers: headers(alice.token, sid), body: list });
    expect(owner.status).toBe(200);
    expect(owner.body).toContain('fx__echo');
    // the stored record names the principal by its token's display prefix only, never the token
    const raw = (await redis.get(`${prefix}sess:${sid}`))!;
    expect(raw).not.toContain(alice.token);
    expect(raw).not.toContain(alice.sha256);
  }, 180_000);

  it('an unknown or forged session id is refused and stores nothing', async () => {
    const b = procs[1]!;
    await waitFor('process b to be up', () => b.child.exitCode === null);
    const forged = 'x'.repeat(43);
    const r = await rawRequest(b.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': forged, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(r.status).toBe(404);
    expect(await redis.exists(`${prefix}sess:${forged}`)).toBe(0);
  }, 60_000);
});
