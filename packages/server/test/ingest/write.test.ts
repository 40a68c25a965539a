// Stage 4, write (services/ingest/write.ts), against real databases: a large report is written
// in statements of bounded size (issue 13: the driver holds each statement's text and
// parameters in memory, so the bound bounds a large report's memory; MAX_STATEMENT_PARAMS),
// and a changed report writes only its delta (an unchanged server's instance and findings
// keep their rows).
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrg, type Database, type Db } from '../../src/db/index.js';
import { MAX_STATEMENT_PARAMS } from '../../src/services/batch.js';
import { ingestReport } from '../../src/services/ingest.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, testRules, tool } from '../inventory/fixtures.js';
import { openInventoryDb, type InventoryDb } from '../inventory/helpers.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 10, minute));
const WIDE = 2000;

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`write stage on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    let logging: Db;
    const captured: CompiledQuery[] = [];
    beforeAll(async () => {
      db = await openInventoryDb(dialect, 1);
      const log = (e: { level: string; query: CompiledQuery }) => void captured.push(e.query);
      logging =
        dialect === 'sqlite'
          ? { dialect, db: new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path.join(db.t.dataDir, 'palisade.db')) }), log }) }
          : { dialect, db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.t.databaseUrl, max: 2 }) }), log }) };
    });
    afterAll(async () => {
      await logging?.db.destroy();
      await db?.close();
    });
    const count = (table: 'server_instances' | 'tools' | 'findings', hostname: string) =>
      withOrg(db.store, db.orgs[0]!, async (tx) => {
        const org = db.orgs[0]!.orgId;
        const host = await tx.selectFrom('hosts').select('id').where('org_id', '=', org).where('hostname', '=', hostname).executeTakeFirstOrThrow();
        const r =
          table === 'tools'
            ? await tx.selectFrom('tools').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).executeTakeFirstOrThrow()
            : await tx.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).where('host_id', '=', host.id).executeTakeFirstOrThrow();
        return Number(r.n);
      });

    it(`writes a ${WIDE.toLocaleString('en')}-server report (first, then every server changed) in statements of at most ${MAX_STATEMENT_PARAMS.toLocaleString('en')} parameters`, async () => {
      const wide = (rev: number) =>
        report(
          Array.from({ length: WIDE }, (_, i) => server({ name: `w-${i}`, args: ['-y', `@wide/p-${i}@1.${rev}.0`], tools: [tool(`t${i}`, `Tool ${i}.`)], ...(i % 10 === 0 ? { command: 'bash', args: ['-c', `run ${i} ${rev}`] } : {}) })),
          { hostname: 'wide-host' },
          at(rev).toISOString(),
        );
      for (const rev of [0, 1]) {
        captured.length = 0;
        const r = await ingestReport(logging, db.orgs[0]!, wide(rev), { rules: testRules, now: at(rev) });
        expect(r).toMatchObject({ unchanged: false, servers: WIDE });
        const largest = Math.max(...captured.map((q) => q.parameters.length));
        expect(largest).toBeGreaterThan(1000); // multi-row statements, not a statement per row
        // the rows' parameters are bounded; a statement adds at most a few of its own (the org)
        expect(largest).toBeLessThanOrEqual(MAX_STATEMENT_PARAMS + 8);
      }
      expect(await count('server_instances', 'wide-host')).toBe(WIDE);
      expect(await count('findings', 'wide-host')).toBe(WIDE / 10);
      // tool rows belong to definitions: each revision is a new definition with its own
      expect(await count('tools', 'wide-host')).toBe(2 * WIDE);
    }, 600_000);

    it('writes only the delta of a changed report: an unchanged server keeps its instance and finding rows', async () => {
      const org = db.orgs[0]!;
      const servers = (rev: number) => [
        server({ name: 'd-same', command: 'bash', args: ['-c', 'same'] }),
        server({ name: 'd-other', command: 'bash', args: ['-c', 'other'] }),
        server({ name: 'd-changed', args: ['-y', `@example/d-changed@1.${rev}.0`] }),
      ];
      await ingestReport(db.store, org, report(servers(0), { hostname: 'delta-host' }, at(10).toISOString()), { rules: testRules, now: at(10) });
      const rows = () =>
        withOrg(db.store, org, (tx) =>
          tx
            .selectFrom('server_instances as i')
            .innerJoin('servers as s', 's.id', 'i.server_id')
            .leftJoin('findings as f', (j) => j.onRef('f.instance_id', '=', 'i.id'))
            .select(['s.name', 'i.id', 'i.server_id', 'f.id as finding'])
            .where('i.org_id', '=', org.orgId)
            .where('s.name', 'like', 'd-%')
            .orderBy('s.name')
            .execute(),
        );
      const before = await rows();
      captured.length = 0;
      const r = await ingestReport(logging, org, report(servers(1), { hostname: 'delta-host' }, at(11).toISOString()), { rules: testRules, now: at(11) });
      expect(r.unchanged).toBe(false);
      const after = await rows();
      const by = (list: typeof before, name: string) => list.find((x) => x.name === name)!;
      for (const name of ['d-same', 'd-other']) expect(by(after, name)).toEqual(by(before, name));
      // the changed server's instance moved to its new definition (same instance row)
      expect(by(after, 'd-changed').id).toBe(by(before, 'd-changed').id);
      expect(by(after, 'd-changed').server_id).not.toBe(by(before, 'd-changed').server_id);
      // no statement deleted or inserted findings of the unchanged servers' instances
      const kept = new Set(['d-same', 'd-other'].map((n) => by(before, n).id));
      const findingWrites = captured.filter((q) => /^\s*(delete from|insert into) "findings"/i.test(q.sql));
      expect(findingWrites.flatMap((q) => q.parameters).filter((v) => kept.has(v as string))).toEqual([]);
    }, 120_000);
  });
}
