// The audit log names what it points at and keeps no secret (issue 13): user emails, server
// and webhook names, agent key names with their prefix; Slack webhook URLs and other URLs
// masked to scheme, host and first path segment, credential-named fields replaced.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, makeTestApp, setupOwner, type Client, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';
import { withOrg } from '../src/db/scope.js';
import { maskUrl } from '../src/audit-view.js';
import { report, server } from './inventory/fixtures.js';

const SLACK = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/sEcReTpArTofTheUrl1234';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`audit log names and masking on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let orgId: string;
    beforeAll(async () => {
      process.env.PALISADE_WEBHOOK_ALLOW_PRIVATE = '';
      t = await makeTestApp(dialect);
      ({ client: owner, orgId } = await setupOwner(t.app));
    });
    afterAll(async () => {
      await t?.close();
    });

    type Entry = { action: string; actorName: string | null; targetName: string | null; targetId: string | null; details: Record<string, unknown> };
    const entries = async () => (await owner.get('/api/v1/audit?limit=200')).json().items as Entry[];

    it('shows names for users, agent keys, webhooks, hosts and agents, and never a webhook URL path', async () => {
      const { userId } = await inviteUser(t.app, owner, 'analyst@a.test', 'analyst');
      expect((await owner.request('PATCH', `/api/v1/users/${userId}`, { body: { role: 'viewer' } })).statusCode).toBe(200);
      const key = (await owner.post('/api/v1/agent-keys', { name: 'laptops' })).json() as { key: string; prefix: string };
      const hook = (await owner.post('/api/v1/webhooks', { name: 'team chat', url: SLACK, format: 'slack' })).json();
      expect(hook.id).toBeTruthy();
      await owner.request('PATCH', `/api/v1/webhooks/${hook.id}`, { body: { url: `${SLACK}x` } });
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key.key, 'content-type': 'application/json' }, payload: JSON.stringify(report([server({ name: 'a' })], { hostname: 'build-7' })) })).statusCode).toBe(200);
      const all = await entries();
      const by = (action: string) => all.find((e) => e.action === action)!;
      expect(by('user.role_changed').targetName).toBe('analyst@a.test');
      expect(by('agent_key.created').targetName).toBe(`laptops (${key.prefix}…)`);
      expect(by('webhook.created').targetName).toBe('team chat');
      expect(by('report.ingested').actorName).toBe(`laptops (${key.prefix}…)`);
      expect(by('report.ingested').targetName).toMatch(/^build-7 /);
      expect(by('webhook.created').details.url).toBe('https://hooks.slack.com/services/…');
      expect(by('webhook.updated').details.url).toBe('https://hooks.slack.com/services/…');
      // not in the answer, and not in the database either
      expect(JSON.stringify(all)).not.toContain('sEcReTpArT');
      const stored = await withOrg(t.platform.store, { orgId }, (tx) => tx.selectFrom('audit_log').select('details').where('org_id', '=', orgId).execute());
      expect(JSON.stringify(stored)).not.toContain('sEcReTpArT');
    });

    it('masks what older entries hold, when they are read', async () => {
      await withOrg(t.platform.store, { orgId }, (tx) =>
        tx.insertInto('audit_log').values({ id: crypto.randomUUID(), org_id: orgId, at: new Date().toISOString(), actor_type: 'system', actor_id: null, actor_email: null, action: 'legacy.entry', target_type: null, target_id: null, ip: null, details: JSON.stringify({ url: `${SLACK}?token=abc`, secret: 'whsec_legacy', note: 'kept' }) }).execute(),
      );
      const legacy = (await entries()).find((e) => e.action === 'legacy.entry')!;
      expect(legacy.details).toEqual({ url: 'https://hooks.slack.com/services/…?…', secret: '[redacted]', note: 'kept' });
    });
  });
}

describe('maskUrl', () => {
  it.each([
    [SLACK, 'https://hooks.slack.com/services/…'],
    ['https://user:pw@example.test/a?b=c', 'https://example.test/a?…'],
    ['https://example.test', 'https://example.test'],
    ['not a url', 'not a url'],
  ])('%s', (input, out) => expect(maskUrl(input)).toBe(out));
});
