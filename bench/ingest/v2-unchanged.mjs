// Unchanged re-scans in protocol v2 (docs/api.md): what a daemon's 15-minute re-report costs
// `palisade serve` when it is an OFFER (envelope + each server's key and content hash, answered
// "done"), against the bare route given the same offer bodies, and beside the v1 re-scan (the
// whole report: the raw-key fast path, and in other bytes, as a probing agent's new probe
// durations make it, the content-hash path). CPU per request read from /proc for each server
// process, requests/s alongside (they move with the machine's load). serve runs from sources
// in its own process (production mode and log level), the load from bench/ingest/load.mjs
// processes: 100 hosts' realistic reports (stored first through v1, which keeps their entries),
// 16 connections, BENCH_SECONDS per phase, the three phases interleaved BENCH_RUNS times after
// one warm-up round.
// Run: node bench/ingest/v2-unchanged.mjs [sqlite|postgres]   (PostgreSQL: PALISADE_TEST_DATABASE_URL)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pgDatabase } from './inproc.mjs';
import { asUsersRunIt, cpuMsOf, runLoad, setupWithKey, startBare, startServe, stopServe } from './serve.mjs';

const dialect = process.argv[2] ?? 'sqlite';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 3));

const data = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-v2-unchanged-'));
const pg = dialect === 'postgres' ? await pgDatabase() : null;
const serve = await startServe(data, { ...asUsersRunIt(), databaseUrl: pg?.url });
const bare = await startBare();
try {
  const key = await setupWithKey(serve.base);
  const first = await runLoad({ mode: 'changed', base: serve.base, key, from: 0, to: 100, rev: 0, count: 100, connections: 8 });
  if (first.pending || first.failed) throw new Error(`first reports not stored: ${JSON.stringify(first)}`);
  const phases = [
    ['bare (offer body)', bare, { base: bare.url, path: '/bare', key: 'none', offer: true }],
    ['serve v2 offer', serve, { base: serve.base, key, path: '/api/v1/agent/report/offer', offer: true }],
    ['serve v1 report', serve, { base: serve.base, key }],
    // the same reports in other bytes (what a probing agent sends: new probe durations): v1's content-hash path
    ['serve v1 other bytes', serve, { base: serve.base, key, reorder: true }],
  ];
  const rows = Object.fromEntries(phases.map(([name]) => [name, []]));
  for (let r = 0; r <= RUNS; r++) {
    for (const [name, p, job] of phases) {
      const c0 = cpuMsOf(p.child.pid);
      const res = await runLoad({ mode: 'unchanged', from: 0, to: 100, seconds: SECONDS, connections: 16, ...job });
      const n = Object.values(res.status).reduce((a, b) => a + b, 0);
      if (p === serve && res.status['200'] !== n) throw new Error(`${name}: not every re-scan was answered 200: ${JSON.stringify(res.status)}`);
      if (r > 0) rows[name].push({ rps: res.rps, us: ((cpuMsOf(p.child.pid) - c0) * 1000) / n });
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const show = (xs, f = (x) => x.toFixed(0)) => `${f(med(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
  const bareRows = rows['bare (offer body)'];
  console.log(`unchanged re-scans, protocol v2 offers vs v1 reports, ${dialect}, median (min-max) of ${RUNS} interleaved runs; load average ${os.loadavg()[0].toFixed(1)}`);
  for (const [name] of phases) {
    const xs = rows[name];
    const ratio = name === 'bare (offer body)' ? '' : `, vs bare ${show(xs.map((x, i) => x.rps / bareRows[i].rps), (x) => `${x.toFixed(2)}x`)}`;
    console.log(`  ${name.padEnd(20)} CPU/request ${show(xs.map((x) => x.us))} µs, requests/s ${show(xs.map((x) => x.rps))}${ratio}`);
  }
} finally {
  bare.child.kill('SIGTERM');
  await stopServe(serve);
  await pg?.drop();
  fs.rmSync(data, { recursive: true, force: true });
}
