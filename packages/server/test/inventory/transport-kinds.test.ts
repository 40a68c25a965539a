// The scan model's builtin/extension transports (Goose's builtin extensions, Zed's
// extension-provided servers) and configLine: a report that carries them is accepted and
// stored, and the servers list gives the transport back as sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type Client, type TestApp } from '../helpers/app.js';
import { report, server } from './fixtures.js';

describe('builtin and extension transports', () => {
  let t: TestApp;
  let owner: Client;
  let key: string;
  beforeAll(async () => {
    t = await makeTestApp('sqlite');
    owner = (await setupOwner(t.app)).client;
    key = (await owner.post('/api/v1/agent-keys', { name: 'k' })).json().key;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('accepts and lists them', async () => {
    const servers = [
      server({ name: 'developer', client: 'goose', transport: 'builtin', command: null, args: [], configLine: 5 }),
      server({ name: 'postgres-context-server', client: 'zed', transport: 'extension', command: null, args: [], configLine: 20 }),
    ];
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(report(servers)) });
    expect(res.statusCode, res.body).toBe(200);
    const list = await owner.get('/api/v1/servers?limit=50');
    expect(list.statusCode).toBe(200);
    const items = (list.json() as { items: Array<{ name: string; transport: string }> }).items;
    expect(Object.fromEntries(items.map((s) => [s.name, s.transport]))).toEqual({ developer: 'builtin', 'postgres-context-server': 'extension' });
  });
});
