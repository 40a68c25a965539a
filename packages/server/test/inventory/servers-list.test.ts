// The server list's client and text filters against real SQLite and PostgreSQL (app role, RLS
// on). They read the side tables of migration 021 (services/server-index.ts); every answer is
// compared with the scan they replaced (LIKE on servers.search and on the clients comma list),
// after ingest, after clients change, after a host stops running a server and after the
// migration's backfill; and another organisation's side rows stay out of sight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pg from 'pg';
import { sql } from 'kysely';
import { levelRank, type Level } from '@palisade/core';
import { openDatabase, withOrg, type OrgScope } from '../../src/db/index.js';
import { ingestReport } from '../../src/services/ingest.js';
import { likePattern, listServers, type ServerListQuery } from '../../src/services/queries.js';
import { serverIndexRows, TRIGRAM_SCAN_AT, trigrams, type ServerIndexTables } from '../../src/services/server-index.js';
import { dialects, migrateTestDatabase, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, testRules } from './fixtures.js';
import { openInventoryDb, type InventoryDb } from './helpers.js';

const at = (day: number) => new Date(Date.UTC(2026, 10, day, 10));
type Filters = { q?: string; client?: string; level?: Level[]; host?: string };

// the servers of the main org: odd names for the text filter, odd clients for the client filter
const NAMES = ['github-tools', 'GitHub-Mirror', 'files', '100%-sure', 'under_score', 'back\\slash', 'Ünïcode-Straße', 'shell-runner', 'gi', 'git'];

describe('server index helpers', () => {
  it('splits text into distinct code-point trigrams with ASCII letters folded', () => {
    expect(trigrams('ab')).toEqual([]);
    expect(trigrams('GitGit')).toEqual(['git', 'itg', 'tgi']);
    expect(trigrams('ÜßÄx')).toEqual(['ÜßÄ', 'ßÄx']); // only A-Z fold
    expect(trigrams('a😀bc')).toEqual(['a😀b', '😀bc']);
  });
});

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`server list filters on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    let A: OrgScope;
    let B: OrgScope;
    let C: OrgScope;
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 3);
      [A, B, C] = db.orgs as [OrgScope, OrgScope, OrgScope];
    });
    afterAll(async () => {
      await db?.close();
    });

    const list = (org: OrgScope, f: Filters) => withOrg(db.store, org, (tx) => listServers(tx, org, { limit: 5000, offset: 0, ...f } as ServerListQuery));

    /** The scan the side tables replaced: the rows and total the list gave before. */
    async function scan(org: OrgScope, f: Filters): Promise<{ ids: string[]; total: number }> {
      const rows = await withOrg(db.store, org, (tx) => {
        let qb = tx.selectFrom('servers').select('id').where('org_id', '=', org.orgId).where('instance_count', '>', 0);
        if (f.level?.length) qb = qb.where('level_rank', 'in', f.level.map((l) => levelRank[l]));
        if (f.q) qb = qb.where(sql<boolean>`search like ${likePattern(f.q.slice(0, 200))} escape '\\'`);
        if (f.client) qb = qb.where(sql<boolean>`',' || clients || ',' like ${likePattern(`,${f.client},`)} escape '\\'`);
        if (f.host) qb = qb.where('id', 'in', tx.selectFrom('server_instances').select('server_id').where('org_id', '=', org.orgId).where('host_id', '=', f.host));
        return qb.orderBy('score', 'desc').orderBy('id', 'desc').execute();
      });
      return { ids: rows.map((r) => r.id), total: rows.length };
    }

    async function expectAsScan(org: OrgScope, f: Filters): Promise<string[]> {
      const got = await list(org, f);
      const want = await scan(org, f);
      expect({ f, ids: got.items.map((s) => s.id), total: got.total }).toEqual({ f, ...want });
      return got.items.map((s) => s.name);
    }

    const names = async (org: OrgScope, f: Filters) => (await list(org, f)).items.map((s) => s.name).sort();

    /** The side rows of one org as stored, and as a rebuild from its servers would write them. */
    async function sideRows(org: OrgScope) {
      return withOrg(db.store, org, async (tx) => {
        const t = tx.withTables<ServerIndexTables>();
        const o = org.orgId;
        const sort = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
        const stored = {
          state: sort(await t.selectFrom('server_index_state').select(['org_id', 'server_id', 'clients', 'search']).where('org_id', '=', o).execute()),
          clients: sort(await t.selectFrom('server_clients').select(['org_id', 'client', 'server_id']).where('org_id', '=', o).execute()),
          trigrams: sort(await t.selectFrom('server_trigrams').select(['org_id', 'trigram', 'server_id']).where('org_id', '=', o).execute()),
        };
        const servers = await tx.selectFrom('servers').select(['id', 'instance_count', 'clients', 'search']).where('org_id', '=', o).execute();
        const rows = servers.map((s) => serverIndexRows(dialect, o, { ...s, instance_count: Number(s.instance_count) }));
        const rebuilt = { state: sort(rows.map((r) => r.state)), clients: sort(rows.flatMap((r) => r.clients)), trigrams: sort(rows.flatMap((r) => r.trigrams)) };
        return { stored, rebuilt };
      });
    }
    async function expectExactSideRows(org: OrgScope) {
      const { stored, rebuilt } = await sideRows(org);
      expect(stored).toEqual(rebuilt);
      return stored;
    }

    const ingestA = async (hostname: string, servers: Parameters<typeof report>[0], day: number) => ingestReport(db.store, A, report(servers, { hostname }), { rules: testRules, now: at(day) });

    it('client and text filters give the scan rows after ingest', async () => {
      // h1: everything in claude-desktop, some in cursor; h2: a few in vscode and a mixed-case client
      await ingestA('h1', [...NAMES.map((name) => server({ name })), ...['github-tools', 'files', 'gi'].map((name) => server({ name, client: 'cursor' }))], 1);
      await ingestA('h2', [server({ name: 'github-tools', client: 'vscode' }), server({ name: 'shell-runner', command: 'bash', args: ['-c', 'x'], client: 'Zed-Preview' }), server({ name: 'under_score', client: '100%client' })], 1);

      expect(await names(A, { client: 'cursor' })).toEqual(['files', 'gi', 'github-tools']);
      expect(await names(A, { client: 'vscode' })).toEqual(['github-tools']);
      expect(await names(A, { client: '100%client' })).toEqual(['under_score']);
      expect(await names(A, { client: '100%' })).toEqual([]);
      expect(await names(A, { client: 'cursor-' })).toEqual([]);
      // PostgreSQL's LIKE was case-sensitive on the stored id, SQLite's folded ASCII: both kept
      expect(await names(A, { client: 'zed-preview' })).toEqual(dialect === 'sqlite' ? ['shell-runner'] : []);
      expect(await names(A, { client: 'Zed-Preview' })).toEqual(dialect === 'sqlite' ? ['shell-runner'] : []);
      expect(await names(A, { q: 'github' })).toEqual(['GitHub-Mirror', 'github-tools']);
      expect(await names(A, { q: 'GITHUB-t' })).toEqual(['github-tools']);
      expect(await names(A, { q: '100%' })).toEqual(['100%-sure']);
      expect(await names(A, { q: 'r_s' })).toEqual(['under_score']);
      expect(await names(A, { q: 'k\\s' })).toEqual(['back\\slash']);
      expect(await names(A, { q: 'ÜNÏ' })).toEqual(['Ünïcode-Straße']);
      expect(await names(A, { q: 'strasse' })).toEqual([]);
      expect(await names(A, { q: 'gi' })).toContain('gi'); // two characters: the scan
      expect(await names(A, { q: 'nothing-like-this' })).toEqual([]);

      const queries: Filters[] = [
        { client: 'cursor' },
        { client: 'claude-desktop' },
        { client: 'vscode' },
        { client: 'zed-preview' },
        { client: 'ZED-PREVIEW' },
        { client: '100%client' },
        { client: '_' },
        { client: 'claude-desktop,cursor' }, // a comma: the old LIKE on the list, as before
        { client: 'cursor', q: 'git' },
        { client: 'cursor', level: ['none'] },
        { client: 'claude-desktop', level: ['critical', 'high'] },
        { q: 'git' },
        { q: 'GIT' },
        { q: 'ub-' },
        { q: '%' },
        { q: '_' },
        { q: '\\' },
        { q: 'npx' },
        { q: '@example/' },
        { q: 'straße' },
        { q: 'tools', level: ['none'] },
      ];
      for (const f of queries) await expectAsScan(A, f);
      const host = await withOrg(db.store, A, (tx) => tx.selectFrom('hosts').select('id').where('org_id', '=', A.orgId).where('hostname', '=', 'h2').executeTakeFirstOrThrow());
      await expectAsScan(A, { client: 'vscode', host: host.id });
      await expectAsScan(A, { q: 'git', host: host.id });
      await expectExactSideRows(A);
    });

    it("follows a server whose clients change, and one a host stops running", async () => {
      // h1 moves files from cursor to vscode; h2 adds files in cursor again on another day
      await ingestA('h1', [...NAMES.map((name) => server({ name })), server({ name: 'github-tools', client: 'cursor' }), server({ name: 'gi', client: 'cursor' }), server({ name: 'files', client: 'vscode' })], 2);
      expect(await names(A, { client: 'cursor' })).toEqual(['gi', 'github-tools']);
      expect(await names(A, { client: 'vscode' })).toEqual(['files', 'github-tools']);
      await expectExactSideRows(A);

      // h2 stops running github-tools (vscode) and under_score (100%client, its only instance there)
      await ingestA('h2', [server({ name: 'shell-runner', command: 'bash', args: ['-c', 'x'], client: 'Zed-Preview' })], 3);
      expect(await names(A, { client: 'vscode' })).toEqual(['files']);
      expect(await names(A, { client: '100%client' })).toEqual([]);
      expect((await list(A, { client: '100%client' })).total).toBe(0);

      // h1 stops running under_score and github-tools everywhere: gone from every filter
      await ingestA('h1', [...NAMES.filter((n) => n !== 'under_score' && n !== 'github-tools').map((name) => server({ name })), server({ name: 'gi', client: 'cursor' }), server({ name: 'files', client: 'vscode' })], 4);
      expect(await names(A, { q: 'under' })).toEqual([]);
      expect(await names(A, { q: 'github' })).toEqual(['GitHub-Mirror']);
      expect(await names(A, { client: 'cursor' })).toEqual(['gi']);
      expect((await list(A, { client: 'claude-desktop' })).items.map((s) => s.name)).not.toContain('github-tools');
      for (const f of [{ client: 'cursor' }, { client: 'claude-desktop' }, { client: 'vscode' }, { q: 'under' }, { q: 'git' }, { q: 'score' }] as Filters[]) await expectAsScan(A, f);
      const state = await withOrg(db.store, A, (tx) =>
        tx.withTables<ServerIndexTables>().selectFrom('server_index_state as x').innerJoin('servers as s', 's.id', 'x.server_id').select(['s.name', 'x.clients']).where('x.org_id', '=', A.orgId).where('s.name', '=', 'under_score').execute(),
      );
      expect(state).toEqual([{ name: 'under_score', clients: '' }]);

      // and back again on another host
      await ingestA('h3', [server({ name: 'under_score', client: 'cursor' })], 5);
      expect(await names(A, { client: 'cursor' })).toEqual(['gi', 'under_score']);
      expect(await names(A, { q: 'under' })).toEqual(['under_score']);
      await expectExactSideRows(A);
    });

    it('fills the side tables from existing rows when migration 021 runs on an upgraded database', async () => {
      const before = await expectExactSideRows(A);
      expect(before.trigrams.length).toBeGreaterThan(100);
      // the database as it was before 021: no side tables, the migration not recorded
      // (as the owner role on PostgreSQL: the runtime role may not drop tables)
      const owner = db.t.migrationUrl ? openDatabase({ databaseUrl: db.t.migrationUrl, poolSize: 1 }) : db.store;
      for (const t of ['server_trigrams', 'server_clients', 'server_index_state']) await sql`drop table ${sql.table(t)}`.execute(owner.db);
      await owner.db.deleteFrom('palisade_migrations').where('name', '=', '021_server_list_side_tables').execute();
      if (owner !== db.store) await owner.close();
      expect(await migrateTestDatabase(db.t)).toEqual(['021_server_list_side_tables']);
      expect(await expectExactSideRows(A)).toEqual(before);
      for (const f of [{ client: 'cursor' }, { client: 'vscode' }, { q: 'git' }, { q: 'score' }, { q: 'ünï' }] as Filters[]) await expectAsScan(A, f);
      // and ingest goes on keeping them
      await ingestA('h3', [server({ name: 'under_score', client: 'cursor' }), server({ name: 'late-arrival', client: 'vscode' })], 6);
      expect(await names(A, { client: 'vscode' })).toEqual(['files', 'late-arrival']);
      expect(await names(A, { q: 'arriv' })).toEqual(['late-arrival']);
      await expectExactSideRows(A);
    });

    it('matches the scan for any text and client query (property, fixed seed)', async () => {
      const texts = (await withOrg(db.store, A, (tx) => tx.selectFrom('servers').select('search').where('org_id', '=', A.orgId).execute())).map((r) => r.search);
      const flipCase = (s: string, mask: number) => Array.from(s, (ch, i) => ((mask >> i % 16) & 1 ? ch.toUpperCase() : ch)).join('');
      const fromText = fc.record({ t: fc.constantFrom(...texts), start: fc.nat(60), len: fc.integer({ min: 1, max: 12 }), mask: fc.nat(0xffff) }).map(({ t, start, len, mask }) => flipCase(t.slice(start % t.length, (start % t.length) + len), mask));
      const noise = fc.string({ unit: fc.constantFrom('a', 'g', 'i', 't', '-', '%', '_', '\\', 'ß', 'Ü', 'ü', '1', '0', ' ', '@', '/'), minLength: 1, maxLength: 8 });
      const client = fc.constantFrom(undefined, 'cursor', 'vscode', 'claude-desktop', 'CURSOR', 'zed-preview', '100%client', 'c_rsor', 'claude-desktop,cursor', 'nope');
      await fc.assert(
        fc.asyncProperty(fc.option(fc.oneof(fromText, noise), { nil: undefined }), client, fc.option(fc.constantFrom<Level[]>(['none'], ['critical', 'high']), { nil: undefined }), async (q, c, level) => {
          await expectAsScan(A, { q, client: c, level });
        }),
        { seed: 42, numRuns: 150 },
      );
    });

    it('counts pieces in two rounds and scans when even the rarest piece is common', async () => {
      // 2,100 servers named bulk-0 .. bulk-2099 in one org of their own
      const bulk = Array.from({ length: 2100 }, (_, i) => server({ name: `bulk-${i}`, client: i % 3 === 0 ? 'cursor' : 'vscode' }));
      await ingestReport(db.store, C, report(bulk, { hostname: 'bulk-host' }), { rules: testRules, now: at(7) });
      expect(TRIGRAM_SCAN_AT).toBeLessThanOrEqual(2100);
      expect((await expectAsScan(C, { q: 'bulk-' })).length).toBe(2100); // every piece common: the scan
      expect((await expectAsScan(C, { q: 'BULK-1' })).length).toBe(1111); // all pieces past the first count
      expect((await expectAsScan(C, { q: 'bulk-12' })).length).toBe(111);
      expect((await expectAsScan(C, { q: 'lk-209' })).length).toBe(11);
      expect((await expectAsScan(C, { client: 'cursor' })).length).toBe(700);
      await expectAsScan(C, { client: 'cursor', q: 'k-20' });
      await expectAsScan(C, { client: 'vscode', level: ['none'] });
      const paged = await withOrg(db.store, C, (tx) => listServers(tx, C, { limit: 50, offset: 600, client: 'cursor', sort: 'name' }));
      expect(paged.total).toBe(700);
      expect(paged.items).toHaveLength(50);
      await expectExactSideRows(C);
    }, 60_000);

    it("never lets another organisation see or reach its side-table rows", async () => {
      // B runs a server of the same name in the same client as A
      await ingestReport(db.store, B, report([server({ name: 'github-tools', client: 'cursor' }), server({ name: 'b-only', client: 'cursor' })], { hostname: 'b-host' }), { rules: testRules, now: at(8) });
      const aIds = new Set((await list(A, {})).items.map((s) => s.id));
      for (const f of [{ client: 'cursor' }, { q: 'github' }, { q: 'git' }, { client: 'cursor', q: 'tools' }, { q: 'b-only' }] as Filters[]) {
        const got = await list(B, f);
        for (const s of got.items) expect(aIds.has(s.id)).toBe(false);
        await expectAsScan(B, f);
      }
      expect(await names(B, { client: 'cursor' })).toEqual(['b-only', 'github-tools']);
      expect(await names(A, { q: 'b-only' })).toEqual([]);
      await expectExactSideRows(B);
      if (dialect !== 'postgres') return;
      const tables = ['server_index_state', 'server_clients', 'server_trigrams'] as const;
      const admin = new pg.Client({ connectionString: db.t.adminUrl });
      await admin.connect();
      try {
        for (const table of tables) {
          const orgs = (await admin.query(`select distinct org_id from ${table}`)).rows.map((r: { org_id: string }) => r.org_id);
          expect(orgs).toEqual(expect.arrayContaining([A.orgId, B.orgId]));
          // as the app role: B's scope shows B's rows only, no scope shows none, and a row for A cannot be written from B
          const seen = await withOrg(db.store, B, (tx) => sql<{ org_id: string }>`select distinct org_id from ${sql.table(table)}`.execute(tx));
          expect(seen.rows.map((r) => r.org_id)).toEqual([B.orgId]);
          const bare = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(db.store.db);
          expect(Number(bare.rows[0]!.n)).toBe(0);
        }
        await expect(withOrg(db.store, B, (tx) => tx.withTables<ServerIndexTables>().insertInto('server_clients').values({ org_id: A.orgId, client: 'evil', server_id: 'x' }).execute())).rejects.toThrow(/row-level security/);
        const aRows = Number((await admin.query('select count(*) as n from server_trigrams where org_id = $1', [A.orgId])).rows[0].n);
        const deleted = await withOrg(db.store, B, (tx) => tx.withTables<ServerIndexTables>().deleteFrom('server_trigrams').where('org_id', '=', A.orgId).executeTakeFirst());
        expect(Number(deleted.numDeletedRows)).toBe(0);
        expect(Number((await admin.query('select count(*) as n from server_trigrams where org_id = $1', [A.orgId])).rows[0].n)).toBe(aRows);
      } finally {
        await admin.end();
      }
    });
  });
}
