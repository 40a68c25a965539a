// Issue 12: the server list stays an index walk at fleet size, with only the product's own
// maintenance. An inventory of 3,000 definitions and 12,000 instances is written straight into
// the tables (as a bulk change would leave them, no statistics yet); then the maintenance
// serve runs at start-up (migrate's, as the owner on PostgreSQL) and every list query shape
// (each sort, each filter, a text query, a host, a deep page) is captured and EXPLAINed: none
// may read a table whole (SQLite: EXPLAIN QUERY PLAN with no `SCAN <table>` outside an index;
// PostgreSQL: EXPLAIN with sequential scans priced out, no `Seq Scan`). PostgreSQL's start-up
// maintenance analyzes (and vacuums) the tables it owns that a bulk change left behind.
import crypto from 'node:crypto';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, withOrg, type Db, type OrgScope } from '../../src/db/index.js';
import { storageFor } from '../../src/db/storage.js';
import { listServers, type ServerListQuery } from '../../src/services/queries.js';
import { syncServerIndex } from '../../src/services/server-index.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { capturingStore, openInventoryDb, tableScan, type InventoryDb } from './helpers.js';

const SERVERS = 3000;
const HOSTS = 2400;
const PER_HOST = 5;
const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'zed'];
const LEVELS = ['none', 'low', 'medium', 'high', 'critical'] as const;

/** A deterministic inventory: popular definitions on many hosts, like a fleet's. */
async function bulkInventory(store: Db, scope: OrgScope): Promise<{ hostId: string }> {
  let seed = 7;
  const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const org = scope.orgId;
  const now = Date.UTC(2026, 11, 5);
  const iso = (ms: number) => new Date(ms).toISOString();
  const servers = Array.from({ length: SERVERS }, (_, i) => {
    const score = Math.floor(rand() * 101);
    const rank = score >= 85 ? 4 : score >= 60 ? 3 : score >= 30 ? 2 : score >= 1 ? 1 : 0;
    return { id: crypto.randomUUID(), i, score, rank, hosts: new Set<number>(), instances: 0, clients: new Set<string>() };
  });
  const hosts: Array<Record<string, unknown>> = [];
  const instances: Array<Record<string, unknown>> = [];
  for (let h = 0; h < HOSTS; h++) {
    const hostId = crypto.randomUUID();
    const seen = iso(now - Math.floor(rand() * 72 * 3_600_000));
    for (let j = 0; j < PER_HOST; j++) {
      const s = servers[Math.floor(SERVERS * rand() ** 3)]!;
      const client = CLIENTS[Math.floor(rand() * CLIENTS.length)]!;
      s.hosts.add(h);
      s.instances++;
      s.clients.add(client);
      instances.push({
        id: crypto.randomUUID(),
        org_id: org,
        server_id: s.id,
        host_id: hostId,
        instance_key: `${h}-${j}`,
        client,
        config_path: `/home/u${h}/mcp.json`,
        project_path: null,
        scope: 'user',
        cwd: null,
        score: s.score,
        level: LEVELS[s.rank],
        first_seen: seen,
        last_seen: seen,
      });
    }
    hosts.push({
      id: hostId,
      org_id: org,
      hostname: `plan-host-${h}`,
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
      max_score: 0,
      max_level: 'none',
      search: `plan-host-${h} user`,
    });
  }
  const rows = servers.map((s) => {
    const name = `plan-server-${s.i}`;
    const def = { name, transport: 'stdio', command: 'npx', args: ['-y', `@plan/${name}@1.0.0`] };
    return {
      id: s.id,
      org_id: org,
      fingerprint: crypto.createHash('sha256').update(JSON.stringify(def)).digest('hex'),
      name,
      transport: 'stdio',
      command: 'npx',
      url: null,
      package_ecosystem: 'npm',
      package_name: `@plan/${name}`,
      package_version: '1.0.0',
      definition: JSON.stringify(def),
      score: s.score,
      level: LEVELS[s.rank],
      level_rank: s.rank,
      finding_count: 0,
      host_count: s.hosts.size,
      instance_count: s.instances,
      clients: [...s.clients].sort().join(','),
      search: `${name} npx @plan/${name}`,
      first_seen: iso(now - 30 * 86_400_000),
      last_seen: iso(now - Math.floor(rand() * 86_400_000)),
    };
  });
  const insert = async (
    tx: Parameters<Parameters<typeof withOrg>[2]>[0],
    table: 'servers' | 'hosts' | 'server_instances',
    list: Array<Record<string, unknown>>,
  ) => {
    for (let i = 0; i < list.length; i += 200)
      await tx
        .insertInto(table)
        .values(list.slice(i, i + 200) as never)
        .execute();
  };
  await withOrg(store, scope, async (tx) => {
    await insert(tx, 'servers', rows);
    await insert(tx, 'hosts', hosts);
    await insert(tx, 'server_instances', instances);
  });
  for (let i = 0; i < rows.length; i += 1000)
    await withOrg(store, scope, (tx) =>
      syncServerIndex(
        tx,
        scope,
        rows.slice(i, i + 1000).map((r) => r.id),
        store.dialect,
      ),
    );
  return { hostId: hosts[0]!.id as string };
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`server list query plans on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    let org: OrgScope;
    let hostId: string;
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 1);
      org = db.orgs[0]!;
      ({ hostId } = await bulkInventory(db.store, org));
      if (dialect === 'postgres') await statsFlushed(db);
      // serve's start-up maintenance (migrate's; on PostgreSQL as the owner of the tables)
      const owner = dialect === 'postgres' ? openDatabase({ databaseUrl: db.t.migrationUrl, poolSize: 1 }) : db.store;
      try {
        await storageFor(owner).maintain(owner.db, 'migrated');
      } finally {
        if (owner !== db.store) await owner.close();
      }
    }, 120_000);
    afterAll(async () => {
      await db?.close();
    });

    it('refreshes the statistics of the tables a bulk change left behind (start-up maintenance)', async () => {
      if (dialect === 'sqlite') {
        const file = new SqliteDatabase(path.join(db.t.dataDir, 'palisade.db'), { readonly: true });
        try {
          // every inventory table has statistics, and they count its rows (estimated from a bounded sample)
          const rows = file
            .prepare(
              "select tbl, max(cast(stat as integer)) as n from sqlite_stat1 where tbl in ('servers', 'hosts', 'server_instances') group by tbl order by tbl",
            )
            .all() as Array<{ tbl: string; n: number }>;
          expect(rows.map((r) => r.tbl)).toEqual(['hosts', 'server_instances', 'servers']);
          expect(rows.every((r) => r.n > 0)).toBe(true);
        } finally {
          file.close();
        }
        return;
      }
      const admin = new pg.Client({ connectionString: db.t.adminUrl });
      await admin.connect();
      try {
        const r = await admin.query<{ relname: string; analyzed: boolean; vacuumed: boolean; n_mod_since_analyze: string }>(
          `select relname, last_analyze is not null as analyzed, last_vacuum is not null as vacuumed, n_mod_since_analyze from pg_stat_user_tables where relname in ('servers', 'hosts', 'server_instances') order by relname`,
        );
        expect(r.rows.map((x) => [x.relname, x.analyzed, x.vacuumed, Number(x.n_mod_since_analyze)])).toEqual([
          ['hosts', true, true, 0],
          ['server_instances', true, true, 0],
          ['servers', true, true, 0],
        ]);
      } finally {
        await admin.end();
      }
      // nothing changed since: the next pass reads the catalog and refreshes nothing
      const before = await tableStats(db);
      const owner = openDatabase({ databaseUrl: db.t.migrationUrl, poolSize: 1 });
      try {
        await storageFor(owner).maintain(owner.db, 'periodic');
      } finally {
        await owner.close();
      }
      expect(await tableStats(db)).toEqual(before);
    });

    it('walks an index for every list query shape (no table read whole)', async () => {
      const { store: logging, captured } = capturingStore(db);
      const shapes: Array<Partial<ServerListQuery>> = [
        {},
        { sort: 'name' },
        { sort: 'hosts' },
        { sort: 'lastSeen', order: 'asc' },
        { level: ['critical', 'high'] },
        { q: 'plan-server-123' },
        { client: 'cursor' },
        { host: hostId },
        { offset: 2000 },
        { limit: 200 },
      ];
      try {
        const scans: string[] = [];
        for (const shape of shapes) {
          captured.length = 0;
          const page = await withOrg(logging, org, (tx) => listServers(tx, org, { limit: 50, offset: 0, ...shape }));
          expect(page.total).toBeGreaterThan(0);
          const hot = captured.filter((q) => /^\s*(select|with)/i.test(q.sql) && !/set_config/i.test(q.sql));
          expect(hot.length).toBeGreaterThanOrEqual(2); // the page and its total at least
          for (const q of hot) {
            const plan = await tableScan(logging, org, q);
            if (plan) scans.push(`${JSON.stringify(shape)}: ${q.sql}\n${plan}`);
          }
        }
        expect(scans).toEqual([]);
      } finally {
        await logging.db.destroy();
      }
    }, 120_000);
  });
}

/** The analyze and vacuum counts of the inventory tables (PostgreSQL, read as the superuser). */
async function tableStats(db: InventoryDb) {
  const admin = new pg.Client({ connectionString: db.t.adminUrl });
  await admin.connect();
  try {
    return (
      await admin.query(
        `select relname, analyze_count, vacuum_count from pg_stat_user_tables where relname in ('servers', 'hosts', 'server_instances') order by relname`,
      )
    ).rows;
  } finally {
    await admin.end();
  }
}

/** PostgreSQL publishes a backend's row counts a moment after its commits: wait until the inserts show. */
async function statsFlushed(db: InventoryDb): Promise<void> {
  const admin = new pg.Client({ connectionString: db.t.adminUrl });
  await admin.connect();
  try {
    for (let i = 0; i < 200; i++) {
      const r = await admin.query<{ n: string }>(`select n_ins_since_vacuum as n from pg_stat_user_tables where relname = 'server_instances'`);
      if (Number(r.rows[0]?.n ?? 0) >= HOSTS * PER_HOST) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.end();
  }
}
