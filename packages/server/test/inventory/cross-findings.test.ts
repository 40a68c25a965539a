// PAL-F001 (lethal trifecta) is one finding per client in core's report, not one per server.
// The backend stores it once, on the first server it names, and the findings list shows it
// once with a message naming every server involved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type Client, type TestApp } from '../helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server } from './fixtures.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`cross-server findings on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let owner: Client;
    let key: string;
    beforeAll(async () => {
      t = await makeTestApp(dialect);
      owner = (await setupOwner(t.app)).client;
      key = (await owner.post('/api/v1/agent-keys', { name: 'k' })).json().key;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('stores PAL-F001 once per client, naming all its servers', async () => {
      const servers = [
        server({ name: 'fetch', command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] }),
        server({ name: 'filesystem', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/home/alice/src'] }),
        server({ name: 'sqlite', command: 'uvx', args: ['mcp-server-sqlite==2025.4.25'] }),
        server({ name: 'time', command: 'uvx', args: ['mcp-server-time==2025.7.1'] }),
      ];
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(report(servers)) });
      expect(res.statusCode).toBe(200);
      const list = await owner.get('/api/v1/findings?ruleId=PAL-F001&limit=50');
      expect(list.statusCode).toBe(200);
      const items = (list.json() as { items: Array<{ ruleId?: string; rule_id?: string; message?: string }> }).items;
      expect(items).toHaveLength(1);
      expect(items[0]!.message).toMatch(/"fetch".*"filesystem".*"sqlite"|"filesystem".*"fetch"/);
    });
  });
}
