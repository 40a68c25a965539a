// Rate limits per principal, virtual server and tool (shared through Redis, atomic) and call
// slots per principal and per upstream. Counts, not time: the windows are long enough that a
// test never sees them refill.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { openRedis, type SharedRedis } from '../../src/scale/redis.js';
import { MemoryRateBackend, RedisRateBackend } from '../../src/scale/limits.js';
import { connect, fixtureUpstream, rawRequest, startFromYaml, textOf, tmpDir, writeConfig } from '../helpers.js';
import { dropPrefix, REDIS_URL, startGatewayProc, type GatewayProc } from './procs.js';

const prefix = `palisade:test:${randomUUID()}:`;
let redis: SharedRedis;

beforeAll(async () => {
  redis = await openRedis(REDIS_URL, prefix);
});
afterAll(async () => {
  await redis.close();
  await dropPrefix(prefix);
});

async function outcome(p: Promise<unknown>): Promise<'ok' | { code: number; message: string; data?: Record<string, unknown> }> {
  try {
    const r = (await p) as { isError?: boolean };
    return r.isError ? { code: 0, message: textOf(r) } : 'ok';
  } catch (err) {
    const e = err as { code: number; message: string; data?: Record<string, unknown> };
    return { code: e.code, message: e.message, data: e.data };
  }
}

describe('the sliding window', () => {
  it('in memory: admits exactly the limit in a window, then gives the time until the next call fits', async () => {
    let now = 16_666_667 * 60_000 + 30_000; // half-way into a 60 s window
    const b = new MemoryRateBackend(() => now);
    const hit = () => b.hit([{ key: 'k', limit: 10, windowMs: 60_000 }]);
    let admitted = 0;
    for (let i = 0; i < 25; i++) if ((await hit()).ok) admitted++;
    expect(admitted).toBe(10);
    const refused = await hit();
    expect(refused.ok).toBe(false);
    // the 10 calls are in this window; the next fits once it has slid one tenth past its end
    expect(refused.retryAfterMs).toBe(30_000 + 6_000);
    now += 36_000;
    expect((await hit()).ok).toBe(true);
    expect((await hit()).ok).toBe(false);
  });

  it('a call refused by one key is counted on none', async () => {
    const b = new MemoryRateBackend(() => 5_000);
    const two = () => b.hit([{ key: 'a', limit: 100, windowMs: 60_000 }, { key: 'b', limit: 2, windowMs: 60_000 }]);
    expect((await two()).ok).toBe(true);
    expect((await two()).ok).toBe(true);
    expect(await two()).toMatchObject({ ok: false, index: 1 });
    let left = 0;
    for (let i = 0; i < 200; i++) if ((await b.hit([{ key: 'a', limit: 100, windowMs: 60_000 }])).ok) left++;
    expect(left).toBe(98);
  });

  it('in Redis: 300 concurrent hits from two connections admit exactly the limit (atomic)', async () => {
    const other = await openRedis(REDIS_URL, prefix);
    try {
      const backends = [new RedisRateBackend(redis), new RedisRateBackend(other)];
      const key = `unit-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => backends[i % 2]!.hit([{ key, limit: 120, windowMs: 3_600_000 }])));
      expect(results.filter((r) => r.ok).length).toBe(120);
      const refused = results.find((r) => !r.ok)!;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });
});

describe('limits in a gateway', () => {
  it('per tool and per virtual server, with the retry hint in the JSON-RPC error', async () => {
    const gw = await startFromYaml(
      `upstreams:\n${fixtureUpstream('fx')}virtualServers:\n  dev: { upstreams: [fx] }\nlimits:\n  rate:\n    tool: { limit: 3, windowSeconds: 3600 }\n    virtualServer: { limit: 2, windowSeconds: 3600 }\n`,
    );
    let client: Client | undefined;
    let vsClient: Client | undefined;
    try {
      client = await connect(gw.url!);
      for (let i = 0; i < 3; i++) expect(await outcome(client.callTool({ name: 'fx__echo', arguments: { text: 'x' } }))).toBe('ok');
      const refused = await outcome(client.callTool({ name: 'fx__echo', arguments: { text: 'x' } }));
      expect(refused).toMatchObject({ code: -32029, data: { reason: 'rate', scope: 'tool', limit: 3 } });
      expect((refused as { message: string }).message).toMatch(/3 calls per 3600 s for the tool fx__echo; retry in \d+ s/);
      expect((refused as unknown as { data: { retryAfterSeconds: number } }).data.retryAfterSeconds).toBeGreaterThan(0);
      // another tool has its own window
      expect(await outcome(client.callTool({ name: 'fx__add', arguments: { a: 1, b: 2 } }))).toBe('ok');

      vsClient = await connect(gw.url!.replace(/\/mcp$/, '/servers/dev/mcp'));
      // a fresh tool (its own window), through the virtual server: its window of 2 binds
      expect(await outcome(vsClient.callTool({ name: 'fx__nested', arguments: {} }))).toBe('ok');
      expect(await outcome(vsClient.callTool({ name: 'fx__nested', arguments: {} }))).toBe('ok');
      const vsRefused = await outcome(vsClient.callTool({ name: 'fx__nested', arguments: {} }));
      expect(vsRefused).toMatchObject({ code: -32029, data: { scope: 'virtual server', limit: 2 } });
      // the same tool on /mcp (no virtual server): its tool window still has room for one
      expect(await outcome(client.callTool({ name: 'fx__nested', arguments: {} }))).toBe('ok');
      const decisions = (gw.gateway.store.db.prepare(`SELECT decision FROM audit WHERE kind = 'call'`).all() as { decision: string }[]).map((r) => r.decision);
      expect(decisions.filter((d) => d === 'rate-limited').length).toBe(2);
      // and in /metrics: refusals, calls by decision, the latency histogram of forwarded calls
      const metrics = (await rawRequest(gw.url!.replace(/\/mcp$/, '/metrics'))).body;
      expect(metrics).toContain('palisade_gateway_limited_total{decision="rate-limited"} 2');
      expect(metrics).toContain('palisade_gateway_calls_total{decision="allowed"} 7');
      expect(metrics).toMatch(/^palisade_gateway_call_duration_seconds_count 7$/m);
      expect(metrics).toMatch(/^palisade_gateway_call_duration_seconds_bucket\{le="\+Inf"\} 7$/m);
    } finally {
      await client?.close();
      await vsClient?.close();
      await gw.close();
    }
  }, 60_000);

  it('call slots: a full queue refuses at once, a long wait times out, the rest complete', async () => {
    const gw = await startFromYaml(`upstreams:\n${fixtureUpstream('fx')}limits:\n  concurrency: { perUpstream: 1, queue: 1, queueTimeoutMs: 600000 }\n`);
    let client: Client | undefined;
    try {
      client = await connect(gw.url!);
      const calls = [0, 1, 2].map(() => outcome(client!.callTool({ name: 'fx__slow', arguments: { ms: 3000 } }, undefined, { timeout: 120_000 })));
      const results = await Promise.all(calls);
      expect(results.filter((r) => r === 'ok').length).toBe(2);
      const refused = results.find((r) => r !== 'ok') as { code: number; message: string };
      expect(refused.code).toBe(-32029);
      expect(refused.message).toMatch(/Concurrency limit: 1 calls in flight for the upstream fx and 1 already waiting; retry in 1 s/);
    } finally {
      await client?.close();
      await gw.close();
    }
    const gw2 = await startFromYaml(`upstreams:\n${fixtureUpstream('fx')}limits:\n  concurrency: { perPrincipal: 1, queue: 4, queueTimeoutMs: 200 }\n`);
    try {
      client = await connect(gw2.url!);
      const slow = outcome(client.callTool({ name: 'fx__slow', arguments: { ms: 20000 } }, undefined, { timeout: 120_000 }));
      // wait until the slow call holds the slot (it is in flight at the upstream)
      const started = Date.now();
      while (Date.now() - started < 60_000) {
        const r = await outcome(client.callTool({ name: 'fx__echo', arguments: { text: 'x' } }));
        if (r !== 'ok') {
          expect(r).toMatchObject({ code: -32029 });
          expect((r as { message: string }).message).toMatch(/waited 200 ms for one of 1 call slots/);
          break;
        }
      }
      expect(Date.now() - started).toBeLessThan(60_000);
      await client.close();
      client = undefined;
      void slow;
    } finally {
      await client?.close();
      await gw2.close();
    }
  }, 120_000);
});

describe('shared through Redis across two processes', () => {
  const procs: GatewayProc[] = [];
  const procPrefix = `palisade:test:${randomUUID()}:`;
  beforeAll(async () => {
    const cfg = () => writeConfig(tmpDir(), `store: ./store\nupstreams:\n${fixtureUpstream('fx')}limits:\n  rate:\n    principal: { limit: 200, windowSeconds: 3600 }\n`);
    const env = { REDIS_URL, PALISADE_GATEWAY_REDIS_PREFIX: procPrefix };
    procs.push(...(await Promise.all([startGatewayProc(cfg(), env), startGatewayProc(cfg(), env)])));
  }, 180_000);
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await dropPrefix(procPrefix);
  });

  it('the admitted count stays within 5% of the configured limit', async () => {
    const clients = await Promise.all(procs.map((p) => connect(p.url)));
    try {
      const results: ('ok' | object)[] = [];
      // 16 workers per process, 300 calls per process
      await Promise.all(
        clients.flatMap((c) =>
          Array.from({ length: 16 }, async (_, w) => {
            for (let i = w; i < 300; i += 16) results.push(await outcome(c.callTool({ name: 'fx__echo', arguments: { text: 'r' } }, undefined, { timeout: 120_000 })));
          }),
        ),
      );
      const admitted = results.filter((r) => r === 'ok').length;
      const limited = results.filter((r) => r !== 'ok' && (r as { code: number }).code === -32029).length;
      expect(results.filter((r) => r !== 'ok' && (r as { code: number }).code !== -32029)).toEqual([]);
      expect(admitted + limited).toBe(600);
      expect(Math.abs(admitted - 200)).toBeLessThanOrEqual(10);
      // each process admitted some: the window is shared, not per process
      process.stdout.write(`shared rate limit: limit 200, admitted ${admitted} of 600 over two processes\n`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 180_000);
});
