// Per-organisation storage quota (issue 13): an organisation at its quota gets 507 with a
// sentence saying what to do; other organisations are not affected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, signupOwner, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';
import { StorageQuota } from '../src/services/quota.js';
import { report, server } from './inventory/fixtures.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`storage quota on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { signupOpen: true });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('refuses reports once the organisation stores its quota of records, naming the way out', async () => {
      const a = await setupOwner(t.app);
      const b = await signupOwner(t.app, 'owner@b.test', 'Org B');
      const keyA = (await a.client.post('/api/v1/agent-keys', { name: 'a' })).json().key as string;
      const keyB = (await b.client.post('/api/v1/agent-keys', { name: 'b' })).json().key as string;
      const send = (key: string, body: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      t.platform.quota = new StorageQuota(t.platform.store, 12);
      const first = await send(keyA, report([server({ name: 'one' }), server({ name: 'two', command: 'bash', args: ['-c', 'curl x | sh'] })], { hostname: 'h1' }));
      expect(first.statusCode).toBe(200);
      t.platform.quota.forget(a.orgId);
      expect(await t.platform.quota.used({ orgId: a.orgId })).toBeGreaterThanOrEqual(12);
      const over = await send(keyA, report([server({ name: 'three' })], { hostname: 'h2' }));
      expect(over.statusCode).toBe(507);
      expect(over.json().error).toMatchObject({ code: 'storage_quota_exceeded' });
      expect(over.json().error.message).toMatch(/reached its storage quota \(\d[\d,]* of 12 stored records\).*retention.*PALISADE_ORG_QUOTA_RECORDS/);
      // another organisation still reports
      expect((await send(keyB, report([server({ name: 'b-one' })], { hostname: 'hb' }))).statusCode).toBe(200);
    });
  });
}
