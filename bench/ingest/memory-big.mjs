// What a large report costs `palisade serve` in memory (issue 13: bounded on PostgreSQL):
// serve (from sources, production mode, its own process), then large reports sent one at a
// time, its RSS (VmRSS from /proc) sampled every 10 ms while each is accepted and processed.
// Prints, per report, the RSS before, the peak while it ran, the growth, and the time.
// Run: node bench/ingest/memory-big.mjs [--db postgres]   (PALISADE_TEST_DATABASE_URL for PostgreSQL)
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigReport } from './reports.mjs';
import { pgDatabase } from './inproc.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const SETUP = 'bench-only-setup-token-0123456789';
const dialect = process.argv.includes('--db') ? process.argv[process.argv.indexOf('--db') + 1] : 'sqlite';
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-prof-'));
const pg = dialect === 'postgres' ? await pgDatabase() : null;
const { DATABASE_URL: _d, PALISADE_INGEST_WAIT_MS: _w, ...base } = process.env;
const child = spawn(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', path.join(repo, 'packages/cli/src/main.ts'), 'serve', '--port', '0', '--data', data],
  {
    cwd: repo,
    env: {
      ...base,
      NODE_ENV: 'production',
      PALISADE_INGEST_RATE_LIMIT: '100000000',
      JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
      PALISADE_SETUP_TOKEN: SETUP,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    },
    // the log to a file, as a service's goes to the journal (a pipe read late slows the server)
    stdio: ['ignore', 'ignore', fs.openSync(path.join(data, 'serve.log'), 'a')],
  },
);
const url = await new Promise((resolve) => {
  const timer = setInterval(() => {
    const m = /serving on (http:\/\/[\d.]+:\d+)/.exec(fs.readFileSync(path.join(data, 'serve.log'), 'utf8'));
    if (m) {
      clearInterval(timer);
      resolve(m[1]);
    }
  }, 50);
});
const setup = await fetch(`${url}/api/v1/setup`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ setupToken: SETUP, orgName: 'P', email: 'p@prof.test', password: 'bench-only-password-xyz-123' }),
});
const cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0]);
const csrf = cookies.find((c) => c.includes('csrf='))?.split('=')[1];
const { key } = await (
  await fetch(`${url}/api/v1/agent-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookies.join('; '), 'x-csrf-token': csrf },
    body: JSON.stringify({ name: 'p' }),
  })
).json();
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
/** Sends these reports at once and waits until each is processed; RSS sampled every 10 ms. */
const postAll = async (label, reports) => {
  const bodies = reports.map((r) => JSON.stringify(r));
  await new Promise((res) => setTimeout(res, 1000));
  const before = rssMb();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 10);
  const t0 = performance.now();
  const statuses = await Promise.all(
    bodies.map(async (body) => {
      const r = await fetch(`${url}/api/v1/agent/report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key, prefer: 'wait=0' },
        body,
      });
      const { id } = await r.json();
      for (;;) {
        const status = (await (await fetch(`${url}/api/v1/agent/report/${id}`, { headers: { 'x-api-key': key } })).json()).status;
        if (status !== 'pending') return status;
        await new Promise((res) => setTimeout(res, 50));
      }
    }),
  );
  clearInterval(sampler);
  const ms = performance.now() - t0;
  const mb = bodies.reduce((n, b) => n + b.length, 0) / 1e6;
  process.stdout.write(
    `${dialect} ${label} (${reports.length} x ${(mb / reports.length).toFixed(1)} MB, ${reports[0].servers.length} servers each): ${[...new Set(statuses)].join('/')} in ${(ms / 1000).toFixed(1)} s; RSS ${before.toFixed(0)} MB -> peak ${peak.toFixed(0)} MB (+${(peak - before).toFixed(0)} MB)\n`,
  );
};
const post = (label, report) => postAll(label, [report]);
try {
  await post('4 MB report, first', bigReport(1200, 10, { rev: 0 }));
  await post('4 MB report, every server changed', bigReport(1200, 10, { rev: 1 }));
  await post('5,000 servers, first', bigReport(5000, 1, { hostname: 'wide-host', rev: 0 }));
  await post('5,000 servers, every server changed', bigReport(5000, 1, { hostname: 'wide-host', rev: 1 }));
  // a burst: four hosts' 4 MB reports at once (the in-flight budget runs them one after another)
  await postAll(
    '4 MB reports of 4 hosts at once',
    [0, 1, 2, 3].map((n) => bigReport(1200, 10, { hostname: `burst-${n}`, rev: 0 })),
  );
  process.stdout.write(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n`,
  );
} finally {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  fs.rmSync(data, { recursive: true, force: true });
  await pg?.drop();
}
