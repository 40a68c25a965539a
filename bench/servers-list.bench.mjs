// GET /api/v1/servers latency and `palisade serve` memory with a big inventory (issue 12):
// 100,000 hosts and 1,000,000 server instances of 20,000 server definitions (popular ones on
// many hosts). `palisade serve` runs as users run it (the built command, its own process,
// production mode): a first start makes the organisation, its owner and an agent key; then,
// with serve stopped, the bench bulk-loads the tables with multi-row INSERTs (the list's side
// tables for the client and text filters written by syncServerIndex, as ingest does) and
// starts serve again. No ANALYZE or VACUUM here: the planner's statistics are the product's
// business (serve's start-up maintenance; the ingest queue's periodic one).
// Each list query (default sort, other sorts, filters, text search, a deep page) is asked
// repeatedly through the real HTTP route with a signed-in viewer: p50/p95 per query (aim:
// p95 < 50 ms), and serve's RSS (VmRSS from /proc) idle after start, after the list queries
// and at its peak while it processes a few changed reports (aim: <= 250 MB).
// Run: npm run build && node bench/servers-list.bench.mjs
// Env: BENCH_HOSTS (default 100000), BENCH_INSTANCES_PER_HOST (10), BENCH_SERVERS (20000),
//      BENCH_RUNS (default 60 per query), PALISADE_BENCH_DATABASE_URL / PALISADE_TEST_DATABASE_URL,
//      BENCH_DB (sqlite or postgres: only that one), BENCH_ONLY (comma list of query labels, or parts),
//      BENCH_REPORTS (changed reports sent while RSS is sampled, default 200),
//      BENCH_KEEP=1 (keep the loaded database; prints its folder), BENCH_REUSE=<that folder>
//      (skip the load and measure that database again), BENCH_SERVE_FLAGS (node flags for serve).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ADMIN_URL, pgDatabase, percentile, serverDistPresent } from './ingest/inproc.mjs';
import { hostReport } from './ingest/reports.mjs';
import { agentKey, cookiesOf, cpuMsOf, json, PASSWORD, rssOf, SETUP, startServe, stopServe } from './ingest/serve.mjs';

// node flags for serve (e.g. --max-semi-space-size=4)
const SERVE_FLAGS = (process.env.BENCH_SERVE_FLAGS ?? '').split(' ').filter(Boolean);

const HOSTS = Number(process.env.BENCH_HOSTS ?? 100_000);
const PER_HOST = Number(process.env.BENCH_INSTANCES_PER_HOST ?? 10);
const SERVERS = Number(process.env.BENCH_SERVERS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 60);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 200);
const repo = fileURLToPath(new URL('..', import.meta.url));
// bench-only values, never used anywhere else
// while iterating: BENCH_DB=sqlite|postgres runs one database, BENCH_ONLY=sort=hosts,q= only those queries
const DB = process.env.BENCH_DB ?? '';
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'zed'];
const LEVELS = [
  [85, 'critical'],
  [60, 'high'],
  [30, 'medium'],
  [1, 'low'],
  [0, 'none'],
];
const levelOf = (score) => LEVELS.find(([min]) => score >= min)[1];
const rank = { critical: 4, high: 3, medium: 2, low: 1, none: 0 };

// a deterministic generator, so every run loads the same inventory
function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Loads the inventory into `store` (openDatabase's, serve stopped) for organisation `org`. */
export async function bulkLoad(store, org) {
  const dist = pathToFileURL(fileURLToPath(new URL('../packages/server/dist/index.js', import.meta.url))).href;
  const { withOrg } = await import(dist);
  const rand = rng(42);
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const uuid = () => crypto.randomUUID();

  const servers = Array.from({ length: SERVERS }, (_, i) => ({
    id: uuid(),
    i,
    score: Math.floor(rand() * 101),
    instances: 0,
    hosts: 0,
    lastHost: -1,
    clients: new Set(),
    name: `bench-server-${i}`,
  }));
  // choose every instance's server and client first, so the definitions go in with their counts
  const total = HOSTS * PER_HOST;
  const pick = new Int32Array(total);
  const pickClient = new Uint8Array(total);
  for (let n = 0; n < total; n++) {
    const h = Math.floor(n / PER_HOST);
    const s = servers[Math.floor(SERVERS * rand() ** 3)]; // popular servers on many hosts
    const c = Math.floor(rand() * CLIENTS.length);
    pick[n] = s.i;
    pickClient[n] = c;
    s.instances++;
    if (s.lastHost !== h) {
      s.hosts++;
      s.lastHost = h;
    }
    s.clients.add(CLIENTS[c]);
  }
  // one transaction per slice; multi-row statements inside it
  const insertAll = (tx, table, rows, perStatement) =>
    rows.reduce(
      (p, _, i) =>
        i % perStatement === 0
          ? p.then(() =>
              tx
                .insertInto(table)
                .values(rows.slice(i, i + perStatement))
                .execute(),
            )
          : p,
      Promise.resolve(),
    );

  const { sql } = await import('kysely');
  // loading only: a big page cache for the random-key inserts (set back to the default below)
  if (store.dialect === 'sqlite') await sql`pragma cache_size = -262144`.execute(store.db);
  const serverRows = servers.map((s) => {
    const def = {
      name: s.name,
      transport: 'stdio',
      command: 'npx',
      args: ['-y', `@bench/${s.name}@1.0.0`],
      url: null,
      package: { ecosystem: 'npm', name: `@bench/${s.name}`, version: '1.0.0' },
      envNames: [],
      headerNames: [],
      tlsVerifyDisabled: false,
      autoApprove: [],
    };
    const level = levelOf(s.score);
    return {
      id: s.id,
      org_id: org,
      fingerprint: crypto.createHash('sha256').update(JSON.stringify(def)).digest('hex'),
      name: s.name,
      transport: 'stdio',
      command: 'npx',
      url: null,
      package_ecosystem: 'npm',
      package_name: `@bench/${s.name}`,
      package_version: '1.0.0',
      definition: JSON.stringify(def),
      score: s.score,
      level,
      level_rank: rank[level],
      finding_count: 0,
      host_count: s.hosts,
      instance_count: s.instances,
      clients: [...s.clients].sort().join(','),
      search: `${s.name} npx @bench/${s.name}`,
      first_seen: iso(now - 86_400_000 * 30),
      last_seen: iso(now - Math.floor(rand() * 86_400_000)),
    };
  });
  await withOrg(store, { orgId: org }, (tx) => insertAll(tx, 'servers', serverRows, 1_000));
  // the list's side tables (client and text filters), written by the code ingest runs
  const { syncServerIndex } = await import(new URL('../packages/server/dist/services/server-index.js', import.meta.url).href);
  const ids = serverRows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 2_000)
    await withOrg(store, { orgId: org }, (tx) => syncServerIndex(tx, { orgId: org }, ids.slice(i, i + 2_000), store.dialect));

  const HOST_SLICE = 10_000;
  for (let h0 = 0; h0 < HOSTS; h0 += HOST_SLICE) {
    const hosts = [];
    const instances = [];
    for (let h = h0; h < Math.min(HOSTS, h0 + HOST_SLICE); h++) {
      const hostId = uuid();
      const seen = iso(now - Math.floor(rand() * 72 * 3_600_000));
      let max = 0;
      for (let j = 0; j < PER_HOST; j++) {
        const s = servers[pick[h * PER_HOST + j]];
        const client = CLIENTS[pickClient[h * PER_HOST + j]];
        max = Math.max(max, s.score);
        instances.push({
          id: uuid(),
          org_id: org,
          server_id: s.id,
          host_id: hostId,
          instance_key: `${h}-${j}`,
          client,
          config_path: `/home/u${h}/.config/${client}/mcp.json`,
          project_path: null,
          scope: 'user',
          cwd: null,
          score: s.score,
          level: levelOf(s.score),
          first_seen: seen,
          last_seen: seen,
        });
      }
      hosts.push({
        id: hostId,
        org_id: org,
        hostname: `host-${h}`,
        os_user: 'user',
        os: 'linux 6.8.0',
        agent_version: '0.1.0',
        first_seen: seen,
        last_seen: seen,
        last_report_hash: null,
        last_raw_hash: null,
        last_scanned_at: seen,
        clients: '[]',
        server_count: PER_HOST,
        max_score: max,
        max_level: levelOf(max),
        search: `host-${h} user`,
      });
    }
    await withOrg(store, { orgId: org }, async (tx) => {
      await insertAll(tx, 'hosts', hosts, 1_500);
      await insertAll(tx, 'server_instances', instances, 2_000);
    });
    process.stdout.write(`\r  loaded ${Math.min(HOSTS, h0 + HOST_SLICE).toLocaleString('en')} hosts`);
  }
  process.stdout.write('\n');
  // no ANALYZE / VACUUM: serve's own maintenance has to keep the statistics (issue 12)
}

// the server closes idle keep-alive sockets during the long load: retry once on a reset
async function get(url, headers) {
  try {
    return await fetch(url, { headers });
  } catch {
    return fetch(url, { headers });
  }
}

async function measure(dialect) {
  const reuse = process.env.BENCH_REUSE;
  const data = reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-list-bench-'));
  const keep = Boolean(reuse) || process.env.BENCH_KEEP === '1';
  const pg = reuse ? JSON.parse(fs.readFileSync(path.join(data, 'bench.json'), 'utf8')).pg : dialect === 'postgres' ? await pgDatabase() : null;
  if (keep && !reuse) fs.writeFileSync(path.join(data, 'bench.json'), JSON.stringify({ pg: pg ? { url: pg.url } : null }));
  let serve = null;
  try {
    if (!reuse) {
      // 1. first start: migrations, the organisation and its owner
      serve = await startServe(data, { databaseUrl: pg?.url, built: true, nodeFlags: SERVE_FLAGS });
      const setup = await fetch(`${serve.base}/api/v1/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ setupToken: SETUP, orgName: 'Bench', email: 'bench@bench.test', password: PASSWORD }),
      });
      const org = (await json(setup.clone())).org.id;
      await stopServe(serve);
      serve = null;

      // 2. the inventory, loaded with serve stopped (the owner role on PostgreSQL, under its org scope)
      const { openDatabase } = await import(pathToFileURL(path.join(repo, 'packages/server/dist/index.js')).href);
      const store = openDatabase(pg ? { databaseUrl: pg.url, poolSize: 2 } : { dataDir: data });
      const t0 = Date.now();
      try {
        await bulkLoad(store, org);
      } finally {
        await store.close();
      }
      process.stdout.write(
        `  ${dialect}: loaded ${HOSTS.toLocaleString('en')} hosts, ${(HOSTS * PER_HOST).toLocaleString('en')} instances, ${SERVERS.toLocaleString('en')} servers in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
      if (keep) process.stdout.write(`  kept in ${data} (BENCH_REUSE=${data})\n`);
    }

    // 3. serve again: only its own start-up maintenance has seen the loaded tables
    serve = await startServe(data, { databaseUrl: pg?.url, built: true, nodeFlags: SERVE_FLAGS });
    const pid = serve.child.pid;
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rssOf(pid);
    process.stdout.write(`  serve started in ${serve.startS.toFixed(1)} s; RSS idle ${idle.rss.toFixed(0)} MB\n`);
    const login = await fetch(`${serve.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bench@bench.test', password: PASSWORD }),
    });
    await json(login.clone());
    const session = cookiesOf(login);
    const headers = { cookie: session.cookie };
    const key = await agentKey(serve.base, session, `bench ${Date.now()}`);
    const anyHost = (await json(await get(`${serve.base}/api/v1/hosts?limit=1&sort=hostname`, headers))).items[0].id;
    const queries = [
      ['default (score desc)', ''],
      ['sort=name', 'sort=name'],
      ['sort=hosts', 'sort=hosts'],
      ['sort=lastSeen', 'sort=lastSeen'],
      ['level=critical,high', 'level=critical,high'],
      ['q=server-123', 'q=server-123'],
      ['client=cursor', 'client=cursor'],
      ['host=<one host>', `host=${anyHost}`],
      ['offset=10000', 'offset=10000'],
      ['limit=200', 'limit=200'],
    ];
    const cpu0 = cpuMsOf(pid);
    let asked = 0;
    for (const [label, qs] of queries.filter(([l]) => !ONLY.length || ONLY.some((o) => l.includes(o)))) {
      const url = `${serve.base}/api/v1/servers${qs ? `?${qs}` : ''}`;
      for (let i = 0; i < 5; i++) await (await get(url, headers)).arrayBuffer(); // warm up
      const times = [];
      let total = 0;
      const c0 = cpuMsOf(pid);
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        const res = await get(url, headers);
        const body = await res.json();
        times.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`${label}: ${res.status} ${JSON.stringify(body)}`);
        total = body.total;
      }
      asked += RUNS + 5;
      const cpuMs = (cpuMsOf(pid) - c0) / RUNS;
      times.sort((a, b2) => a - b2);
      const p95 = percentile(times, 95);
      process.stdout.write(
        `    ${label.padEnd(24)} p50 ${percentile(times, 50).toFixed(1).padStart(6)} ms   p95 ${p95.toFixed(1).padStart(6)} ms ${p95 < 50 ? '  ' : ' !'} serve CPU ${cpuMs.toFixed(1).padStart(5)} ms/req (total ${total})\n`,
      );
    }
    const afterList = rssOf(pid);
    process.stdout.write(`  RSS after ${asked} list requests ${afterList.rss.toFixed(0)} MB (serve CPU ${((cpuMsOf(pid) - cpu0) / 1000).toFixed(1)} s)\n`);

    // 4. a few changed reports (new hosts), one at a time, RSS sampled every 20 ms
    let peak = afterList.rss;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid).rss)), 20);
    const t1 = Date.now();
    const rev = 1 + (Math.floor(t1 / 1000) % 10_000); // changed on every run, also of a reused database
    try {
      for (let h = 0; h < REPORTS; h++) {
        const res = await fetch(`${serve.base}/api/v1/agent/report`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key, prefer: 'wait=30' },
          body: JSON.stringify(hostReport(h, rev)),
        });
        await json(res);
      }
    } finally {
      clearInterval(sampler);
    }
    const end = rssOf(pid);
    process.stdout.write(
      `  RSS while processing ${REPORTS} changed reports (${((Date.now() - t1) / 1000).toFixed(1)} s): peak ${Math.max(peak, end.rss).toFixed(0)} MB, after ${end.rss.toFixed(0)} MB, high-water mark ${end.hwm.toFixed(0)} MB (aim: <= 250 MB)\n`,
    );
  } finally {
    if (serve) await stopServe(serve);
    if (!keep) {
      fs.rmSync(data, { recursive: true, force: true });
      await pg?.drop();
    }
  }
}

async function main() {
  process.stdout.write(
    `servers list on ${os.cpus().length} cores, ${RUNS} requests per query (aim: p95 < 50 ms); load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  if (!serverDistPresent()) {
    process.stdout.write('  (packages/server/dist is missing: run `npm run build` first)\n');
    return;
  }
  if (DB !== 'postgres') await measure('sqlite');
  if (DB !== 'sqlite') {
    if (ADMIN_URL || process.env.BENCH_REUSE) await measure('postgres');
    else process.stdout.write('  postgres: skipped (set PALISADE_BENCH_DATABASE_URL or PALISADE_TEST_DATABASE_URL)\n');
  }
  process.stdout.write(
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`servers-list bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
