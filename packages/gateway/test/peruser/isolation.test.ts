// issue 16 §2: `isolation: per-user`. A real stdio fixture that reports its own process id and
// the principal it was started for: two principals (two gateway tokens) get two processes, the
// same principal keeps its own, idle instances stop, a crashed one restarts, the bound holds,
// a per-user instance listing a changed tool is quarantined, and nothing is left at close.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { newToken, runGatewayCommand } from '../../src/index.js';
import { connect, NODE, startFromYaml, textOf, tmpDir, writeConfig } from '../helpers.js';
import { startGatewayProc, upstreamProcs, waitFor } from '../scale/procs.js';

const IDENTITY = fileURLToPath(new URL('../fixtures/identity-server.mjs', import.meta.url));

/** a live (not zombie) process */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const users = { alice: newToken(), bob: newToken(), mallory: newToken() };

function yaml(extra: { upstream?: string; limits?: string } = {}): string {
  return `
listen: { port: 0 }
auth:
  tokens:
${Object.entries(users)
  .map(([name, t]) => `    - { name: ${name}, sha256: ${t.sha256} }`)
  .join('\n')}
upstreams:
  ids:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(IDENTITY)}]
    isolation: per-user
${extra.upstream ?? ''}
${extra.limits ?? ''}
`;
}

type Who = { pid: number; principal: string | null; name: string | null };

async function whoami(c: Client): Promise<Who> {
  const r = await c.callTool({ name: 'ids__whoami', arguments: {} });
  expect(r.isError ?? false).toBe(false);
  return JSON.parse(textOf(r)) as Who;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

async function start(extra: Parameters<typeof yaml>[0] = {}, opts: Record<string, unknown> = {}) {
  const gw = await startFromYaml(yaml(extra), opts);
  cleanups.push(() => gw.close());
  const clients: Record<string, Client> = {};
  for (const name of Object.keys(users) as (keyof typeof users)[]) {
    clients[name] = await connect(gw.url!, { authorization: `Bearer ${users[name].token}` });
    cleanups.push(() => clients[name]!.close());
  }
  return { gw, clients: clients as Record<keyof typeof users, Client> };
}

describe('isolation: per-user', () => {
  it('gives each principal its own process, reuses it, and leaves none behind at close', async () => {
    const { gw, clients } = await start();
    const catalogPid = gw.gateway.upstreams.get('ids')!.client.pid;
    const a1 = await whoami(clients.alice);
    const b1 = await whoami(clients.bob);
    const a2 = await whoami(clients.alice);
    expect(a1.name).toBe('alice');
    expect(b1.name).toBe('bob');
    expect(a1.principal).toMatch(/^token:[0-9a-f]{16}$/);
    expect(a1.principal).not.toBe(b1.principal);
    expect(a1.pid).not.toBe(b1.pid);
    expect(a2.pid).toBe(a1.pid);
    // the catalog connection is not any user's instance
    expect(catalogPid).toBeDefined();
    expect([a1.pid, b1.pid]).not.toContain(catalogPid);
    expect([...gw.gateway.instancePids('ids').values()].sort()).toEqual([a1.pid, b1.pid].sort());
    // the running instances are a gauge in /metrics (issue 16 §5)
    const metrics = await (await fetch(new URL('/metrics', gw.url!), { headers: { authorization: `Bearer ${users.alice.token}` } })).text();
    expect(metrics).toContain('# TYPE palisade_gateway_user_instances gauge');
    expect(metrics).toContain('palisade_gateway_user_instances{upstream="ids"} 2');
    expect(alive(a1.pid) && alive(b1.pid)).toBe(true);
    const audit = gw.gateway.store.recentAudit(200);
    expect(
      audit
        .filter((r) => r.kind === 'upstream-instance' && r.decision === 'instance-started')
        .map((r) => r.principal)
        .sort(),
    ).toEqual([a1.principal, b1.principal].sort());
    await gw.close();
    for (const pid of [a1.pid, b1.pid, catalogPid!]) await waitFor(`process ${pid} to end`, () => !alive(pid), 20_000);
  }, 120_000);

  it('stops an idle instance and starts a new one on the next call', async () => {
    const { gw, clients } = await start({ limits: 'limits: { upstreamIdleMs: 400 }' });
    const first = await whoami(clients.alice);
    await waitFor('the idle instance to stop', () => !alive(first.pid), 30_000);
    expect(gw.gateway.instancePids('ids').size).toBe(0);
    expect(gw.gateway.store.recentAudit(100).some((r) => r.decision === 'instance-idle-stopped' && r.principal === first.principal)).toBe(true);
    const second = await whoami(clients.alice);
    expect(second.principal).toBe(first.principal);
    expect(second.pid).not.toBe(first.pid);
  }, 120_000);

  it('restarts a crashed instance with backoff, for that principal only', async () => {
    const { gw, clients } = await start({}, { restartBackoffMs: 100 });
    const a = await whoami(clients.alice);
    const b = await whoami(clients.bob);
    await clients.alice.callTool({ name: 'ids__crash', arguments: {} });
    await waitFor('the crashed instance to end', () => !alive(a.pid), 20_000);
    const restarted = await waitFor(
      'a restarted instance',
      () => {
        const pid = gw.gateway.instancePids('ids').get(a.principal!);
        return pid && pid !== a.pid && alive(pid) ? pid : undefined;
      },
      30_000,
    );
    expect((await whoami(clients.alice)).pid).toBe(restarted);
    expect((await whoami(clients.bob)).pid).toBe(b.pid);
    expect(gw.gateway.store.recentAudit(100).some((r) => r.decision === 'instance-restarted' && r.principal === a.principal)).toBe(true);
  }, 120_000);

  it('refuses a principal beyond maxInstances with a clear JSON-RPC error', async () => {
    const { gw, clients } = await start({ upstream: '    maxInstances: 1' });
    await whoami(clients.alice);
    const refused = await clients.bob.callTool({ name: 'ids__whoami', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as { code: number; message: string },
    );
    expect(refused?.code).toBe(-32029);
    expect(refused?.message).toMatch(/one instance per user and already has 1 running .*maxInstances/);
    expect(gw.gateway.instancePids('ids').size).toBe(1);
    // alice keeps hers
    await whoami(clients.alice);
  }, 120_000);

  it('quarantines a tool whose per-user instance lists a changed definition', async () => {
    const { gw, clients } = await start();
    await whoami(clients.alice);
    const refused = await clients.mallory.callTool({ name: 'ids__whoami', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as { code: number; message: string },
    );
    expect(refused?.code).toBe(-32001);
    expect(refused?.message).toMatch(/quarantined/);
    expect(gw.gateway.catalog().find((t) => t.federated === 'ids__whoami')?.status).toBe('quarantined');
    // the catalog is per upstream: everyone is refused until an administrator decides
    await expect(clients.alice.callTool({ name: 'ids__whoami', arguments: {} })).rejects.toThrow(/quarantined/);
    expect(gw.gateway.store.recentAudit(200).some((r) => r.kind === 'policy' && r.decision === 'quarantined' && r.tool === 'ids__whoami')).toBe(true);
    // a later listing (here the catalog's relist, as on list_changed or relistIntervalMs) shows the
    // pinned definition again, so the catalog is back to ok; mallory's own instance still offers
    // the changed one and stays refused
    await gw.gateway.refresh(gw.gateway.upstreams.get('ids')!, new Set(['tools']), true);
    expect((await whoami(clients.bob)).name).toBe('bob');
    expect(gw.gateway.catalog().find((t) => t.federated === 'ids__whoami')?.status).toBe('ok');
    await expect(clients.mallory.callTool({ name: 'ids__whoami', arguments: {} })).rejects.toThrow(/quarantined the tool ids__whoami for you/);
  }, 120_000);

  it('gateway check validates isolation and maxInstances and reports them', async () => {
    const dir = tmpDir();
    const out: string[] = [];
    const io = { out: (x: string) => void out.push(x), err: (x: string) => void out.push(x), env: process.env };
    const good = writeConfig(dir, yaml({ upstream: '    maxInstances: 3' }));
    expect(await runGatewayCommand(['gateway', 'check', '--config', good, '--json'], io)).toBe(0);
    const report = JSON.parse(out.join('')) as { upstreams: { name: string; isolation: string; maxInstances?: number; up: boolean }[] };
    expect(report.upstreams).toEqual([expect.objectContaining({ name: 'ids', isolation: 'per-user', maxInstances: 3, up: true })]);
    out.length = 0;
    const bad = writeConfig(dir, yaml().replace('isolation: per-user', 'isolation: per-process'), 'bad.yaml');
    expect(await runGatewayCommand(['gateway', 'check', '--config', bad], io)).not.toBe(0);
    expect(out.join('')).toMatch(/isolation must be one of shared, per-user/);
  }, 120_000);

  it('a real gateway process stopped with SIGTERM leaves no per-user instance behind', async () => {
    const dir = tmpDir();
    const file = writeConfig(dir, yaml());
    const proc = await startGatewayProc(file, {});
    cleanups.push(async () => {
      proc.child.kill('SIGKILL');
    });
    const clients: Client[] = [];
    try {
      const pids: number[] = [];
      for (const name of ['alice', 'bob'] as const) {
        const c = await connect(proc.url, { authorization: `Bearer ${users[name].token}` });
        clients.push(c);
        pids.push((await whoami(c)).pid);
      }
      // the catalog instance and one per principal, all children of the gateway
      const children = upstreamProcs(proc.pid);
      for (const pid of pids) expect(children).toContain(pid);
      expect(children.length).toBeGreaterThanOrEqual(3);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      for (const pid of children) await waitFor(`process ${pid} to end`, () => !alive(pid), 20_000);
    } finally {
      for (const c of clients) await c.close().catch(() => undefined);
    }
  }, 180_000);

  it("sends an instance's logs only to its own principal's sessions", async () => {
    const { clients } = await start();
    const got: Record<string, string[]> = { alice: [], bob: [] };
    for (const name of ['alice', 'bob'] as const) {
      clients[name].setNotificationHandler(LoggingMessageNotificationSchema, (n) => void got[name]!.push(String(n.params.data)));
      await clients[name].setLoggingLevel('debug');
    }
    await clients.alice.callTool({ name: 'ids__later', arguments: {} });
    await waitFor("alice's log", () => got.alice!.length > 0, 30_000);
    await clients.bob.callTool({ name: 'ids__later', arguments: {} });
    await waitFor("bob's log", () => got.bob!.length > 0, 30_000);
    expect(got.alice).toEqual(['log of alice']);
    expect(got.bob).toEqual(['log of bob']);
  }, 120_000);

  it('concurrent first calls of one principal share one instance', async () => {
    const { gw, clients } = await start();
    const all = await Promise.all([whoami(clients.alice), whoami(clients.alice), whoami(clients.alice)]);
    expect(new Set(all.map((w) => w.pid)).size).toBe(1);
    expect(gw.gateway.store.recentAudit(200).filter((r) => r.decision === 'instance-started' && r.principal === all[0]!.principal)).toHaveLength(1);
  }, 120_000);
});
