// Upstream processes that never leak, on a real gateway process, counted through /proc.
// The soak (1,000 sessions opened and dropped, 50 upstream SIGKILLs, each waited for until
// the upstream is restarted and answers) is long: 217 s measured on the shared 2-core machine
// at load average 16; much less on an idle one.
// Tolerance: the gateway's RSS after the soak may exceed the baseline (taken after a warm-up)
// by at most 64 MB: V8 keeps freed heap pages for a while and is not forced to collect here.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureUpstream, INIT_BODY, NODE, rawRequest, tmpDir, writeConfig } from '../helpers.js';
import { rssKb, upstreamProcs, startGatewayProc, waitFor, type GatewayProc } from './procs.js';

const RSS_TOLERANCE_KB = 64 * 1024;
let proc: GatewayProc | undefined;

afterEach(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  proc = undefined;
});

const alive = (pid: number) => {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
};

const post = (url: string, body: unknown, session?: string) =>
  rawRequest(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function openSession(url: string): Promise<string> {
  const r = await post(url, INIT_BODY);
  const id = r.headers['mcp-session-id'];
  if (r.status !== 200 || typeof id !== 'string') throw new Error(`initialize answered ${r.status}`);
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, id);
  return id;
}

async function call(url: string, session: string, text: string): Promise<string> {
  const r = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fx__echo', arguments: { text } } }, session);
  return r.body;
}

async function metric(url: string, name: string): Promise<number> {
  const r = await rawRequest(url.replace(/\/mcp$/, '/metrics'));
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(r.body);
  return m ? Number(m[1]) : 0;
}

describe('upstream lifecycle', () => {
  it('soak: 1,000 sessions opened and dropped and 50 upstream SIGKILLs leave the child count and RSS at baseline; SIGTERM reaps the tree', async () => {
    const config = writeConfig(tmpDir(), `store: ./store\nupstreams:\n${fixtureUpstream('fx')}`);
    proc = await startGatewayProc(config, { PALISADE_TEST_SESSION_IDLE_MS: '5000', PALISADE_TEST_RESTART_BACKOFF_MS: '50' });
    const { url, pid } = proc;
    await waitFor('one upstream process', () => upstreamProcs(pid).length === 1);
    // warm-up, then the baseline
    for (let i = 0; i < 40; i++) await call(url, await openSession(url), 'warm');
    await waitFor('warm-up sessions to expire', async () => (await metric(url, 'palisade_gateway_sessions')) === 0);
    const baseChildren = upstreamProcs(pid).length;
    const baseRss = rssKb(pid);
    expect(baseChildren).toBe(1);

    // 1,000 sessions, 20 at a time: every 10th makes a call; half end with DELETE, half are abandoned
    for (let batch = 0; batch < 50; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, j) => {
          const n = batch * 20 + j;
          const id = await openSession(url);
          if (n % 10 === 0) expect(await call(url, id, `s${n}`)).toContain(`s${n}`);
          if (n % 2 === 0) await rawRequest(url, { method: 'DELETE', headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' } });
        }),
      );
    }

    // 50 upstream kills; after each, the upstream is back (restarted with backoff) and serves calls
    const session = await openSession(url);
    const killed: number[] = [];
    for (let k = 0; k < 50; k++) {
      const [upstream] = upstreamProcs(pid);
      expect(upstream).toBeDefined();
      process.kill(upstream!, 'SIGKILL');
      killed.push(upstream!);
      // restarted (by the supervisor after its backoff, or by this call), counted once per kill
      await waitFor('the upstream to answer', async () => (await call(url, session, `k${k}`)).includes(`k${k}`));
      await waitFor(`restart ${k + 1} in /metrics`, async () => (await metric(url, 'palisade_gateway_upstream_restarts_total')) >= k + 1);
      expect(upstreamProcs(pid).filter((p) => !killed.includes(p)).length).toBe(1);
    }
    expect(await metric(url, 'palisade_gateway_upstream_restarts_total')).toBe(50);
    await rawRequest(url, { method: 'DELETE', headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } });

    // back to baseline: one child, no sessions, RSS within the tolerance
    await waitFor('sessions to expire', async () => (await metric(url, 'palisade_gateway_sessions')) === 0);
    await waitFor('one upstream process again', () => upstreamProcs(pid).length === baseChildren);
    expect(killed.filter(alive)).toEqual([]);
    const rss = await waitFor('RSS back near the baseline', () => (rssKb(pid) - baseRss <= RSS_TOLERANCE_KB ? rssKb(pid) : 0), 60_000);
    process.stdout.write(`soak: children ${baseChildren} -> ${upstreamProcs(pid).length}; RSS ${baseRss} kB -> ${rss} kB\n`);

    // SIGTERM: the gateway exits and takes its upstream with it
    const last = upstreamProcs(pid);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await waitFor('the upstream to be reaped', () => last.every((p) => !alive(p)), 30_000);
  }, 600_000);

  it('an idle upstream stops after limits.upstreamIdleMs and the next call starts it again', async () => {
    const config = writeConfig(tmpDir(), `store: ./store\nupstreams:\n${fixtureUpstream('fx')}limits: { upstreamIdleMs: 500 }\n`);
    proc = await startGatewayProc(config, {});
    const { url, pid } = proc;
    await waitFor('the idle upstream to stop', () => upstreamProcs(pid).length === 0, 60_000);
    expect(await metric(url, 'palisade_gateway_upstream_idle_stops_total')).toBeGreaterThanOrEqual(1);
    const session = await openSession(url);
    expect(await call(url, session, 'wake up')).toContain('wake up');
    expect(upstreamProcs(pid).length).toBeLessThanOrEqual(1);
  }, 120_000);

  it('a hung upstream (ignores SIGTERM, never answers) never accumulates processes and is reaped on SIGTERM', async () => {
    const hang = `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`;
    const config = writeConfig(
      tmpDir(),
      `store: ./store\nupstreams:\n  hung:\n    command: ${JSON.stringify(NODE)}\n    args: ['-e', ${JSON.stringify(hang)}]\n    timeoutMs: 1000\n${fixtureUpstream('fx')}`,
    );
    proc = await startGatewayProc(config, { PALISADE_TEST_RESTART_BACKOFF_MS: '100' });
    const { pid } = proc;
    const seen = new Set<number>();
    // over several connection attempts: at most the fixture and one hung process at a time
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      const d = upstreamProcs(pid);
      for (const p of d) seen.add(p);
      expect(d.length).toBeLessThanOrEqual(2);
      await new Promise((r) => setTimeout(r, 200));
    }
    const last = upstreamProcs(pid);
    proc.child.kill('SIGTERM');
    await proc.exited;
    await waitFor('every upstream to be reaped', () => [...seen, ...last].every((p) => !alive(p)), 30_000);
  }, 120_000);
});
