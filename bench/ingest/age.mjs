// Ages a Palisade database for the ingest bench, in its own process while `serve` is stopped:
// BENCH_AGE_HOSTS hosts (default 5,000; the full size is 100,000) with 10 server
// instances each, of hosts/5 server definitions (popular ones on many hosts), written straight
// into the tables with multi-row INSERTs (SQLite: the data folder's file; PostgreSQL: the
// admin URL, which is not subject to row-level security). The list's client/text side tables
// are not filled (the bench's list queries do not use them). No ANALYZE here: the statistics
// are the product's business (serve runs its own maintenance when it starts).
// argv: JSON { dialect, file | url, org, hosts }; prints JSON { hostId } (an aged host's id).
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const job = JSON.parse(process.argv[2]);
const require = createRequire(new URL('../../packages/server/package.json', import.meta.url));
const HOSTS = job.hosts;
const PER_HOST = 10;
const SERVERS = Math.max(50, Math.floor(HOSTS / 5));
const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'zed'];
const levelOf = (s) => (s >= 85 ? 'critical' : s >= 60 ? 'high' : s >= 30 ? 'medium' : s >= 1 ? 'low' : 'none');
const rank = { critical: 4, high: 3, medium: 2, low: 1, none: 0 };
let seed = 42;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const now = Date.now();
const iso = (ms) => new Date(ms).toISOString();
const org = job.org;

const servers = Array.from({ length: SERVERS }, (_, i) => {
  const name = `aged-server-${i}`;
  const score = Math.floor(rand() * 101);
  const def = {
    name,
    transport: 'stdio',
    command: 'npx',
    args: ['-y', `@aged/${name}@1.0.0`],
    url: null,
    package: { ecosystem: 'npm', name: `@aged/${name}`, version: '1.0.0' },
    envNames: [],
    headerNames: [],
    tlsVerifyDisabled: false,
    autoApprove: [],
  };
  return {
    id: crypto.randomUUID(),
    org_id: org,
    fingerprint: crypto.createHash('sha256').update(JSON.stringify(def)).digest('hex'),
    name,
    transport: 'stdio',
    command: 'npx',
    url: null,
    package_ecosystem: 'npm',
    package_name: `@aged/${name}`,
    package_version: '1.0.0',
    definition: JSON.stringify(def),
    score,
    level: levelOf(score),
    level_rank: rank[levelOf(score)],
    finding_count: 0,
    host_count: 0,
    instance_count: 0,
    clients: '',
    search: `${name} npx @aged/${name}`,
    first_seen: iso(now - 30 * 86_400_000),
    last_seen: iso(now - Math.floor(rand() * 86_400_000)),
  };
});

function* slices() {
  const SLICE = 5_000;
  for (let h0 = 0; h0 < HOSTS; h0 += SLICE) {
    const hosts = [];
    const instances = [];
    for (let h = h0; h < Math.min(HOSTS, h0 + SLICE); h++) {
      const hostId = crypto.randomUUID();
      const seen = iso(now - Math.floor(rand() * 72 * 3_600_000));
      let max = 0;
      const used = new Set();
      for (let j = 0; j < PER_HOST; j++) {
        const s = servers[Math.floor(SERVERS * rand() ** 3)];
        const client = CLIENTS[Math.floor(rand() * CLIENTS.length)];
        if (!used.has(s.id)) s.host_count++;
        used.add(s.id);
        s.instance_count++;
        s.clients = [...new Set([...s.clients.split(',').filter(Boolean), client])].sort().join(',');
        max = Math.max(max, s.score);
        instances.push({
          id: crypto.randomUUID(),
          org_id: org,
          server_id: s.id,
          host_id: hostId,
          instance_key: `aged-${h}-${j}`,
          client,
          config_path: `/home/u${h}/.config/${client}/mcp.json`,
          project_path: null,
          scope: 'user',
          cwd: null,
          score: s.score,
          level: s.level,
          first_seen: seen,
          last_seen: seen,
        });
      }
      hosts.push({
        id: hostId,
        org_id: org,
        hostname: `aged-host-${h}`,
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
        search: `aged-host-${h} user`,
      });
    }
    yield { hosts, instances };
  }
}

function insertSql(table, rows, param) {
  const cols = Object.keys(rows[0]);
  let n = 0;
  const values = rows.map(() => `(${cols.map(() => param(++n)).join(',')})`).join(',');
  return { text: `insert into ${table} (${cols.join(',')}) values ${values}`, values: rows.flatMap((r) => cols.map((c) => r[c])) };
}

let firstHost = null;
if (job.dialect === 'sqlite') {
  const Database = require('better-sqlite3');
  const db = new Database(job.file);
  db.pragma('journal_mode = WAL');
  db.pragma('cache_size = -262144');
  const write = (table, rows, per) => {
    for (let i = 0; i < rows.length; i += per) {
      const q = insertSql(table, rows.slice(i, i + per), () => '?');
      db.prepare(q.text).run(...q.values);
    }
  };
  const allInstances = [];
  db.transaction(() => {
    for (const { hosts, instances } of slices()) {
      firstHost ??= hosts[0].id;
      write('hosts', hosts, 500);
      allInstances.push(instances);
    }
    write('servers', servers, 400);
    for (const ins of allInstances) write('server_instances', ins, 400);
  })();
  db.close();
} else {
  const { default: pg } = await import(require.resolve('pg'));
  const c = new pg.Client({ connectionString: job.url });
  await c.connect();
  const write = async (table, rows, per) => {
    for (let i = 0; i < rows.length; i += per) {
      const q = insertSql(table, rows.slice(i, i + per), (n) => `$${n}`);
      await c.query(q.text, q.values);
    }
  };
  const all = [...slices()];
  firstHost = all[0].hosts[0].id;
  await c.query('begin');
  for (const { hosts } of all) await write('hosts', hosts, 2000);
  await write('servers', servers, 2000);
  for (const { instances } of all) await write('server_instances', instances, 2000);
  await c.query('commit');
  await c.end();
}
process.stdout.write(`${JSON.stringify({ hostId: firstHost, hosts: HOSTS, instances: HOSTS * PER_HOST, servers: SERVERS })}\n`);
