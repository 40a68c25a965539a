// `npm run bench -- gateway`: what a gateway adds to every tool call, side by side in one run.
// One upstream (bench/gateway/echo-server.mjs: an `echo` tool that answers at once) reached
//   - directly (Streamable HTTP, and stdio),
//   - through `palisade gateway` with policy on (risk scoring, pinning, hidden-text stripping,
//     argument validation, audit), with an HTTP upstream and with a stdio upstream,
//   - through `palisade gateway` with REDIS_URL (shared sessions and rate windows; one Redis
//     round trip per call), when a Redis answers at BENCH_REDIS_URL (default 127.0.0.1:6379),
//   - through the peers `mcp-proxy` and `supergateway` (pinned dev dependencies; stdio upstream),
//   - through a bare HTTP -> stdio forwarder (bench/gateway/floor-proxy.mjs: no MCP code, no
//     checks), the floor of what any gateway process adds on this machine.
// The client (bench/gateway/load.mjs: the protocol spoken with little CPU; --client sdk in that
// file drives the SDK client instead) runs in a process of its own. Each
// figure is the median of RUNS interleaved runs, with min and max; "added" is the gateway's
// median minus the direct path's median of the same upstream transport in the same run.
// Latency is measured twice: sequential calls (one in flight), and calls arriving at BENCH_RATE
// (2,000/s, the issue's load point) in an open loop, where a path that cannot keep up is charged
// for the wait. "server CPU ms/call" is the gateway process's own CPU (from /proc) over the
// throughput run: what one call costs the gateway, whatever else the machine is doing.
// Goal (issue 16): added p50 <= 0.5 ms and p99 <= 3 ms at 2,000 calls/s, and at least 2x the
// better peer's calls/s.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './gateway/ports.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS) || 3);
const LAT_CALLS = Number(process.env.BENCH_LATENCY_CALLS) || 2000;
const TPUT_CALLS = Number(process.env.BENCH_THROUGHPUT_CALLS) || 5000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY) || 32;
// the issue's load point: latency is also measured with calls arriving at this rate (open loop)
const RATE = Number(process.env.BENCH_RATE) || 2000;
const RATE_CALLS = Number(process.env.BENCH_RATE_CALLS) || RATE * 3;
// a quicker run while working on one path: BENCH_ONLY=stdio keeps the paths whose name matches
// (the direct path of the same transport is always kept, for "added"); BENCH_PHASES=rate runs
// only the named measurements (seq, rate, tput; comma-separated). BENCH_GATEWAY_NODE_OPTIONS adds
// node options to the palisade gateway processes (e.g. --cpu-prof --cpu-prof-dir=DIR).
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const PHASES = new Set((process.env.BENCH_PHASES ?? 'seq,rate,tput').split(',').map((s) => s.trim()));
// BENCH_COMPARE_CLI=PATH: two more rows, a palisade gateway (http and stdio upstream) run from
// another checkout's packages/cli/bin/palisade.js (built there), for a before/after in one run
const COMPARE_CLI = process.env.BENCH_COMPARE_CLI;
const GATEWAY_NODE_OPTIONS = (process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
const echo = path.join(root, 'bench/gateway/echo-server.mjs');
const load = path.join(root, 'bench/gateway/load.mjs');
const palisade = path.join(root, 'packages/cli/bin/palisade.js');
const floorProxy = path.join(root, 'bench/gateway/floor-proxy.mjs');
const mcpProxy = path.join(root, 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs');
const supergateway = path.join(root, 'node_modules/supergateway/dist/index.js');

function build() {
  const tsc = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '-b',
      'packages/core',
      'packages/mcp',
      'packages/agent',
      'packages/server',
      'packages/gateway',
      'packages/cli',
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (tsc.status !== 0) process.stdout.write('note: tsc reported errors (see `npm run typecheck`); measuring what was emitted.\n');
}

const children = [];
function start(args, what, env = {}) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_ENV: 'production', ...env } });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  child.lastError = () => err;
  children.push(child);
  return child;
}

function runLoad(target, calls, concurrency, rate = 0) {
  const args = [
    load,
    '--tool',
    target.tool,
    '--calls',
    String(calls),
    '--concurrency',
    String(concurrency),
    ...(rate > 0 ? ['--rate', String(rate)] : []),
    ...(target.url ? ['--url', target.url] : ['--stdio', process.execPath, echo]),
  ];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`load against ${target.name} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

// CPU time (user + system) a process has used, in ms, from /proc (Linux); undefined elsewhere
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout) || 100;
})();
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

// the CPU of a process's direct children (a gateway's stdio upstream), in ms
function childrenCpuMs(pid) {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.reduce((sum, k) => sum + (cpuMs(k) ?? 0), 0);
  } catch {
    return undefined;
  }
}

// Each measurement starts once the machine is quiet: the processes of the previous one (a peer
// that fell behind, a gateway after a throughput run) can still be collecting garbage or draining
// for a moment after their load ends, which would be charged to whichever path runs next.
// Quiet: all cores together under 10% busy over 200 ms (from /proc/stat), waiting at most 3 s.
function cpuBusyIdle() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { busy: f.reduce((a, b) => a + b, 0) - idle, idle };
  } catch {
    return undefined;
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let settleWaits = 0;
async function settle() {
  const until = Date.now() + 3000;
  for (let before = cpuBusyIdle(); before && Date.now() < until;) {
    await sleep(200);
    const after = cpuBusyIdle();
    const busy = after.busy - before.busy;
    if (busy / (busy + after.idle - before.idle || 1) < 0.1) return;
    settleWaits++;
    before = after;
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs, digits) =>
  xs.length === 0 ? '-' : `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

build();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-bench-gateway-'));
try {
  const upstreamPort = await freePort();
  const upstream = start([echo, '--http', String(upstreamPort)], 'the echo upstream');
  await waitForPort(upstreamPort, upstream, 'the echo upstream');

  const targets = [
    { name: 'direct, Streamable HTTP', tool: 'echo', url: `http://127.0.0.1:${upstreamPort}/mcp`, base: true, kind: 'http' },
    { name: 'direct, stdio', tool: 'echo', base: true, kind: 'stdio' },
  ];
  const policy = 'policy: { blockLevel: high, pinning: true, stripHiddenText: true, redactSecretsInResults: false }\nlimits: { callsPerMinute: 10000000 }\n';
  const wanted = (name) => !ONLY || ONLY.test(name);
  for (const [kind, upstreamYaml, cli = palisade, name] of [
    ['http', `    url: http://127.0.0.1:${upstreamPort}/mcp\n    transport: http\n    allowPrivateAddress: true\n`],
    ['stdio', `    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(echo)}]\n`],
    ...(COMPARE_CLI
      ? [
          [
            'http',
            `    url: http://127.0.0.1:${upstreamPort}/mcp\n    transport: http\n    allowPrivateAddress: true\n`,
            COMPARE_CLI,
            'palisade gateway (compare), http upstream',
          ],
          [
            'stdio',
            `    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(echo)}]\n`,
            COMPARE_CLI,
            'palisade gateway (compare), stdio upstream',
          ],
        ]
      : []),
  ]) {
    if (!wanted(name ?? `palisade gateway, ${kind} upstream`)) continue;
    const port = await freePort();
    const label = name ? `compare-${kind}` : kind;
    const config = path.join(tmp, `gateway-${label}.yaml`);
    writeFileSync(
      config,
      `listen: { host: 127.0.0.1, port: ${port} }\nstore: ${JSON.stringify(path.join(tmp, `store-${label}`))}\nupstreams:\n  bench:\n${upstreamYaml}${policy}`,
    );
    const child = start([...GATEWAY_NODE_OPTIONS, cli, 'gateway', '--config', config], `palisade gateway (${label})`);
    await waitForPort(port, child, `palisade gateway (${label})`);
    targets.push({ name: name ?? `palisade gateway, ${kind} upstream`, tool: 'bench__echo', url: `http://127.0.0.1:${port}/mcp`, kind, pid: child.pid });
  }
  // the same gateway with Redis (issue 16): sessions and the rate windows shared between processes,
  // so every call pays one Redis round trip for its limit check
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPort = Number(new URL(redisUrl).port || 6379);
  const redisUp = await new Promise((resolve) => {
    const s = net.connect(redisPort, new URL(redisUrl).hostname);
    s.on('connect', () => (s.end(), resolve(true)));
    s.on('error', () => resolve(false));
  });
  if (!redisUp) process.stdout.write(`note: no Redis at ${new URL(redisUrl).host}; the shared-state row is left out\n`);
  else if (wanted('palisade gw + Redis, stdio upstream')) {
    const port = await freePort();
    const config = path.join(tmp, 'gateway-redis.yaml');
    writeFileSync(
      config,
      `listen: { host: 127.0.0.1, port: ${port} }\nstore: ${JSON.stringify(path.join(tmp, 'store-redis'))}\nupstreams:\n  bench:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(echo)}]\n${policy}`,
    );
    const child = start([...GATEWAY_NODE_OPTIONS, palisade, 'gateway', '--config', config], 'palisade gateway (Redis)', {
      REDIS_URL: redisUrl,
      PALISADE_GATEWAY_REDIS_PREFIX: `palisade:bench:${process.pid}:`,
    });
    await waitForPort(port, child, 'palisade gateway (Redis)');
    targets.push({ name: 'palisade gw + Redis, stdio upstream', tool: 'bench__echo', url: `http://127.0.0.1:${port}/mcp`, kind: 'stdio', pid: child.pid });
  }
  // the floor (bench/gateway/floor-proxy.mjs): a bare HTTP -> stdio forwarder with no MCP code and no
  // checks, so "added" can be read against what the extra process and hop cost on this machine
  if (wanted('floor: bare HTTP->stdio forwarder')) {
    const port = await freePort();
    const child = start([floorProxy, String(port), process.execPath, echo], 'the floor forwarder');
    await waitForPort(port, child, 'the floor forwarder');
    targets.push({ name: 'floor: bare HTTP->stdio forwarder', tool: 'echo', url: `http://127.0.0.1:${port}/mcp`, kind: 'stdio', pid: child.pid });
  }
  if (wanted('floor: raw sockets, no node:http')) {
    const port = await freePort();
    const child = start([floorProxy, '--raw', String(port), process.execPath, echo], 'the raw floor forwarder');
    await waitForPort(port, child, 'the raw floor forwarder');
    targets.push({ name: 'floor: raw sockets, no node:http', tool: 'echo', url: `http://127.0.0.1:${port}/mcp`, kind: 'stdio', pid: child.pid });
  }
  if (existsSync(mcpProxy) && wanted('mcp-proxy 6.7.19, stdio upstream')) {
    const port = await freePort();
    const child = start(
      [mcpProxy, '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--no-eventStore', '--', process.execPath, echo],
      'mcp-proxy',
    );
    await waitForPort(port, child, 'mcp-proxy');
    targets.push({ name: 'mcp-proxy 6.7.19, stdio upstream', tool: 'echo', url: `http://127.0.0.1:${port}/mcp`, kind: 'stdio', peer: true, pid: child.pid });
  }
  if (existsSync(supergateway) && wanted('supergateway 4.0.0, stdio upstream')) {
    const port = await freePort();
    const child = start(
      [
        supergateway,
        '--stdio',
        `${JSON.stringify(process.execPath)} ${JSON.stringify(echo)}`,
        '--outputTransport',
        'streamableHttp',
        '--stateful',
        '--port',
        String(port),
        '--logLevel',
        'none',
      ],
      'supergateway',
    );
    await waitForPort(port, child, 'supergateway');
    targets.push({ name: 'supergateway 4.0.0, stdio upstream', tool: 'echo', url: `http://127.0.0.1:${port}/mcp`, kind: 'stdio', peer: true, pid: child.pid });
  }

  // with BENCH_ONLY: the paths asked for, and the direct path of each one's upstream transport
  for (let i = targets.length - 1; i >= 0; i--) {
    const t = targets[i];
    if (!wanted(t.name) && !(t.base && targets.some((o) => !o.base && o.kind === t.kind))) targets.splice(i, 1);
  }
  const results = new Map(
    targets.map((t) => [t.name, { p50: [], p99: [], rp50: [], rp99: [], rtput: [], rcpu: [], clientCpu: [], upCpu: [], tput: [], cpu: [], errors: 0 }]),
  );
  // interleaved: every target once per run, so a busy moment hits them alike
  for (let run = 0; run < RUNS; run++) {
    for (const t of targets) {
      const r = results.get(t.name);
      if (PHASES.has('seq')) {
        await settle();
        const lat = runLoad(t, LAT_CALLS, 1);
        r.p50.push(lat.p50);
        r.p99.push(lat.p99);
        r.errors += lat.errors;
        r.firstError ??= lat.firstError;
      }
      if (PHASES.has('rate')) {
        await settle();
        const cpu0 = t.pid ? cpuMs(t.pid) : undefined;
        const up0 = t.pid ? childrenCpuMs(t.pid) : undefined;
        const atRate = runLoad(t, RATE_CALLS, 0, RATE);
        const cpu1 = t.pid ? cpuMs(t.pid) : undefined;
        const up1 = t.pid ? childrenCpuMs(t.pid) : undefined;
        r.clientCpu.push(atRate.cpuMsPerCall);
        if (up0 !== undefined && up1 !== undefined) r.upCpu.push((up1 - up0) / (RATE_CALLS + Math.min(200, RATE_CALLS)));
        r.rp50.push(atRate.p50);
        r.rp99.push(atRate.p99);
        r.rtput.push(atRate.callsPerSecond);
        r.errors += atRate.errors;
        r.firstError ??= atRate.firstError;
        // the server's CPU per call at the load point (the calls plus the warm-up of 200)
        if (cpu0 !== undefined && cpu1 !== undefined) r.rcpu.push((cpu1 - cpu0) / (RATE_CALLS + Math.min(200, RATE_CALLS)));
      }
      if (PHASES.has('tput')) {
        await settle();
        const cpu0 = t.pid ? cpuMs(t.pid) : undefined;
        const tp = runLoad(t, TPUT_CALLS, CONCURRENCY);
        const cpu1 = t.pid ? cpuMs(t.pid) : undefined;
        r.tput.push(tp.callsPerSecond);
        r.errors += tp.errors;
        r.firstError ??= tp.firstError;
        // the gateway process's own CPU per call (its upstream's and the client's not counted);
        // the throughput run's 5000 calls plus its warm-up of 200
        if (cpu0 !== undefined && cpu1 !== undefined) r.cpu.push((cpu1 - cpu0) / (TPUT_CALLS + Math.min(200, TPUT_CALLS)));
      }
    }
  }

  const baseOf = (kind) => results.get(targets.find((t) => t.base && t.kind === kind).name);
  const lines = [
    `gateway: ${LAT_CALLS} sequential calls; ${RATE_CALLS} calls arriving at ${RATE}/s (open loop, latency from each call's due time); ${TPUT_CALLS} calls with ${CONCURRENCY} in flight for throughput; median (min-max) of ${RUNS} interleaved runs`,
    `  ${'path'.padEnd(44)} ${'sequential p50 / p99 ms'.padEnd(34)} ${`at ${RATE}/s: p50 / p99 ms`.padEnd(38)} ${'added at rate p50 / p99'.padEnd(24)} ${'calls/s (32 in flight)'.padEnd(24)} server CPU ms/call (32 in flight; at rate)`,
  ];
  for (const t of targets) {
    const r = results.get(t.name);
    const base = baseOf(t.kind);
    const added = t.base || !r.rp50.length ? '' : `${(median(r.rp50) - median(base.rp50)).toFixed(2)} / ${(median(r.rp99) - median(base.rp99)).toFixed(2)}`;
    const kept = r.rtput.length && median(r.rtput) < RATE * 0.95 ? ` (kept ${median(r.rtput).toFixed(0)}/s)` : '';
    lines.push(
      `  ${t.name.padEnd(44)} ${`${spread(r.p50, 2)} / ${spread(r.p99, 1)}`.padEnd(34)} ${`${spread(r.rp50, 2)} / ${spread(r.rp99, 1)}${kept}`.padEnd(38)} ${added.padEnd(24)} ${spread(r.tput, 0).padEnd(24)} ${r.cpu.length ? spread(r.cpu, 3) : ''}${r.rcpu.length ? `; ${spread(r.rcpu, 3)}` : ''}${r.errors ? `  (${r.errors} errors)` : ''}`,
    );
  }
  // where the CPU goes at the load point: the load generator's, the server's and its stdio upstream's
  if (PHASES.has('rate')) {
    lines.push(`  CPU ms per call at ${RATE}/s (client; server; server's stdio upstream):`);
    for (const t of targets) {
      const r = results.get(t.name);
      lines.push(`    ${t.name.padEnd(44)} ${spread(r.clientCpu, 3)}; ${spread(r.rcpu, 3)}; ${spread(r.upCpu, 3)}`);
    }
  }
  for (const t of targets) {
    const r = results.get(t.name);
    if (r.firstError) lines.push(`  first error of ${t.name}: ${r.firstError}`);
  }
  const peers = targets.filter((t) => t.peer).map((t) => median(results.get(t.name).tput));
  const ours = results.get('palisade gateway, stdio upstream')?.tput ?? [];
  if (peers.length && ours.length && PHASES.has('tput'))
    lines.push(`  palisade (stdio upstream) / better peer, calls/s: ${(median(ours) / Math.max(...peers)).toFixed(2)}x   (goal: >= 2x)`);
  lines.push(
    `  (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs; each measurement started once the cores were under 10% busy for 200 ms, ${settleWaits} extra 200 ms waits in all)`,
    '',
  );
  process.stdout.write(lines.join('\n'));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  // a profiled gateway writes its profile as it exits: give it the time
  const until = Date.now() + (GATEWAY_NODE_OPTIONS.length ? 10_000 : 300);
  while (Date.now() < until && children.some((c) => c.exitCode === null && c.signalCode === null)) await new Promise((r) => setTimeout(r, 50));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
