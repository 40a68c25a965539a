// The report schema is a contract at the backend boundary (issue 13): a field it does not
// define is refused with a 400 naming it; env and header names must be names
// (^[A-Za-z_][A-Za-z0-9_.-]{0,127}$; headers an RFC 7230 token), so `X=secret` cannot store
// a value. On both databases, through the real ingest route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type TestApp } from './helpers/app.js';
import { dialects, PG_SKIP_REASON, skipReason } from './helpers/databases.js';
import { badEnvOrHeaderName, unknownField } from '../src/services/report-limits.js';
import { report, server } from './inventory/fixtures.js';

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`report boundary on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let t: TestApp;
    let key: string;
    const send = (body: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/agent/report', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    beforeAll(async () => {
      t = await makeTestApp(dialect);
      const { client } = await setupOwner(t.app);
      key = (await client.post('/api/v1/agent-keys', { name: 'k' })).json().key;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('accepts a report as the schema defines it', async () => {
      expect((await send(report([server({ name: 'ok', envNames: ['GITHUB_TOKEN', 'my.var-1'], headerNames: ['Authorization', 'X-Api-Key'] })]))).statusCode).toBe(200);
    });

    it.each([
      ['at the top', (r: Record<string, unknown>) => ({ ...r, extra: 1 }), 'extra'],
      ['in a server', (r: Record<string, unknown>) => ({ ...r, servers: [{ ...(r.servers as object[])[0], envValues: { A: 'x' } }] }), 'servers[0].envValues'],
      ['in the host', (r: Record<string, unknown>) => ({ ...r, host: { ...(r.host as object), password: 'x' } }), 'host.password'],
    ])('refuses an unknown field %s, naming it', async (_where, change, field) => {
      const res = await send(change(report([server({ name: 'a' })]) as unknown as Record<string, unknown>));
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_report');
      expect(res.json().error.message).toContain(`does not define: "${field}"`);
    });

    it.each([
      ['env', { envNames: ['X=secret'] }, /servers\[0\]\.envNames\[0\] \("X=secret"\) is not an environment variable name/],
      ['env starting with a digit', { envNames: ['1PASSWORD'] }, /envNames\[0\]/],
      ['env too long', { envNames: ['A'.repeat(129)] }, /envNames\[0\]/],
      ['header with a colon', { headerNames: ['Authorization: Bearer abc'] }, /servers\[0\]\.headerNames\[0\] .* is not an HTTP header name/],
      ['header with a space', { headerNames: ['X Api'] }, /headerNames\[0\]/],
      ['secret signal name', { secrets: [{ location: 'env', name: 'TOKEN=ghp_x', type: 'github-token' }] }, /secrets\[0\]\.name .* not an environment variable name/],
    ])('refuses a bad %s name with a clear message', async (_what, over, message) => {
      const res = await send(report([server({ name: 'b', ...over } as never)]));
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(message);
    });
  });
}

describe('boundary helpers', () => {
  it('unknownField ignores keys the parse kept and finds nested ones', () => {
    expect(unknownField({ a: 1, b: { c: [{ d: 1, e: 2 }] } }, { a: 1, b: { c: [{ d: 1 }] } })).toBe('b.c[0].e');
    expect(unknownField({ a: 1 }, { a: 1, defaulted: true })).toBeNull();
  });
  it('badEnvOrHeaderName accepts names and refuses values', () => {
    expect(badEnvOrHeaderName({ servers: [{ envNames: ['_A', 'a.b-c'], headerNames: ["x-!#$%&'*+.^_`|~"] }] })).toBeNull();
    expect(badEnvOrHeaderName({ servers: [{ envNames: ['A B'] }] })).toMatch(/servers\[0\]\.envNames\[0\]/);
  });
});
