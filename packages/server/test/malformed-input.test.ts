// Property test: arbitrary JSON (and non-JSON) bodies on the public and authenticated write
// routes never crash the server (no 500), never answer 2xx, and change nothing.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, makeTestApp, setupOwner, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';

const TABLES = ['users', 'agent_keys', 'invitations', 'sessions', 'audit_log', 'memberships', 'orgs'] as const;

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`malformed input on ${dialect} (fast-check, fixed seed)${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let orgId: string;

    /** Row counts seen from behind the app (on PostgreSQL as the superuser: RLS would hide them from the app role). */
    async function counts(): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      if (dialect === 'postgres') {
        const admin = new pg.Client({ connectionString: t.db.adminUrl });
        await admin.connect();
        try {
          for (const table of TABLES) out[table] = Number((await admin.query(`select count(*) as n from ${table}`)).rows[0].n);
        } finally {
          await admin.end();
        }
        return out;
      }
      for (const table of TABLES)
        out[table] = Number(
          (
            await t.platform.store.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return out;
    }

    beforeAll(async () => {
      t = await makeTestApp(dialect);
      ({ client: owner, orgId } = await setupOwner(t.app));
      expect(orgId).toBeTruthy();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('public routes: /setup, /auth/login, /invitations/accept', async () => {
      const before = await counts();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/api/v1/setup', '/api/v1/auth/login', '/api/v1/invitations/accept'),
          fc.oneof(fc.jsonValue(), fc.string()),
          async (url, body) => {
            // strings go raw (mostly not JSON at all), other values as JSON text
            const payload = typeof body === 'string' ? body : JSON.stringify(body);
            const r = await t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
            expect(r.statusCode).toBeGreaterThanOrEqual(400);
            expect(r.statusCode).toBeLessThan(500);
            expect(Object.keys(r.json())).toEqual(['error']);
          },
        ),
        { seed: 42, numRuns: 150 },
      );
      expect(await counts()).toEqual(before);
    });

    it('signed-in write routes: /agent-keys, /invitations, /users/:id', async () => {
      const before = await counts();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(['POST', '/api/v1/agent-keys'], ['POST', '/api/v1/invitations'], ['PATCH', '/api/v1/users/x']),
          fc.jsonValue(),
          async ([method, url], body) => {
            // objects that happen to be valid would legitimately create something: keep to invalid shapes
            fc.pre(!(body && typeof body === 'object' && !Array.isArray(body) && ('name' in body || 'email' in body || 'role' in body)));
            const r = await owner.request(method as 'POST' | 'PATCH', url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
            expect(r.statusCode).toBeGreaterThanOrEqual(400);
            expect(r.statusCode).toBeLessThan(500);
          },
        ),
        { seed: 42, numRuns: 150 },
      );
      expect(await counts()).toEqual(before);
    });
  });
}
