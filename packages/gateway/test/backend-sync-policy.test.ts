// Managed mode, what the gateway does with what it pulls (issue 16 §4), on a real gateway with
// the real fixture upstream; the backend's answers come from a local fetch so that each case
// is exact: the central policy applied as the STRICTER of it and the gateway's own config
// (never looser), kept in the store across a restart without the backend; a rejection taken
// in the dashboard recorded in the store and shown in the reason and the JSON-RPC error; sync
// health (last success, last error without the key) in the admin status and /metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCentralPolicy, stricterBlockLevel, type CentralPolicy } from '../src/backend-sync.js';
import { connect, fixtureUpstream, startFromYaml, textOf } from './helpers.js';

const KEY = 'pgw_test-key-never-in-any-output-0123456789abcd';
type Running = Awaited<ReturnType<typeof startFromYaml>>;

const NOTHING: CentralPolicy = { blockLevel: null, pinning: false, stripHiddenText: false, redactSecretsInResults: false, callsPerMinute: null };

/** A backend on loopback that answers every sync with `answer()` (an Error: HTTP 503 with its message), and records the pushes. */
async function backend(answer: () => Record<string, unknown> | Error) {
  const pushes: unknown[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      pushes.push(JSON.parse(body));
      const a = answer();
      res.writeHead(a instanceof Error ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a instanceof Error ? { error: { message: a.message } } : { gatewayId: 'g1', name: 'edge', decisions: [], syncSeconds: 30, ...a }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, pushes };
}

const servers: http.Server[] = [];
const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A gateway managed by the backend at `url`; its sync loop is stopped: the tests sync when they need. */
async function start(yaml: string, url = 'http://127.0.0.1:9/'): Promise<Running> {
  const r = await startFromYaml(`${yaml}backend: { url: ${JSON.stringify(url)}, key: "\${GWK}" }\n`, {
    env: { ...process.env, GWK: KEY, PALISADE_GATEWAY_SYNC_INTERVAL_MS: '60000' },
  });
  running.push(r);
  await r.backendSync!.stop();
  return r;
}

describe('the central policy at the gateway', () => {
  it('stricter of the two, setting by setting; a central policy cannot loosen the config', () => {
    expect(stricterBlockLevel('high', 'medium')).toBe('medium');
    expect(stricterBlockLevel('medium', 'critical')).toBe('medium');
    expect(stricterBlockLevel('none', 'high')).toBe('high');
    expect(stricterBlockLevel('low', 'none')).toBe('low');
    expect(stricterBlockLevel('high', null)).toBe('high');
    expect(parseCentralPolicy({ blockLevel: 'loose', pinning: 'yes', callsPerMinute: -3 })).toEqual(NOTHING);
    expect(parseCentralPolicy('x')).toBeUndefined();
  });

  it('applies at the next sync without restart, is kept in the store, and a restart without the backend keeps enforcing it', async () => {
    const yaml = `upstreams:\n${fixtureUpstream('fx', 'rugpull')}policy: { blockLevel: critical, pinning: true, stripHiddenText: false }\nlimits: { callsPerMinute: 1000 }\n`;
    let policy: CentralPolicy = { blockLevel: 'none', pinning: false, stripHiddenText: true, redactSecretsInResults: true, callsPerMinute: 5 };
    let up = true;
    const b = await backend(() => (up ? { policy: { requireSecondApproverForCritical: false, gateway: policy } } : new Error('backend unavailable')));
    const gw = await start(yaml, b.url);
    const sync = gw.backendSync!;
    expect((await sync.syncOnce()).ok).toBe(true);
    const p = gw.gateway.cfg.policy;
    // "none" and pinning false ask nothing: the config's critical and pinning stay
    expect([p.blockLevel, p.pinning, p.stripHiddenText, p.redactSecretsInResults, gw.gateway.cfg.limits.callsPerMinute]).toEqual([
      'critical',
      true,
      true,
      true,
      5,
    ]);
    // the per-principal limit is the central one now: 5 calls a minute
    const client = await connect(gw.url!);
    for (let i = 0; i < 5; i++) expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: 'x' } }))).toBe('x');
    const limited = await client.callTool({ name: 'fx__echo', arguments: { text: 'x' } }).catch((e: Error) => e);
    expect(String(limited)).toMatch(/Rate limit/);
    await client.close();

    // tightening blockLevel blocks the tools rated at it after the next sync (re-listed, no restart)
    expect(gw.gateway.catalog().find((t) => t.federated === 'fx__echo')!.status).toBe('ok');
    policy = { ...NOTHING, blockLevel: 'none' };
    await sync.syncOnce();
    expect(gw.gateway.cfg.limits.callsPerMinute).toBe(1000);
    // health in the admin status shape: the last success, no error
    expect(sync.health()).toMatchObject({ lastOk: expect.any(String), lastError: null });
    up = false;
    expect((await sync.syncOnce()).ok).toBe(false);
    expect(sync.health()).toMatchObject({ lastOk: expect.any(String), lastError: 'HTTP 503: backend unavailable' });
    expect(sync.metricsText()).toMatch(/palisade_gateway_backend_last_sync_success_timestamp_seconds \d{10}/);
    expect(sync.metricsText()).toMatch(/palisade_gateway_backend_sync_failing 1/);
    expect(JSON.stringify(sync.health()) + sync.metricsText()).not.toContain(KEY);
    up = true;
    policy = { ...NOTHING, blockLevel: 'low', pinning: true };
    await sync.syncOnce();
    expect(p.blockLevel).toBe('low');
    const dir = gw.dir;
    await gw.close();
    running.splice(running.indexOf(gw), 1);

    // restart from the same store with the backend unreachable: the kept policy is enforced
    const again = await start(yaml.replace('upstreams:', `store: ${JSON.stringify(dir + '/.palisade-gateway')}\nupstreams:`));
    expect(again.gateway.cfg.policy.blockLevel).toBe('low');
    expect(again.backendSync!.central).toEqual({ ...NOTHING, blockLevel: 'low', pinning: true });
    expect((await again.backendSync!.syncOnce()).ok).toBe(false);
    expect(again.backendSync!.health()).toMatchObject({ lastOk: expect.any(String), lastError: expect.stringMatching(/fetch failed|ECONNREFUSED/) });
  }, 120_000);

  it('an error that echoes the key is shown without it', async () => {
    const b = await backend(() => new Error(`bad header x-gateway-key: ${KEY}`));
    const gw = await start(`upstreams:\n${fixtureUpstream('fx')}`, b.url);
    const sync = gw.backendSync!;
    const r = await sync.syncOnce();
    expect(r.ok).toBe(false);
    expect(r.error).not.toContain(KEY);
    expect(sync.lastError).toContain('[key]');
  }, 60_000);
});

describe('a rejection taken in the dashboard', () => {
  it('is recorded in the store: the reason (admin quarantine list, check) and the JSON-RPC error say who rejected it', async () => {
    let decisions: unknown[] = [];
    const b = await backend(() => ({ decisions }));
    const gw = await start(`upstreams:\n${fixtureUpstream('fx', 'rugpull')}`, b.url);
    const client = await connect(gw.url!);
    await client.callTool({ name: 'fx__pull_rug', arguments: {} });
    await gw.gateway.refresh(gw.gateway.upstreams.get('fx')!, new Set(['tools']), true);
    const row = gw.gateway.store.getTool('fx__rug')!;
    expect(row.status).toBe('quarantined');
    const decision = {
      id: 'q-1',
      federated: 'fx__rug',
      upstream: 'fx',
      tool: 'rug',
      hash: row.hash,
      decision: 'reject',
      decidedAt: new Date().toISOString(),
      decidedBy: 'sec@corp.test',
    };
    decisions = [decision];
    const sync = gw.backendSync!;
    expect((await sync.syncOnce()).applied).toBe(1);
    // applied once: a second sync with the same decision changes nothing
    expect((await sync.syncOnce()).applied).toBe(0);
    expect(gw.gateway.store.getRejection('fx', 'rug', row.hash)?.reason).toBe('rejected by sec@corp.test in the dashboard');
    expect(gw.gateway.store.getTool('fx__rug')!.reason).toMatch(/^rejected by sec@corp\.test in the dashboard; its definition changed/);
    expect(gw.gateway.store.getTool('fx__rug')!.status).toBe('quarantined');
    const err = await client.callTool({ name: 'fx__rug', arguments: { q: 'x' } }).catch((e: Error) => e);
    expect(String(err)).toMatch(/quarantined the tool fx__rug: rejected by sec@corp\.test in the dashboard/);
    // a re-listing keeps the reason (it comes from the store's rejection, not from memory)
    await gw.gateway.refresh(gw.gateway.upstreams.get('fx')!, new Set(['tools']), true);
    expect(gw.gateway.catalog().find((t) => t.federated === 'fx__rug')!.reason).toMatch(/^rejected by sec@corp\.test/);
    await client.close();
  }, 60_000);
});
