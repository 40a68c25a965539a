// Where a changed report's and an unchanged re-scan's time goes, in-process: the ingest queue
// (services/ingest/queue.ts, as the route uses it, with the route's audit hook) on an aged
// database (bench/ingest/age.mjs), N hosts' first reports, then N changed reports (a new
// revision of each host), then N unchanged re-scans (same servers, a new scan time) and N in
// other bytes (keys reversed: the content-hash path). Prints the time of each phase and the
// SQL statements (and PostgreSQL round trips) per report, counted at the driver.
// Run: node --conditions=source --import tsx [--cpu-prof --cpu-prof-dir=DIR] bench/ingest/profile-ingest.mjs
//        [--db sqlite|postgres] [--n 200] [--age 5000] [--log: print each statement of one changed and one unchanged report]
// PostgreSQL: PALISADE_TEST_DATABASE_URL (a superuser URL; a fresh database is made and dropped).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bigReport, hostReport, withScanTime } from './reports.mjs';
import { pgDatabase } from './inproc.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name, def) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : def);
const dialect = arg('--db', 'sqlite');
const N = Number(arg('--n', 200));
const AGE = Number(arg('--age', 5000));
const LOG = process.argv.includes('--log');
/** --big: also the 4 MB report (1,200 servers x 10 tools): first, all servers changed, with statement times */
const BIG = process.argv.includes('--big');
/** --profile DIR: a CPU profile of the 'changed again' phase and one of the two unchanged phases (inspector, this thread only) */
const PROFILE = arg('--profile', null);
const { Session } = await import('node:inspector/promises');
const session = PROFILE ? new Session() : null;
session?.connect();
async function profiled(file, fn) {
  if (!session) return fn();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(PROFILE, { recursive: true });
    fs.writeFileSync(path.join(PROFILE, file), JSON.stringify(profile));
  }
}

const require = createRequire(path.join(repo, 'packages/server/package.json'));
const counts = { statements: 0, trips: 0 };
/** time per statement shape (SQL text up to its first 70 characters), while `timing` */
const timed = new Map();
let timing = false;
const shape = (text) => text.replace(/\s+/g, ' ').replace(/\$\d+/g, '?').slice(0, 90);
const addTime = (text, ms) => {
  const k = shape(text);
  const t = timed.get(k) ?? { n: 0, ms: 0 };
  t.n++;
  t.ms += ms;
  timed.set(k, t);
};
let logging = false;
const logged = [];
/** the longest transaction of a phase (begin to commit: what another organisation's writes wait for on SQLite), wall and CPU ms */
const txSpan = { open: null, longest: { wall: 0, cpu: 0 } };
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function txMark(text) {
  const t = text.trimStart().slice(0, 6).toLowerCase();
  if (t.startsWith('begin')) txSpan.open = { wall: performance.now(), cpu: cpuMs() };
  else if ((t.startsWith('commit') || t.startsWith('rollba')) && txSpan.open) {
    const wall = performance.now() - txSpan.open.wall;
    if (wall > txSpan.longest.wall) txSpan.longest = { wall, cpu: cpuMs() - txSpan.open.cpu };
    txSpan.open = null;
  }
}
// count every statement at the driver (better-sqlite3 statements; pg client queries, where a
// multi-statement text is one round trip of several statements)
{
  const Sqlite = require('better-sqlite3');
  const probe = new Sqlite(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1'));
  probe.close();
  for (const m of ['run', 'all', 'get', 'iterate']) {
    const orig = proto[m];
    proto[m] = function (...a) {
      txMark(this.source);
      counts.statements++;
      counts.trips++;
      if (logging) logged.push(this.source.replace(/\s+/g, ' ').slice(0, 220));
      if (!timing) return orig.apply(this, a);
      const t0 = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        addTime(this.source, performance.now() - t0);
      }
    };
  }
  const pg = require('pg');
  const q = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...a) {
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text === 'string') {
      if (this.processID !== pgAdminPid) txMark(text);
      counts.trips++;
      const n = text.split(';\n').length;
      counts.statements += n;
      if (logging) logged.push(`${n > 1 ? `[${n} in one trip] ` : ''}${text.replace(/\s+/g, ' ').slice(0, 220)}`);
    }
    if (!timing || typeof text !== 'string') return q.call(this, config, ...a);
    const t0 = performance.now();
    const r = q.call(this, config, ...a);
    if (r && typeof r.then === 'function') r.then(() => addTime(text, performance.now() - t0), () => undefined);
    return r;
  };
}

let pgAdminPid = -1;
const { openDatabase, migrate, prepareDatabase, withOrg } = await import(path.join(repo, 'packages/server/src/db/index.ts'));
const { IngestQueue } = await import(path.join(repo, 'packages/server/src/services/ingest/queue.ts'));
// the route's own audit hook, so a profiled report does the work a served one does
const { auditReportIngested } = await import(path.join(repo, 'packages/server/src/services/ingest/audit.ts'));

const data = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-prof-ingest-'));
const pgdb = dialect === 'postgres' ? await pgDatabase() : null;
if (pgdb) await prepareDatabase({ databaseUrl: pgdb.url });
else {
  const s = openDatabase({ dataDir: data });
  await migrate(s);
  await s.close();
}
const org = crypto.randomUUID();
{
  const s = openDatabase({ databaseUrl: pgdb?.url, dataDir: data, poolSize: 2 });
  await withOrg(s, { orgId: org }, (tx) => tx.insertInto('orgs').values({ id: org, name: 'Prof', created_at: new Date().toISOString() }).execute());
  await s.close();
}
if (AGE > 0) {
  const r = spawnSync(
    process.execPath,
    [path.join(repo, 'bench/ingest/age.mjs'), JSON.stringify(pgdb ? { dialect, url: pgdb.adminUrl, org, hosts: AGE } : { dialect, file: path.join(data, 'palisade.db'), org, hosts: AGE })],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`age.mjs: ${r.stderr}`);
}
const store = openDatabase({ databaseUrl: pgdb?.url, dataDir: data });
const { storageFor } = await import(path.join(repo, 'packages/server/src/db/storage.ts'));
await storageFor(store).maintain(store.db, 'migrated');
const scope = { orgId: org };
const failures = [];
const queue = new IngestQueue(store, {
  afterWrite: auditReportIngested,
  onError: (err) => failures.push(String(err?.stack ?? err)),
});
const from = { agentKeyId: null, ip: '127.0.0.1' };

function reversedKeys(v) {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)]));
  return v;
}

// CPU time (ms) of this process and of the PostgreSQL backends serving this database: a
// loaded machine stretches wall time, much less the CPU a report costs
const pgAdmin = pgdb ? new (require('pg').Client)({ connectionString: pgdb.adminUrl }) : null;
await pgAdmin?.connect();
if (pgAdmin) pgAdminPid = pgAdmin.processID;
const ticks = (pid) => {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
};
async function cpuNow() {
  const u = process.cpuUsage();
  let pgTicks = 0;
  if (pgAdmin) {
    const r = await pgAdmin.query('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    for (const { pid } of r.rows) pgTicks += ticks(pid);
  }
  return { node: (u.user + u.system) / 1000, pg: pgTicks * 10 };
}

async function phase(name, bodies, { concurrency = 16 } = {}) {
  const c0 = { ...counts };
  txSpan.longest = { wall: 0, cpu: 0 };
  // the longest the event loop was held (a 5 ms timer's largest lateness)
  const loop = { max: 0, last: performance.now() };
  const ticker = setInterval(() => {
    const t = performance.now();
    loop.max = Math.max(loop.max, t - loop.last - 5);
    loop.last = t;
  }, 5);
  const cpu0 = await cpuNow();
  const t0 = performance.now();
  const statuses = {};
  const acceptMs = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const ta = performance.now();
        const a = await queue.accept(scope, typeof body === 'function' ? body() : body, from);
        acceptMs.push(performance.now() - ta);
        const k = a.result ? 'unchanged' : a.status;
        statuses[k] = (statuses[k] ?? 0) + 1;
      }
    }),
  );
  await queue.drained();
  await queue.flushSeen();
  const ms = performance.now() - t0;
  clearInterval(ticker);
  const cpu1 = await cpuNow();
  const cpu = `CPU ${((cpu1.node - cpu0.node) / bodies.length).toFixed(2)} ms node${pgAdmin ? ` + ${((cpu1.pg - cpu0.pg) / bodies.length).toFixed(2)} ms PostgreSQL` : ''} per report`;
  const st = counts.statements - c0.statements;
  const trips = counts.trips - c0.trips;
  process.stdout.write(
    `${dialect} ${name.padEnd(22)} ${bodies.length} reports in ${(ms / 1000).toFixed(2)} s = ${((bodies.length * 1000) / ms).toFixed(1)}/s, ${(ms / bodies.length).toFixed(1)} ms each, ${cpu}; ${(st / bodies.length).toFixed(1)} statements, ${(trips / bodies.length).toFixed(1)} round trips per report; accept p99 ${acceptMs.sort((a, b) => a - b)[Math.floor(acceptMs.length * 0.99)].toFixed(0)} ms; longest transaction ${txSpan.longest.wall.toFixed(0)} ms (${txSpan.longest.cpu.toFixed(0)} ms CPU), longest event-loop block ${loop.max.toFixed(0)} ms ${JSON.stringify(statuses)}\n`,
  );
}

function statementTimes(label) {
  const list = [...timed].sort((a, b) => b[1].ms - a[1].ms);
  const total = list.reduce((n, [, t]) => n + t.ms, 0);
  process.stdout.write(`  statement time in '${label}' (wall time per statement, summed over concurrent reports): ${total.toFixed(0)} ms\n`);
  for (const [k, t] of list.slice(0, 18)) process.stdout.write(`  ${t.ms.toFixed(0).padStart(6)} ms ${String(t.n).padStart(5)}x  ${k}\n`);
  timed.clear();
}

if (BIG) {
  for (const [label, rev] of [
    ['big first', 0],
    ['big all changed', 1],
  ]) {
    timing = true;
    await profiled(`${label.replace(/ /g, '-')}.cpuprofile`, () => phase(label, [JSON.stringify(bigReport(1200, 10, { rev }))], { concurrency: 1 }));
    timing = false;
    statementTimes(label);
  }
}

const hosts = Array.from({ length: N }, (_, i) => 1000 + i);
await phase('first reports', hosts.map((h) => JSON.stringify(hostReport(h, 0))));
await phase('changed', hosts.map((h) => JSON.stringify(hostReport(h, 10))));
{
  const bodies = hosts.map((h) => JSON.stringify(hostReport(h, 20)));
  timing = true;
  await profiled('changed.cpuprofile', () => phase('changed again', bodies));
  timing = false;
}
statementTimes('changed again');
{
  const same = hosts.map((h) => withScanTime(hostReport(h, 20)));
  const other = hosts.map((h) => withScanTime(reversedKeys(hostReport(h, 20))));
  await profiled('unchanged.cpuprofile', async () => {
    for (let i = 0; i < (PROFILE ? 5 : 1); i++) {
      await phase('unchanged', same);
      await phase('unchanged other bytes', other);
    }
  });
}
if (LOG) {
  for (const [label, body] of [
    ['changed', JSON.stringify(hostReport(1000, 30))],
    ['unchanged', withScanTime(hostReport(1000, 30))()],
    ['unchanged other bytes', withScanTime(reversedKeys(hostReport(1000, 30)))()],
  ]) {
    logged.length = 0;
    logging = true;
    await queue.accept(scope, body, from);
    await queue.drained();
    await queue.flushSeen();
    logging = false;
    process.stdout.write(`\n-- ${label}: ${logged.length} statements\n${logged.map((s, i) => `${String(i + 1).padStart(3)} ${s}`).join('\n')}\n`);
  }
}
{
  const { prescoreUse } = await import(path.join(repo, 'packages/server/src/services/ingest/pipeline.ts'));
  if (prescoreUse) process.stdout.write(`large reports re-scored before their transaction: ${JSON.stringify(prescoreUse)}\n`);
}
if (failures.length) process.stdout.write(`FAILURES: ${failures.length}\n${failures.slice(0, 3).join('\n')}\n`);
await queue.stop();
await pgAdmin?.end();
await store.close();
fs.rmSync(data, { recursive: true, force: true });
await pgdb?.drop();
