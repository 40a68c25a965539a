// Ingest throughput: POST /api/v1/agent/report with reports of 10 servers x 50 tools each,
// unchanged re-reports (the idempotent path: only last-seen times move) and changed reports
// (one server's config changes on every report: new definition, 50 new tool rows, events,
// alerts), on SQLite and on PostgreSQL (when a database URL is set), beside a bare fastify
// route on the same machine. Aims: unchanged >= 0.5 x bare route; changed >= 500/s.
// Run: npm run build && node bench/ingest.bench.mjs
// Env: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 10),
//      PALISADE_BENCH_DATABASE_URL or PALISADE_TEST_DATABASE_URL (PostgreSQL, superuser to create a db and role).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { measureBareRoute } from './server-bare.bench.mjs';

// ---- shared with servers-list.bench.mjs: the real app from the compiled server on SQLite
// (temp folder) or PostgreSQL (a fresh database owned by a fresh NON-superuser role, so row-
// level security is on as in production), an organisation, its owner and an agent key.
export const ADMIN_URL = process.env.PALISADE_BENCH_DATABASE_URL || process.env.PALISADE_TEST_DATABASE_URL || '';
const dist = fileURLToPath(new URL('../packages/server/dist/index.js', import.meta.url));
// bench-only values, never used anywhere else
const SETUP = 'bench-only-setup-token-0123456789';
const PASSWORD = 'bench-only-password-xyz-123';

export function serverDistPresent() {
  return fs.existsSync(dist);
}

async function pgDatabase() {
  const { default: pg } = await import('pg');
  const suffix = crypto.randomBytes(5).toString('hex');
  const db = `palisade_bench_${suffix}`;
  const role = `palisade_bench_${suffix}`;
  const password = crypto.randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create role ${role} login password '${password}' nosuperuser nobypassrls`);
  await admin.query(`create database ${db} owner ${role}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.username = role;
  url.password = password;
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${db} with (force)`);
      await c.query(`drop role if exists ${role}`);
      await c.end();
    },
  };
}

/** Starts the app; returns { base, key, cookie, platform, close }. */
export async function startBackend(dialect) {
  process.env.PALISADE_INGEST_RATE_LIMIT = '100000000'; // measure throughput, not the limiter
  const { buildApp } = await import(pathToFileURL(dist).href);
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-bench-'));
  const pgdb = dialect === 'postgres' ? await pgDatabase() : null;
  const { app, platform } = await buildApp({
    host: '127.0.0.1', port: 0, dataDir: data, databaseUrl: pgdb?.url, production: false, signupOpen: false, webDir: null, logLevel: 'warn',
    jwtSecret: 'bench-only-signing-key-4hT8qW2zX6nB0mK3vL9pR1sD5fG7jC', setupToken: SETUP,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  const setup = await fetch(`${base}/api/v1/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setupToken: SETUP, orgName: 'Bench', email: 'bench@bench.test', password: PASSWORD }) });
  const { org } = await setup.json();
  const cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => c.startsWith('palisade_csrf='))?.split('=')[1];
  const cookie = cookies.join('; ');
  const keyRes = await fetch(`${base}/api/v1/agent-keys`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf }, body: JSON.stringify({ name: 'bench' }) });
  const { key } = await keyRes.json();
  return {
    base, key, cookie, orgId: org.id, platform, app,
    async close() {
      await app.close();
      fs.rmSync(data, { recursive: true, force: true });
      await pgdb?.drop();
    },
  };
}

/** A scan report: `servers` servers with `tools` tools each; `rev` changes one server's config. */
export function benchReport({ hostname = 'bench-host', servers = 10, tools = 50, rev = 0 } = {}) {
  const hash = (s) => crypto.createHash('sha256').update(s).digest('hex');
  const list = [];
  for (let i = 0; i < servers; i++) {
    const name = `bench-server-${i}`;
    list.push({
      id: hash(`${hostname}/${name}`).slice(0, 16), name, client: 'claude-desktop', configPath: '/home/bench/.config/Claude/claude_desktop_config.json', scope: 'user',
      transport: 'stdio', command: 'npx', args: ['-y', `@bench/${name}@1.0.${i === 0 ? rev : 0}`], cwd: null, url: null, envNames: ['API_TOKEN'], headerNames: [],
      tools: Array.from({ length: tools }, (_, t) => {
        const description = `Tool ${t} of ${name}: reads and writes bench data.`;
        return { name: `tool_${t}`, description, inputSchemaHash: hash(`schema${t}`), definitionHash: hash(`${name}/${t}/${description}`) };
      }),
      findings: [], score: 0, level: 'none',
    });
  }
  return {
    schemaVersion: 1, agent: { name: 'palisade', version: '0.1.0' }, host: { hostname, os: 'linux 6.8.0', user: 'bench' }, scannedAt: new Date().toISOString(),
    clients: [{ id: 'claude-desktop', name: 'Claude Desktop', configPath: '/home/bench/.config/Claude/claude_desktop_config.json', serverCount: servers }],
    servers: list, findings: [],
    summary: { clients: 1, servers, findings: 0, errors: 0, byLevel: { critical: 0, high: 0, medium: 0, low: 0, none: servers }, maxLevel: 'none' },
  };
}

/**
 * The text of benchReport({ hostname, servers, tools, rev }) with its scan time, for any rev,
 * without building and serialising the report again: the load generator runs in this process,
 * so the changed-report run must not spend the server's CPU on making its bodies.
 */
export function reportTemplate({ hostname = 'bench-host', servers = 10, tools = 50 } = {}) {
  const REV = 987654321;
  const AT = '2000-01-01T00:00:00.000Z';
  const text = JSON.stringify({ ...benchReport({ hostname, servers, tools, rev: REV }), scannedAt: AT });
  // the text in pieces, with the two variable values as markers between them
  const pieces = text.split(new RegExp(`(@1\\.0\\.${REV}"|"scannedAt":"${AT.replace(/\./g, '\\.')}")`));
  if (pieces.length !== 5) throw new Error('report template: the rev and the scan time must occur once each');
  const render = (rev, scannedAt = new Date().toISOString()) =>
    pieces.map((p, i) => (i % 2 === 0 ? p : p.startsWith('@') ? `@1.0.${rev}"` : `"scannedAt":"${scannedAt}"`)).join('');
  const check = { ...benchReport({ hostname, servers, tools, rev: 7 }), scannedAt: AT };
  if (render(7, AT) !== JSON.stringify(check)) throw new Error('report template: does not render benchReport()');
  return render;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---- the ingest bench

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const fmt = (r) => `${Math.round(r.rps).toLocaleString('en')} req/s (p50 ${r.p50} ms, p99 ${r.p99} ms${r.errors ? `, ${r.errors} non-2xx/errors` : ''})`;

async function run(opts) {
  const r = await autocannon({ duration: SECONDS, connections: CONNECTIONS, ...opts });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, total: r.requests.total };
}

async function measure(dialect, bare, bareBig) {
  const b = await startBackend(dialect);
  try {
    const url = `${b.base}/api/v1/agent/report`;
    const headers = { 'content-type': 'application/json', 'x-api-key': b.key };
    const same = JSON.stringify(benchReport({ hostname: 'unchanged-host' }));
    const first = await fetch(url, { method: 'POST', headers, body: same });
    if (first.status !== 200) throw new Error(`first report answered ${first.status}: ${await first.text()}`);
    // the floor every agent request pays: agent-key authentication (one database look-up)
    const auth = await run({ url: `${b.base}/api/v1/agent/whoami`, headers: { 'x-api-key': b.key } });
    process.stdout.write(`  ${dialect.padEnd(8)} agent-key auth only ${fmt(auth)}  = ${(auth.rps / bare.rps).toFixed(2)} x bare\n`);
    const unchanged = await run({ url, method: 'POST', headers, body: same });
    process.stdout.write(`  ${dialect.padEnd(8)} unchanged re-report  ${fmt(unchanged)}  = ${(unchanged.rps / bareBig.rps).toFixed(2)} x bare with the same body (aim >= 0.5), ${(unchanged.rps / bare.rps).toFixed(2)} x bare with '{}', ${(unchanged.rps / auth.rps).toFixed(2)} x auth only\n`);
    // the same, from a fleet: 50 hosts in turn, each re-sending its own unchanged report (the
    // run above has every request update one host's row, which PostgreSQL serialises)
    const fleet = Array.from({ length: 50 }, (_, i) => JSON.stringify(benchReport({ hostname: `fleet-host-${i}` })));
    for (const body of fleet) {
      const r = await fetch(url, { method: 'POST', headers, body });
      if (r.status !== 200) throw new Error(`fleet report answered ${r.status}: ${await r.text()}`);
    }
    let turn = 0;
    const fleetRun = await run({ url, method: 'POST', headers, requests: [{ setupRequest: (req) => ({ ...req, body: fleet[turn++ % fleet.length] }) }] });
    process.stdout.write(`  ${dialect.padEnd(8)} unchanged, 50 hosts  ${fmt(fleetRun)}  = ${(fleetRun.rps / bareBig.rps).toFixed(2)} x bare with the same body\n`);
    // 50 hosts in turn, each report with a new version of the host's first server (bodies from
    // templates, so making them costs this shared process next to nothing)
    const hosts = Array.from({ length: 50 }, (_, i) => reportTemplate({ hostname: `changed-host-${i}` }));
    let rev = 0;
    const changed = await run({
      url, method: 'POST', headers,
      requests: [{ setupRequest: (req) => { rev++; return { ...req, body: hosts[rev % 50](rev) }; } }],
    });
    process.stdout.write(`  ${dialect.padEnd(8)} changed report      ${fmt(changed)}  (aim >= 500/s)\n`);
  } finally {
    await b.close();
  }
}

async function main() {
  process.stdout.write(`ingest, reports of 10 servers x 50 tools, ${SECONDS}s x ${CONNECTIONS} connections on ${os.cpus().length} cores\n`);
  const bare = await measureBareRoute({ seconds: SECONDS, connections: CONNECTIONS, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  process.stdout.write(`  bare fastify POST route     ${fmt(bare)}\n`);
  // the same bare route receiving (and JSON-parsing) a report-sized body, for a like-for-like ratio
  const bareBig = await measureBareRoute({ seconds: SECONDS, connections: CONNECTIONS, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(benchReport()) });
  process.stdout.write(`  bare route, 134 KB body     ${fmt(bareBig)}\n`);
  if (!serverDistPresent()) {
    process.stdout.write('  (packages/server/dist is missing: run `npm run build` first)\n');
    return;
  }
  await measure('sqlite', bare, bareBig);
  if (ADMIN_URL) await measure('postgres', bare, bareBig);
  else process.stdout.write('  postgres: skipped (set PALISADE_BENCH_DATABASE_URL or PALISADE_TEST_DATABASE_URL)\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`ingest bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
