// Configuration and first-start hardening (issue 13): NODE_ENV read case-insensitively with
// anything but an explicit development value meaning production; patterned JWT secrets
// refused by an entropy estimate (< 256 bits); the setup token expires after an hour, is
// printed anew on restart and works once.
import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, isProduction, resolveConfig } from '../src/config.js';
import { estimateSecretBits, jwtSecretProblem } from '../src/auth/jwt-secret.js';
import { Client, makeTestApp, PASSWORD, SETUP_TOKEN, type TestApp } from './helpers/app.js';
import { createTestDatabase, tempDir, type TestDatabase } from './helpers/databases.js';

const strong = crypto.randomBytes(48).toString('base64url');

describe('NODE_ENV', () => {
  it.each(['production', 'Production', 'PRODUCTION', 'prod', ' production ', 'staging', 'live', 'yes'])('%j is production', (v) => {
    expect(isProduction(v)).toBe(true);
    expect(() => resolveConfig({ data: tempDir() }, { NODE_ENV: v })).toThrow(/Refusing to start in production: JWT_SECRET is not set/);
    expect(resolveConfig({ data: tempDir() }, { NODE_ENV: v, JWT_SECRET: strong }).production).toBe(true);
  });
  it.each(['development', 'Development', 'DEV', 'test', 'local', '', undefined])('%j is development', (v) => {
    expect(isProduction(v)).toBe(false);
    expect(resolveConfig({ data: tempDir() }, v === undefined ? {} : { NODE_ENV: v }).production).toBe(false);
  });
});

describe('JWT_SECRET entropy', () => {
  it.each([
    ['repeated', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['a repeated short pattern', 'abcabcabcabcabcabcabcabcabcabcabcabcabcabc'],
    ['a repeated longer pattern', 'Xk9#mQ2$vL7@pR4!Xk9#mQ2$vL7@pR4!Xk9#mQ2$vL7@pR4!'],
    ['dictionary words', 'MonkeyDragonSunshinePrincessFootballBaseball1234!'],
    ['keyboard rows', 'qwertyuiopasdfghjklzxcvbnm1234567890QWERTYUIOP'],
    ['a sequence', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'],
    ['too short for 256 bits', crypto.randomBytes(24).toString('base64url')],
  ])('refuses %s', (_name, secret) => {
    expect(estimateSecretBits(secret)).toBeLessThan(256);
    expect(jwtSecretProblem(secret)).toMatch(/too little randomness|too short/);
    expect(() => resolveConfig({ data: tempDir() }, { NODE_ENV: 'production', JWT_SECRET: secret })).toThrow(ConfigError);
  });
  it.each([
    ['48 random bytes, base64url', crypto.randomBytes(48).toString('base64url')],
    ['32 random bytes, base64url', crypto.randomBytes(32).toString('base64url')],
    ['32 random bytes, hex', crypto.randomBytes(32).toString('hex')],
    ['48 random bytes, base64', crypto.randomBytes(48).toString('base64')],
  ])('accepts %s', (_name, secret) => {
    expect(jwtSecretProblem(secret)).toBeNull();
  });
});

describe('setup token', () => {
  const made: TestApp[] = [];
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const t of made) await t.close();
    for (const d of dbs) await d.drop();
  });

  it('expires an hour after start with a clear message, and a restart makes a new one', async () => {
    const db = await createTestDatabase('sqlite');
    dbs.push(db);
    const first = await makeTestApp('sqlite', { setupToken: undefined }, db);
    const token = first.platform.setup.token!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(first.platform.setup.expiresAt - Date.now()).toBeGreaterThan(3590_000);
    expect(first.platform.setup.expiresAt - Date.now()).toBeLessThanOrEqual(3600_000);
    first.platform.setup.expiresAt = Date.now() - 1;
    const r = await new Client(first.app).post('/api/v1/setup', { setupToken: token, orgName: 'A', email: 'o@a.test', password: PASSWORD });
    expect(r.statusCode).toBe(403);
    expect(r.json().error).toMatchObject({ code: 'setup_token_expired' });
    expect(r.json().error.message).toMatch(/restart palisade serve/);
    await first.app.close();
    const second = await makeTestApp('sqlite', { setupToken: undefined }, db);
    made.push(second);
    expect(second.platform.setup.token).not.toBe(token);
    expect((await new Client(second.app).post('/api/v1/setup', { setupToken: second.platform.setup.token, orgName: 'A', email: 'o@a.test', password: PASSWORD })).statusCode).toBe(201);
  });

  it('works once: two setups at the same moment make one organisation', async () => {
    const t = await makeTestApp('sqlite');
    made.push(t);
    const body = (i: number) => ({ setupToken: SETUP_TOKEN, orgName: `Org ${i}`, email: `o${i}@a.test`, password: PASSWORD });
    const answers = await Promise.all([0, 1, 2].map((i) => new Client(t.app).post('/api/v1/setup', body(i))));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409]);
    expect(t.platform.setup.token).toBeNull();
    // a weak password does not use the token up
    const fresh = await makeTestApp('sqlite');
    made.push(fresh);
    expect((await new Client(fresh.app).post('/api/v1/setup', { ...body(5), password: 'password1234' })).statusCode).toBe(400);
    expect((await new Client(fresh.app).post('/api/v1/setup', body(5))).statusCode).toBe(201);
  });
});
