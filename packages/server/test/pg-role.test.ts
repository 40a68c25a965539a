// Start-up warns loudly when PostgreSQL is reached as a role that escapes row-level security.
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestApp } from './helpers/app.js';
import { createTestDatabase, PG_SKIP_REASON, PG_URL, type TestDatabase } from './helpers/databases.js';

describe.skipIf(!PG_URL)(`PostgreSQL role check${PG_URL ? '' : ` (${PG_SKIP_REASON})`}`, () => {
  const made: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of made) await d.drop();
  });

  it('warns when connected as a superuser, not when connected as the plain app role', async () => {
    const db = await createTestDatabase('postgres');
    made.push(db);
    const asApp = await makeTestApp('postgres', {}, db);
    expect(asApp.platform.warnings).toEqual([]);
    await asApp.close();
    // the superuser as the runtime role, beside the owner: warned
    const asSuper = await makeTestApp('postgres', { databaseUrl: db.adminUrl }, db);
    expect(asSuper.platform.warnings.join('\n')).toMatch(/WARNING: connected to PostgreSQL as role "postgres", which is a superuser: row-level security does not protect/);
    await asSuper.close();
  });
});
