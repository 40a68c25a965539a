// The unchanged re-scan's cost in `palisade serve`, against the bare route, in CPU per request:
// what an agent daemon's re-report (same servers, a new scan time) costs the server, read from
// /proc for each server process, so the figure holds whatever else the machine is doing (the
// requests per second are printed too, and move with the load). serve runs from sources in its
// own process (production mode and log level), the bare route in another, the load from
// bench/ingest/load.mjs processes: 100 hosts' realistic ~35 KB reports, 16 connections,
// BENCH_SECONDS per phase, bare and serve interleaved BENCH_RUNS times after one warm-up round
// each (a cold process costs 2-3x as much per request while V8 compiles).
// Run: node bench/ingest/unchanged-cpu.mjs [sqlite|postgres]   (PostgreSQL: PALISADE_TEST_DATABASE_URL;
//      BENCH_CPU_PROF=DIR: a CPU profile of serve)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pgDatabase } from './inproc.mjs';
import { asUsersRunIt, cpuMsOf, runLoad, setupWithKey, startBare, startServe, stopServe } from './serve.mjs';

const dialect = process.argv[2] ?? 'sqlite';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 3));

const data = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-unchanged-'));
const pg = dialect === 'postgres' ? await pgDatabase() : null;
// BENCH_CPU_PROF=DIR: serve also writes a CPU profile there when it stops (node --cpu-prof)
const asRun = asUsersRunIt();
const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
const serve = await startServe(data, { ...asRun, nodeFlags: [...asRun.nodeFlags, ...prof], databaseUrl: pg?.url });
const bare = await startBare();
try {
  const key = await setupWithKey(serve.base);
  const first = await runLoad({ mode: 'changed', base: serve.base, key, from: 0, to: 100, rev: 0, count: 100, connections: 8 });
  if (first.pending || first.failed) throw new Error(`first reports not stored: ${JSON.stringify(first)}`);
  const rows = { bare: [], serve: [] };
  for (let r = 0; r <= RUNS; r++) {
    for (const [name, p, job] of [
      ['bare', bare, { base: bare.url, path: '/bare', key: 'none' }],
      ['serve', serve, { base: serve.base, key }],
    ]) {
      const c0 = cpuMsOf(p.child.pid);
      const res = await runLoad({ mode: 'unchanged', from: 0, to: 100, seconds: SECONDS, connections: 16, ...job });
      const n = Object.values(res.status).reduce((a, b) => a + b, 0);
      if (name === 'serve' && res.status['200'] !== n) throw new Error(`not every re-scan was answered 200: ${JSON.stringify(res.status)}`);
      if (r > 0) rows[name].push({ rps: res.rps, us: ((cpuMsOf(p.child.pid) - c0) * 1000) / n });
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const show = (xs, f = (x) => x.toFixed(0)) => `${f(med(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
  console.log(`unchanged re-scans, ${dialect}, median (min-max) of ${RUNS} interleaved runs; load average ${os.loadavg()[0].toFixed(1)}`);
  console.log(`  server CPU per request: serve ${show(rows.serve.map((x) => x.us))} µs, bare route ${show(rows.bare.map((x) => x.us))} µs`);
  console.log(`  requests/s: serve ${show(rows.serve.map((x) => x.rps))}, bare ${show(rows.bare.map((x) => x.rps))}, ratio ${show(rows.serve.map((x, i) => x.rps / rows.bare[i].rps), (x) => `${x.toFixed(2)}x`)}`);
} finally {
  bare.child.kill('SIGTERM');
  await stopServe(serve);
  await pg?.drop();
  fs.rmSync(data, { recursive: true, force: true });
}
