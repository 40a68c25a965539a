// Where a large changed report's time goes: `palisade serve` (from sources) under
// `node --cpu-prof`, one 4 MB report (1,200 servers x 10 tools) sent and processed, then the
// profile summarised: self time by function and time by source file of the product.
// Run: node bench/ingest/profile-big.mjs [--db postgres] [--unchanged: profile unchanged re-scans instead]   (PALISADE_TEST_DATABASE_URL for PostgreSQL)
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
const profDir = path.join(data, 'prof');
const pg = dialect === 'postgres' ? await pgDatabase() : null;
const { DATABASE_URL: _d, PALISADE_INGEST_WAIT_MS: _w, ...base } = process.env;
const child = spawn(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    '--conditions=source',
    '--import',
    'tsx',
    path.join(repo, 'packages/cli/src/main.ts'),
    'serve',
    '--port',
    '0',
    '--data',
    data,
  ],
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
const post = async (rev) => {
  const body = JSON.stringify(bigReport(1200, 10, { rev }));
  const t0 = performance.now();
  const r = await fetch(`${url}/api/v1/agent/report`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, prefer: 'wait=0' },
    body,
  });
  const { id } = await r.json();
  for (;;) {
    const s = await (await fetch(`${url}/api/v1/agent/report/${id}`, { headers: { 'x-api-key': key } })).json();
    if (s.status !== 'pending') return { ms: performance.now() - t0, status: s.status, bytes: body.length };
    await new Promise((res) => setTimeout(res, 50));
  }
};
if (process.argv.includes('--unchanged')) {
  // the unchanged re-scan path instead: 100 hosts' first reports, then re-scans for 10 s from a load process
  const { spawnSync } = await import('node:child_process');
  const job = (mode, extra) => JSON.stringify({ mode, base: url, key, from: 0, to: 100, rev: 0, ...extra });
  spawnSync(process.execPath, [path.join(repo, 'bench/ingest/load.mjs'), job('changed', { count: 100, connections: 4 })]);
  const r = spawnSync(process.execPath, [path.join(repo, 'bench/ingest/load.mjs'), job('unchanged', { seconds: 10, connections: 16 })], { encoding: 'utf8' });
  process.stdout.write(`${dialect}: unchanged re-scans ${r.stdout.trim()}; load ${os.loadavg()[0].toFixed(1)}\n`);
} else {
  const first = await post(0); // a new host: every server new
  const second = await post(1); // the same host, every server's version changed
  const third = await post(1); // same servers as the second, new scan time: the unchanged path
  process.stdout.write(
    `${dialect}: 4 MB report (${first.bytes} bytes): first ${(first.ms / 1000).toFixed(1)} s, all servers changed ${(second.ms / 1000).toFixed(1)} s, unchanged ${(third.ms / 1000).toFixed(2)} s; load ${os.loadavg()[0].toFixed(1)}\n`,
  );
}
child.kill('SIGINT');
await new Promise((r) => child.on('exit', r));
const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
const prof = JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8'));
const self = new Map();
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const byFn = new Map();
const byFile = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const f = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(node_modules|packages)\//, '$1/')}:${cf.lineNumber + 1}`;
  byFn.set(f, (byFn.get(f) ?? 0) + us);
  const fileKey = cf.url
    ? cf.url.replace(/^.*\/(node_modules\/[^/]+(?:\/[^/]+)?|packages\/[^/]+\/src\/.*)$/, '$1').replace(/^file:\/\/.*\/node:/, 'node:')
    : cf.functionName || '(native)';
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
const top = (m, n) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
    .join('\n');
process.stdout.write(`self time by function:\n${top(byFn, 25)}\nself time by file:\n${top(byFile, 20)}\n`);
fs.rmSync(data, { recursive: true, force: true });
await pg?.drop();
