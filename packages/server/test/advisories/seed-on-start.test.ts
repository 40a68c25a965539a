// The server stores the curated advisories when it starts (and again, idempotently, on restart).
import { afterAll, describe, expect, it } from 'vitest';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { makeTestApp, type TestApp } from '../helpers/app.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`advisories at start on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp | undefined;
    afterAll(async () => {
      await t?.close();
    });
    it('holds the bundled advisories after buildApp', async () => {
      t = await makeTestApp(dialect);
      const rows = await t.platform.store.db.selectFrom('advisories' as never).select(['id' as never]).execute();
      expect(rows.length).toBe(14);
      expect(t.platform.warnings.join('\n')).not.toMatch(/advisories/);
    });
  });
}
