// Credentials in URLs and query strings never reach a log line (issue 13): access_token,
// token, password, pwd, key, secret (and names holding them), whatever wrote the line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type TestApp } from './helpers/app.js';
import { redactLogLine, redactUrl } from '../src/app.js';

describe('log redaction of URLs and query strings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  const secrets = ['S3cr3t-access', 'S3cr3t-token', 'S3cr3t-pass', 'S3cr3t-pwd', 'S3cr3t-key', 'S3cr3t-secret', 'S3cr3t-apikey', 'S3cr3t-client', 'S3cr3t-refresh', 'S3cr3t-setup'];

  it('request lines, the not-found answer and any other line carry no credential value', async () => {
    const { client } = await setupOwner(t.app);
    const q = `access_token=${secrets[0]}&token=${secrets[1]}&password=${secrets[2]}&PWD=${secrets[3]}&key=${secrets[4]}&secret=${secrets[5]}&apiKey=${secrets[6]}&client_secret=${secrets[7]}&refresh_token=${secrets[8]}&setupToken=${secrets[9]}&q=visible`;
    await client.get(`/api/v1/servers?${q}`);
    const missing = await client.get(`/api/v1/nothing-here?${q}`);
    expect(missing.statusCode).toBe(404);
    for (const s of secrets) expect(missing.body).not.toContain(s);
    await t.app.inject({ method: 'GET', url: `/setup?${q}` });
    t.app.log.warn(`a plugin quoting a URL: https://hooks.example.test/x?token=${secrets[1]}&sig=1`);
    t.app.log.error({ err: new Error(`fetch failed for /cb?access_token=${secrets[0]}`) }, 'failed');
    const all = t.logs.join('');
    expect(all).toContain('q=visible');
    expect(all).toContain('[redacted]');
    for (const s of secrets) expect(all, s).not.toContain(s);
  });

  it('the redaction itself', () => {
    expect(redactUrl('/a?access_token=x&b=1&my_pwd=y#frag')).toBe('/a?access_token=[redacted]&b=1&my_pwd=[redacted]#frag');
    expect(redactLogLine('{"url":"/a?Password=x&ok=1"}')).toBe('{"url":"/a?Password=[redacted]&ok=1"}');
  });
});
