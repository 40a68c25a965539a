// The last owner stays even when two owners demote or remove each other at the same moment
// (issue 13): the owner rows are locked, so the second change sees the first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, makeTestApp, setupOwner, type Client, type TestApp } from './helpers/app.js';
import { withOrg } from '../src/db/scope.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`last-owner race on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let orgId: string;
    let a: { client: Client; userId: string };
    beforeAll(async () => {
      t = await makeTestApp(dialect);
      const o = await setupOwner(t.app);
      orgId = o.orgId;
      a = { client: o.client, userId: o.userId };
    });
    afterAll(async () => {
      await t?.close();
    });

    const owners = async () =>
      (await withOrg(t.platform.store, { orgId }, (tx) => tx.selectFrom('memberships').select('user_id').where('org_id', '=', orgId).where('role', '=', 'owner').execute())).map((r) => r.user_id);

    it('two owners demoting or removing each other at once always leave one owner (10 rounds)', async () => {
      for (let round = 0; round < 10; round++) {
        // a fresh second owner each round
        const b = await inviteUser(t.app, a.client, `owner-${round}@a.test`, 'owner');
        expect((await owners()).length).toBe(2);
        const remove = round % 2 === 1;
        const act = (by: Client, target: string) => (remove ? by.request('DELETE', `/api/v1/users/${target}`) : by.request('PATCH', `/api/v1/users/${target}`, { body: { role: 'admin' } }));
        const [x, y] = await Promise.all([act(a.client, b.userId), act(b.client, a.userId)]);
        const codes = [x.statusCode, y.statusCode].sort();
        const left = await owners();
        expect(left.length, `round ${round}: answers ${codes.join(',')}`).toBe(1);
        expect(codes.filter((c) => c === 200 || c === 204)).toHaveLength(1);
        // whoever is left continues as "a"; the other, if still a member, is removed
        if (left[0] !== a.userId) a = b;
        const other = left[0] === b.userId ? undefined : b.userId;
        if (other) await a.client.request('DELETE', `/api/v1/users/${other}`);
      }
    });
  });
}
