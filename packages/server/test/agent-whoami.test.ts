// GET /api/v1/agent/whoami: what `palisade configure` checks a key against. A valid key gets
// its key and organisation; a missing, unknown or revoked one gets 401; a user session is
// not an agent key; nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type Client, type TestApp } from './helpers/app.js';

describe('GET /api/v1/agent/whoami', () => {
  let t: TestApp;
  let owner: Client;
  let key: { id: string; key: string };
  beforeAll(async () => {
    t = await makeTestApp('sqlite');
    owner = (await setupOwner(t.app)).client;
    key = (await owner.post('/api/v1/agent-keys', { name: 'laptop' })).json();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers a valid key with its key id and organisation, and stores no report', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/agent/whoami', headers: { 'x-api-key': key.key } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ keyId: key.id, orgId: expect.any(String) });
    const hosts = await owner.get('/api/v1/hosts');
    expect(hosts.json().items ?? hosts.json()).toHaveLength(0);
  });

  it('refuses a missing, unknown or revoked key with 401', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/api/v1/agent/whoami' });
    const unknown = await t.app.inject({ method: 'GET', url: '/api/v1/agent/whoami', headers: { 'x-api-key': 'pal_unknownkey0000000000000000000000' } });
    expect(missing.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const revoked = (await owner.post('/api/v1/agent-keys', { name: 'old' })).json();
    expect((await owner.request('DELETE', `/api/v1/agent-keys/${revoked.id}`)).statusCode).toBeLessThan(300);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/agent/whoami', headers: { 'x-api-key': revoked.key } });
    expect(res.statusCode).toBe(401);
  });
});
