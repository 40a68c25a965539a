// Four eyes on the four-eyes rule (issue 13): an admin cannot turn "critical overrides need a
// second approver" off, approve alone and turn it back on. Turning it off takes an owner's
// request and a different admin's or owner's approval; every step is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, makeTestApp, setupOwner, type Client, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';
import { report, server } from './inventory/fixtures.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`second-approver setting on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let owner2: Client;
    let admin: Client;
    let criticalId: string;
    const body = () => ({ decision: 'accept_risk', reason: 'Build pipeline needs it until the migration.', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() });

    beforeAll(async () => {
      t = await makeTestApp(dialect);
      ({ client: owner } = await setupOwner(t.app));
      ({ client: owner2 } = await inviteUser(t.app, owner, 'owner2@a.test', 'owner'));
      ({ client: admin } = await inviteUser(t.app, owner, 'admin@a.test', 'admin'));
      const key = (await owner.post('/api/v1/agent-keys', { name: 'k' })).json().key;
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(report([server({ name: 'shell', command: 'bash', args: ['-c', 'curl x | sh'] })])) });
      expect(r.statusCode).toBe(200);
      criticalId = (await owner.get('/api/v1/servers?level=critical')).json().items[0].id;
      expect((await owner.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: true } })).statusCode).toBe(200);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('an admin cannot turn it off; an override on a critical server stays pending', async () => {
      const off = await admin.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: false } });
      expect(off.statusCode).toBe(403);
      expect((await admin.get('/api/v1/settings')).json().requireSecondApproverForCritical).toBe(true);
      const o = await admin.post(`/api/v1/servers/${criticalId}/overrides`, body());
      expect(o.json().status).toBe('pending');
    });

    it("an owner's request does not apply by itself, nor can the same owner approve it; another approver can", async () => {
      const asked = await owner.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: false } });
      expect(asked.statusCode).toBe(202);
      expect(asked.json()).toMatchObject({ requireSecondApproverForCritical: true, pendingSecondApproverOff: { requestedByEmail: 'owner@a.test' } });
      // still on: a new override on a critical server waits for a second approver
      expect((await owner.post(`/api/v1/servers/${criticalId}/overrides`, body())).json().status).toBe('pending');
      const self = await owner.post('/api/v1/settings/second-approver-off/approve', {});
      expect(self.statusCode).toBe(409);
      expect(self.json().error.code).toBe('same_approver');
      const ok = await admin.post('/api/v1/settings/second-approver-off/approve', {});
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ requireSecondApproverForCritical: false, pendingSecondApproverOff: null });
      // no request pending any more
      expect((await owner2.post('/api/v1/settings/second-approver-off/approve', {})).statusCode).toBe(409);
      // turning it back on applies at once
      expect((await admin.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: true } })).json().requireSecondApproverForCritical).toBe(true);
    });

    it('answers only once the change is committed: the next request sees it', async () => {
      // Hold every commit back 300 ms after the handler's work is done. A reply sent from inside
      // the transaction reaches the client before the commit, and the read below, on the plain
      // connection, would still see the pending request.
      const store = t.app.platform.store;
      const real = store.db;
      const held = new Proxy(real, {
        get(target, prop, receiver) {
          if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
          return () => {
            const builder = target.transaction();
            return new Proxy(builder, {
              get(b, p, r) {
                if (p !== 'execute') return Reflect.get(b, p, r);
                return <T,>(fn: (tx: unknown) => Promise<T>) =>
                  b.execute(async (tx) => {
                    const out = await fn(tx);
                    await new Promise((resolve) => setTimeout(resolve, 300));
                    return out;
                  });
              },
            });
          };
        },
      });
      expect((await owner.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: false } })).statusCode).toBe(202);
      store.db = held;
      let on;
      try {
        on = await owner2.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: true } });
      } finally {
        store.db = real;
      }
      expect(on.statusCode).toBe(200);
      const after = (await owner.get('/api/v1/settings')).json();
      expect(after).toMatchObject({ requireSecondApproverForCritical: true, pendingSecondApproverOff: null });
    });

    it('turning it on drops a pending request, and each step is in the audit log', async () => {
      expect((await owner.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: false } })).statusCode).toBe(202);
      expect((await owner2.request('PATCH', '/api/v1/settings', { body: { requireSecondApproverForCritical: true } })).json().pendingSecondApproverOff).toBeNull();
      expect((await admin.post('/api/v1/settings/second-approver-off/approve', {})).statusCode).toBe(409);
      const audit = (await owner.get('/api/v1/audit?limit=200')).json().items as { action: string; details: Record<string, unknown> }[];
      const actions = audit.map((a) => a.action);
      expect(actions.filter((a) => a === 'settings.second_approver_off_requested')).toHaveLength(3);
      expect(audit.some((a) => a.action === 'settings.updated' && a.details.requireSecondApproverForCritical === false && a.details.approvedBy === 'admin@a.test')).toBe(true);
    });
  });
}
