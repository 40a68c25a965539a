// serve's RSS (anonymous and file-backed, from /proc/PID/smaps_rollup) idle and after each of
// four waves of 300 changed reports (a new revision of 300 hosts each time, 16 connections from
// a load process of its own), then 5 s later: whether memory settles or keeps growing under
// a stream of changed reports. serve runs as `npm start` runs it, plus BENCH_NODE_FLAGS (e.g.
// "--heap-growing-percent=10") to compare V8 heap settings; with serve's CPU per report (from /proc).
// Run: node bench/ingest/memory-changed.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asUsersRunIt, cpuMsOf, runLoad, setupWithKey, startServe, stopServe } from './serve.mjs';

const data = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-mem-'));
const asRun = asUsersRunIt();
const extra = process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : [];
const serve = await startServe(data, { ...asRun, nodeFlags: [...asRun.nodeFlags, ...extra] });
const smaps = (pid) => {
  const t = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(t)[1]) / 1024;
  return `RSS ${kb('Rss').toFixed(0)} MB (anonymous ${kb('Anonymous').toFixed(0)}, files ${(kb('Rss') - kb('Anonymous')).toFixed(0)})`;
};
try {
  console.log(`serve: node ${[...asRun.nodeFlags, ...extra].join(' ')} packages/cli/bin/palisade.js serve; load average ${os.loadavg()[0].toFixed(1)}`);
  const key = await setupWithKey(serve.base, { orgName: 'Memory', email: 'mem@bench.test', keyName: 'memory' });
  console.log(`  idle                        ${smaps(serve.child.pid)}`);
  for (let rev = 0; rev < 4; rev++) {
    const c0 = cpuMsOf(serve.child.pid);
    const r = await runLoad({ mode: 'changed', base: serve.base, key, from: 0, to: 300, rev, count: 300, connections: 16 });
    const cpu = (cpuMsOf(serve.child.pid) - c0) / 300;
    console.log(`  after 300 changed (wave ${rev + 1}) ${smaps(serve.child.pid)} ${JSON.stringify(r.status)}, serve CPU ${cpu.toFixed(1)} ms per report`);
  }
  await new Promise((r) => setTimeout(r, 5000));
  console.log(`  5 s later                   ${smaps(serve.child.pid)}`);
} finally {
  await stopServe(serve);
  fs.rmSync(data, { recursive: true, force: true });
}
