// Every shape of core's canary table (made-up values planted in args, commands and URLs),
// scanned by the real agent and posted to the real backend, and posted again unredacted as a
// hostile agent would: no canary is found in the database files (SQLite: the raw database,
// WAL and shm bytes; PostgreSQL: every text column of every table, read as a superuser) nor
// in the backend's logs. The backend's second wall is core's redactReport on ingest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { locationContext, scan } from '@palisade/agent';
import { makeTestApp, setupOwner, type Client, type TestApp } from '../helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server } from './fixtures.js';
import { allCanaries, canaryHome } from '../../../core/test/redaction/canary-home.js';
import { CANARY_CASES } from '../../../core/test/redaction/canary-table.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`no canary reaches the database or the logs on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let home: string;
    let key: string;
    let owner: Client;
    beforeAll(async () => {
      home = await canaryHome();
      t = await makeTestApp(dialect);
      const { client } = await setupOwner(t.app);
      owner = client;
      key = (await client.post('/api/v1/agent-keys', { name: 'k' })).json().key;
    });
    afterAll(async () => {
      await t?.close();
      await fs.rm(home, { recursive: true, force: true });
    });

    async function found(values: string[]): Promise<string[]> {
      const hits: string[] = [];
      if (dialect === 'sqlite') {
        for (const name of await fs.readdir(t.db.dataDir)) {
          const file = path.join(t.db.dataDir, name);
          if (!(await fs.stat(file)).isFile()) continue;
          const bytes = await fs.readFile(file);
          for (const v of values) if (bytes.includes(Buffer.from(v, 'utf8'))) hits.push(`${v} in ${name}`);
        }
      } else {
        const c = new pg.Client({ connectionString: t.db.adminUrl });
        await c.connect();
        try {
          const cols = await c.query<{ table_name: string; column_name: string }>(
            "select table_name, column_name from information_schema.columns where table_schema = 'public' and data_type in ('text','character varying','json','jsonb','character')",
          );
          expect(cols.rows.length).toBeGreaterThan(20);
          for (const { table_name, column_name } of cols.rows) {
            const r = await c.query<{ v: string }>(`select "${column_name}"::text as v from "${table_name}" where "${column_name}" is not null`);
            const all = r.rows.map((row) => row.v).join('\n');
            for (const v of values) if (all.includes(v)) hits.push(`${v} in ${table_name}.${column_name}`);
          }
        } finally {
          await c.end();
        }
      }
      for (const v of values) if (t.logs.join('').includes(v)) hits.push(`${v} in the logs`);
      return hits;
    }

    it('a real scan of configs holding every shape leaves no canary', async () => {
      const scanned = await scan({ loc: locationContext({ home, platform: 'linux' }) });
      expect(scanned.servers.length).toBe(CANARY_CASES.length);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(scanned) });
      expect(res.statusCode).toBe(200);
      expect(await found(allCanaries())).toEqual([]);
    });

    it('a hostile report with every secret left in its args, command and URL is stored redacted, with PAL-C008/C009 findings', async () => {
      const servers = CANARY_CASES.map((c, i) =>
        server({ name: `hostile-${i + 1}`, command: c.url ? null : (c.command ?? 'npx'), args: c.args ?? [], url: c.url ?? null, transport: c.url ? 'http' : 'stdio' }),
      );
      const hostile = report(servers, { hostname: 'hostile-host' });
      hostile.clients[0]!.error = `could not read: --password=${CANARY_CASES[1]!.canaries[0]}`;
      const body = JSON.stringify(hostile);
      for (const v of CANARY_CASES.flatMap((c) => c.canaries)) expect(body).toContain(v);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: body });
      expect(res.statusCode).toBe(200);
      expect(await found(allCanaries())).toEqual([]);
      // the search itself works: values meant to be stored are found
      expect((await found(['hostile-host', 'hostile-12'])).length).toBeGreaterThan(0);
      // every hostile server carries a literal-secret or URL-credential finding
      const list = await owner.get('/api/v1/findings?limit=200');
      expect(list.statusCode).toBe(200);
      expect(list.body).toMatch(/PAL-C008/);
      expect(list.body).toMatch(/PAL-C009/);
      for (const v of allCanaries()) expect(list.body).not.toContain(v);
    });
  });
}

