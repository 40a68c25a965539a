// A config full of literal secrets (made-up test fixtures, fake-but-shaped), scanned by the
// real agent and ingested by the real backend: no secret value may be found anywhere in the
// database afterwards. SQLite: the raw database, WAL and shm files are searched byte by byte.
// PostgreSQL: every text column of every table is searched (as a superuser, behind RLS).
// A hand-made report that still carries literal values (an agent that forgot to redact) is
// scrubbed by the backend too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { locationContext, scan } from '@palisade/agent';
import { makeTestApp, setupOwner, type TestApp } from '../helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server } from './fixtures.js';

// TEST FIXTURES: shaped like real credentials, made up, valid nowhere.
const SECRETS = {
  github: 'ghp_FAKEtestFIXTUREnotREAL0123456789abcd',
  aws: 'AKIAFAKEFIXTURE12345',
  openai: 'sk-fixtureNOTrealABCDEFGHIJKLMNOPQRSTUV',
  urlPassword: 'pa55-fixture-not-real-7Q',
  urlQuery: 'qfixtureTOKENvalue0123456789',
  header: 'fixtureHeaderTokenNotReal0123456789',
  argToken: 'argFixtureSecretValue-0123456789',
};

async function fakeHome(): Promise<string> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'palisade-secrets-home-'));
  const claude = path.join(home, '.config', 'Claude');
  await fs.mkdir(claude, { recursive: true });
  await fs.writeFile(
    path.join(claude, 'claude_desktop_config.json'),
    JSON.stringify({
      mcpServers: {
        github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@1.0.0'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: SECRETS.github, AWS_ACCESS_KEY_ID: SECRETS.aws } },
        tokens: { command: 'node', args: ['server.js', '--token', SECRETS.argToken, `--api-key=${SECRETS.openai}`] },
      },
    }),
  );
  const cursor = path.join(home, '.cursor');
  await fs.mkdir(cursor, { recursive: true });
  await fs.writeFile(
    path.join(cursor, 'mcp.json'),
    JSON.stringify({ mcpServers: { remote: { url: `https://admin:${SECRETS.urlPassword}@mcp.example.test/mcp?api_key=${SECRETS.urlQuery}`, headers: { Authorization: `Bearer ${SECRETS.header}` } } } }),
  );
  return home;
}

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`no secret reaches the database on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let home: string;
    let key: string;
    beforeAll(async () => {
      home = await fakeHome();
      t = await makeTestApp(dialect);
      const { client } = await setupOwner(t.app);
      key = (await client.post('/api/v1/agent-keys', { name: 'k' })).json().key;
    });
    afterAll(async () => {
      await t?.close();
      await fs.rm(home, { recursive: true, force: true });
    });

    async function findSecrets(values: Record<string, string> = SECRETS): Promise<string[]> {
      const found: string[] = [];
      if (dialect === 'sqlite') {
        for (const name of await fs.readdir(t.db.dataDir)) {
          if (!name.startsWith('palisade.db')) continue;
          const bytes = await fs.readFile(path.join(t.db.dataDir, name));
          for (const [k, v] of Object.entries(values)) if (bytes.includes(Buffer.from(v, 'utf8'))) found.push(`${k} in ${name}`);
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
            for (const [k, v] of Object.entries(values)) {
              const r = await c.query(`select count(*)::int as n from "${table_name}" where position($1 in "${column_name}"::text) > 0`, [v]);
              if (r.rows[0].n > 0) found.push(`${k} in ${table_name}.${column_name}`);
            }
          }
        } finally {
          await c.end();
        }
      }
      return found;
    }

    it('a real scan of a config full of literal secrets leaves none of them in the database', async () => {
      const scanned = await scan({ loc: locationContext({ home, platform: 'linux' }) });
      expect(scanned.servers.map((s) => s.name).sort()).toEqual(['github', 'remote', 'tokens']);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(scanned) });
      expect(res.statusCode).toBe(200);
      expect(await findSecrets()).toEqual([]);
    });

    it('a report from an agent that did not redact is scrubbed by the backend before storage', async () => {
      const leaky = report(
        [
          server({ name: 'leaky-args', command: 'node', args: ['--token', SECRETS.argToken, `--api-key=${SECRETS.openai}`, SECRETS.github] }),
          server({ name: 'leaky-url', transport: 'http', command: null, args: [], url: `https://admin:${SECRETS.urlPassword}@mcp.example.test/mcp?api_key=${SECRETS.urlQuery}` }),
        ],
        { hostname: 'leaky-host' },
      );
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(leaky) });
      expect(res.statusCode).toBe(200);
      expect(await findSecrets()).toEqual([]);
      // the search itself works: values that are meant to be stored are found
      expect((await findSecrets({ host: 'leaky-host', server: 'leaky-args' })).length).toBeGreaterThan(0);
    });
  });
}
