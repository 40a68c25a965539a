// The in-process helpers other benches use (bench/servers-list.bench.mjs): the compiled app
// started in the bench's own process on SQLite or on a fresh PostgreSQL database owned by a
// fresh non-superuser role, with an organisation, its owner and an agent key. The ingest bench
// itself no longer uses them: it runs `palisade serve` as its own process (ingest.bench.mjs).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PASSWORD, SETUP } from './serve.mjs';

// ---- shared with servers-list.bench.mjs: the real app from the compiled server on SQLite
// (temp folder) or PostgreSQL (a fresh database owned by a fresh NON-superuser role, so row-
// level security is on as in production), an organisation, its owner and an agent key.
export const ADMIN_URL = process.env.PALISADE_BENCH_DATABASE_URL || process.env.PALISADE_TEST_DATABASE_URL || '';
const dist = fileURLToPath(new URL('../../packages/server/dist/index.js', import.meta.url));
// bench-only values, never used anywhere else

export function serverDistPresent() {
  return fs.existsSync(dist);
}

export async function pgDatabase() {
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
  const adminUrl = new URL(ADMIN_URL);
  adminUrl.pathname = `/${db}`;
  return {
    url: url.toString(),
    /** the superuser on the same database (bulk loading; not subject to row-level security) */
    adminUrl: adminUrl.toString(),
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
    host: '127.0.0.1',
    port: 0,
    dataDir: data,
    databaseUrl: pgdb?.url,
    production: false,
    signupOpen: false,
    webDir: null,
    logLevel: 'warn',
    jwtSecret: 'bench-only-signing-key-4hT8qW2zX6nB0mK3vL9pR1sD5fG7jC',
    setupToken: SETUP,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  const setup = await fetch(`${base}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ setupToken: SETUP, orgName: 'Bench', email: 'bench@bench.test', password: PASSWORD }),
  });
  const { org } = await setup.json();
  const cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => c.startsWith('palisade_csrf='))?.split('=')[1];
  const cookie = cookies.join('; ');
  const keyRes = await fetch(`${base}/api/v1/agent-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
    body: JSON.stringify({ name: 'bench' }),
  });
  const { key } = await keyRes.json();
  return {
    base,
    key,
    cookie,
    orgId: org.id,
    platform,
    app,
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
      id: hash(`${hostname}/${name}`).slice(0, 16),
      name,
      client: 'claude-desktop',
      configPath: '/home/bench/.config/Claude/claude_desktop_config.json',
      scope: 'user',
      transport: 'stdio',
      command: 'npx',
      args: ['-y', `@bench/${name}@1.0.${i === 0 ? rev : 0}`],
      cwd: null,
      url: null,
      envNames: ['API_TOKEN'],
      headerNames: [],
      tools: Array.from({ length: tools }, (_, t) => {
        const description = `Tool ${t} of ${name}: reads and writes bench data.`;
        return { name: `tool_${t}`, description, inputSchemaHash: hash(`schema${t}`), definitionHash: hash(`${name}/${t}/${description}`) };
      }),
      findings: [],
      score: 0,
      level: 'none',
    });
  }
  return {
    schemaVersion: 1,
    agent: { name: 'palisade', version: '0.1.0' },
    host: { hostname, os: 'linux 6.8.0', user: 'bench' },
    scannedAt: new Date().toISOString(),
    clients: [{ id: 'claude-desktop', name: 'Claude Desktop', configPath: '/home/bench/.config/Claude/claude_desktop_config.json', serverCount: servers }],
    servers: list,
    findings: [],
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
