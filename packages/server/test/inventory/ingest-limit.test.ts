// Ingest is rate-limited per agent key (PALISADE_INGEST_RATE_LIMIT a minute): the next
// report gets 429 with a sentence, another key is not affected. (SQLite only: the limiter
// does not touch the database.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type TestApp } from '../helpers/app.js';
import { report, server } from './fixtures.js';

describe('ingest rate limit', () => {
  let t: TestApp;
  let keys: string[];
  const saved = process.env.PALISADE_INGEST_RATE_LIMIT;
  beforeAll(async () => {
    process.env.PALISADE_INGEST_RATE_LIMIT = '3';
    t = await makeTestApp('sqlite');
    const { client } = await setupOwner(t.app);
    keys = [(await client.post('/api/v1/agent-keys', { name: 'a' })).json().key, (await client.post('/api/v1/agent-keys', { name: 'b' })).json().key];
  });
  afterAll(async () => {
    process.env.PALISADE_INGEST_RATE_LIMIT = saved;
    await t?.close();
  });

  it('answers 429 after the limit, per key', async () => {
    const send = (key: string) => t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(report([server({ name: 'x' })])) });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await send(keys[0]!)).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await send(keys[0]!);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(limited.json().error.message).toMatch(/try again/);
    expect((await send(keys[1]!)).statusCode).toBe(200);
  });
});
