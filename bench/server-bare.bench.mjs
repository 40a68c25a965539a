// The HTTP baseline: how many requests per second a bare fastify route answers on this
// machine (127.0.0.1, autocannon, bounded duration), beside the real app's public health
// route and an agent-key-authenticated route (the auth every ingest pays). Ingest figures
// are compared with the bare figure: `import { measureBareRoute } from './server-bare.bench.mjs'`.
// Run: node bench/server-bare.bench.mjs  (or npm run bench -- server-bare)
// Env: BENCH_SECONDS (default 3), BENCH_CONNECTIONS (default 10), PALISADE_BENCH_DATABASE_URL
// (a PostgreSQL superuser URL: the bench makes and drops its own database and plain role).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

/** Runs autocannon against url; returns { rps, p50, p99, errors }. */
export async function load(url, { seconds = SECONDS, connections = CONNECTIONS, method = 'GET', headers = {}, body } = {}) {
  const r = await autocannon({ url, duration: seconds, connections, method, headers, body });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** A bare fastify route on 127.0.0.1 (no plugins, no logging): the framework's ceiling here. */
export async function measureBareRoute(opts = {}) {
  const app = Fastify({ logger: false });
  app.get('/bare', async () => ({ ok: true }));
  app.post('/bare', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address();
  try {
    return await load(`http://127.0.0.1:${port}/bare`, opts);
  } finally {
    await app.close();
  }
}

const JWT = 'bench-only-signing-key-4hT8qW2zX6nB0mK3vL9pR1sD5fG7jC';
const SETUP = 'bench-only-setup-token-0123456789';
const fmt = (r) => `${Math.round(r.rps).toLocaleString('en')} req/s (p50 ${r.p50} ms, p99 ${r.p99} ms${r.errors ? `, ${r.errors} errors` : ''})`;

/** A fresh PostgreSQL database owned by a fresh plain role (so RLS binds, as in production). */
async function freshPostgres(adminUrl) {
  const { default: pg } = await import('pg');
  const crypto = await import('node:crypto');
  const sfx = crypto.randomBytes(5).toString('hex');
  const role = `palisade_bench_${sfx}`;
  const pw = crypto.randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create role ${role} login password '${pw}' nosuperuser nobypassrls`);
  await admin.query(`create database ${role} owner ${role}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.username = role;
  url.password = pw;
  url.pathname = `/${role}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${role} with (force)`);
      await c.query(`drop role if exists ${role}`);
      await c.end();
    },
  };
}

async function measureApp(label, buildApp, bare, databaseUrl) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-bench-'));
  const { app } = await buildApp({ host: '127.0.0.1', port: 0, dataDir: data, databaseUrl, production: false, signupOpen: false, webDir: null, logLevel: 'warn', jwtSecret: JWT, setupToken: SETUP });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${app.server.address().port}`;
    const ratio = (r) => `${(r.rps / bare.rps).toFixed(2)} x bare`;
    // an org, an owner and an agent key, through the API
    const setup = await fetch(`${base}/api/v1/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setupToken: SETUP, orgName: 'Bench', email: 'bench@bench.test', password: 'bench-only-password-xyz-123' }) });
    const cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0]);
    const csrf = cookies.find((c) => c.startsWith('palisade_csrf='))?.split('=')[1];
    const keyRes = await fetch(`${base}/api/v1/agent-keys`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: cookies.join('; '), 'x-csrf-token': csrf }, body: JSON.stringify({ name: 'bench' }) });
    const { key } = await keyRes.json();
    const health = await load(`${base}/healthz`);
    process.stdout.write(`  ${label} GET /healthz (db ping)        ${fmt(health)}  = ${ratio(health)}\n`);
    const whoami = await load(`${base}/api/v1/agent/whoami`, { headers: { 'x-api-key': key } });
    process.stdout.write(`  ${label} GET /api/v1/agent/whoami     ${fmt(whoami)}  = ${ratio(whoami)} (agent-key auth)\n`);
    const me = await load(`${base}/api/v1/me`, { headers: { cookie: cookies.join('; ') } });
    process.stdout.write(`  ${label} GET /api/v1/me               ${fmt(me)}  = ${ratio(me)} (session auth)\n`);
  } finally {
    await app.close();
    fs.rmSync(data, { recursive: true, force: true });
  }
}

async function main() {
  process.stdout.write(`bare fastify route, ${SECONDS}s x ${CONNECTIONS} connections on ${os.cpus().length} cores (load average ${os.loadavg()[0].toFixed(1)})\n`);
  const bare = await measureBareRoute();
  process.stdout.write(`  bare route                            ${fmt(bare)}\n`);

  // the real app, built from the compiled server (npm run build first)
  const dist = fileURLToPath(new URL('../packages/server/dist/index.js', import.meta.url));
  if (!fs.existsSync(dist)) {
    process.stdout.write('  (packages/server/dist is missing: run `npm run build` to compare with the real app)\n');
    return;
  }
  const { buildApp } = await import(pathToFileURL(dist).href);
  await measureApp('sqlite  ', buildApp, bare);
  const adminUrl = process.env.PALISADE_BENCH_DATABASE_URL ?? process.env.PALISADE_TEST_DATABASE_URL;
  if (!adminUrl) {
    process.stdout.write('  (set PALISADE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to measure PostgreSQL too)\n');
    return;
  }
  const db = await freshPostgres(adminUrl);
  try {
    await measureApp('postgres', buildApp, bare, db.url);
  } finally {
    await db.drop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`server-bare bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
