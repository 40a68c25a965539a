// kill -9 while ingesting (issue 12): a real `palisade serve` (from sources) accepts reports
// (202), is killed with SIGKILL while its queue is processing them, and is started again on
// the same data folder / database: every accepted report is processed after the restart,
// exactly once (one reports row, one audit entry, one host each; no inbox row left pending
// or failed).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PASSWORD, SETUP_TOKEN } from '../helpers/app.js';
import { createTestDatabase, dialects, PG_SKIP_REASON, skipReason, type TestDatabase } from '../helpers/databases.js';
import { report, server, tool } from './fixtures.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = path.join(repo, 'packages/cli/src/main.ts');
const REPORTS = 60;

function serve(db: TestDatabase): { child: ChildProcess; url: Promise<string>; exited: Promise<number | null> } {
  const { DATABASE_URL: _d, DATABASE_MIGRATION_URL: _m, JWT_SECRET: _j, NODE_ENV: _n, PALISADE_INGEST_WAIT_MS: _w, ...base } = process.env;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', db.dataDir], {
    cwd: repo,
    env: {
      ...base,
      PALISADE_SETUP_TOKEN: SETUP_TOKEN,
      PALISADE_INGEST_RATE_LIMIT: '100000',
      ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl, DATABASE_MIGRATION_URL: db.migrationUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.resume();
  let err = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += String(d);
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited };
}

/** A report of `servers` servers with a few tools each, for host `n`. */
function hostBody(n: number, servers = 120): string {
  const list = Array.from({ length: servers }, (_, i) =>
    server({
      name: `kill-${n % 7}-${i}`,
      args: ['-y', `@example/kill-${i}@1.${n}.0`],
      tools: [tool(`read_${i}`, `Reads item ${i}.`), tool(`write_${i}`, `Writes item ${i}.`), tool(`list_${i}`, `Lists items near ${i}.`)],
    }),
  );
  return JSON.stringify(report(list, { hostname: `kill-host-${n}` }));
}

async function rows(db: TestDatabase, text: string): Promise<Array<Record<string, unknown>>> {
  if (db.dialect === 'sqlite') {
    const s = new Database(path.join(db.dataDir, 'palisade.db'), { readonly: true });
    try {
      return s.prepare(text).all() as Array<Record<string, unknown>>;
    } finally {
      s.close();
    }
  }
  const c = new pg.Client({ connectionString: db.adminUrl });
  await c.connect();
  try {
    return (await c.query(text)).rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

const dbs: TestDatabase[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dbs) await d.drop();
});

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`kill -9 while ingesting, ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    it('processes every accepted report exactly once after a restart on the same data', async () => {
      const db = await createTestDatabase(dialect);
      dbs.push(db);
      const first = serve(db);
      children.push(first.child);
      const base = await first.url;
      const setup = await fetch(`${base}/api/v1/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ setupToken: SETUP_TOKEN, orgName: 'Kill Org', email: 'owner@kill.test', password: PASSWORD }),
      });
      expect(setup.status).toBe(201);
      const cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0]!);
      const csrf = cookies.find((c) => c.includes('csrf='))!.split('=')[1]!;
      const keyRes = await fetch(`${base}/api/v1/agent-keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: cookies.join('; '), 'x-csrf-token': csrf },
        body: JSON.stringify({ name: 'kill' }),
      });
      const { key } = (await keyRes.json()) as { key: string };
      const headers = { 'content-type': 'application/json', 'x-api-key': key, prefer: 'wait=0' };

      const bodies = Array.from({ length: REPORTS }, (_, n) => hostBody(n));
      const ids: string[] = [];
      const statusOf = async (b: string, id: string) =>
        ((await (await fetch(`${b}/api/v1/agent/report/${id}`, { headers: { 'x-api-key': key } })).json()) as { status: string }).status;
      // agents keep sending while the server dies: a POST whose answer never came is not
      // accepted as far as the agent knows (it sends it again), but may be in the inbox
      let killed = false;
      let next = 0;
      const sending = Promise.all(
        Array.from({ length: 3 }, async () => {
          while (!killed && next < bodies.length) {
            const body = bodies[next++]!;
            const r = await fetch(`${base}/api/v1/agent/report`, { method: 'POST', headers, body }).catch(() => null);
            if (!r) return;
            expect(r.status).toBe(202);
            ids.push(((await r.json()) as { id: string }).id);
          }
        }),
      );
      // kill once some reports are processed and others wait: the queue is mid-way through them
      for (const until = Date.now() + 90_000; ;) {
        const counts = Object.fromEntries(
          (await rows(db, `select status, count(*) as n from ingest_inbox group by status`)).map((r) => [r.status, Number(r.n)]),
        );
        if ((counts.done ?? 0) >= 2 && (counts.pending ?? 0) >= 2) break;
        if (Date.now() > until || next >= bodies.length) throw new Error(`no moment with reports both processed and waiting: ${JSON.stringify(counts)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      first.child.kill('SIGKILL');
      killed = true;
      expect(await first.exited).toBe(null);
      await sending;
      const pendingAtKill = (await rows(db, `select count(*) as n from ingest_inbox where status = 'pending'`))[0]!.n;
      expect(Number(pendingAtKill)).toBeGreaterThan(0);

      // the same data folder / database again
      const second = serve(db);
      children.push(second.child);
      const base2 = await second.url;
      for (const until = Date.now() + 120_000; ;) {
        const pending = await rows(db, `select count(*) as n from ingest_inbox where status = 'pending'`);
        if (Number(pending[0]!.n) === 0) break;
        if (Date.now() > until) throw new Error('the accepted reports were not processed within 120 s of the restart');
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const id of ids) expect(await statusOf(base2, id)).toBe('done');
      // a resend after the restart is the same report, not a new one
      const again = await fetch(`${base2}/api/v1/agent/report`, { method: 'POST', headers, body: bodies[0] });
      expect([200, 202]).toContain(again.status);
      second.child.kill('SIGTERM');
      await second.exited;

      // every inbox row (the accepted ones and any whose answer was lost) processed, once
      const inbox = await rows(db, `select id, status from ingest_inbox`);
      expect(inbox.every((r) => r.status === 'done')).toBe(true);
      const inboxIds = inbox.map((r) => String(r.id)).sort();
      for (const id of ids) expect(inboxIds).toContain(id);
      const reports = await rows(db, `select id, count(*) as n from reports group by id`);
      expect(reports.map((r) => r.id).sort()).toEqual(inboxIds);
      expect(reports.every((r) => Number(r.n) === 1)).toBe(true);
      const audits = await rows(db, `select details from audit_log where action = 'report.ingested'`);
      const audited = audits.map((r) => (JSON.parse(String(r.details)) as { reportId: string }).reportId).sort();
      expect(audited).toEqual(inboxIds);
      const hosts = await rows(db, `select hostname, count(*) as n from hosts group by hostname`);
      expect(hosts.length).toBe(inboxIds.length);
      expect(hosts.every((h) => Number(h.n) === 1)).toBe(true);
    }, 240_000);
  });
}
