// The secure defaults docs/deployment.md promises, as properties of the server's real
// configuration parser over arbitrary environments: loopback unless told otherwise, sign-up
// closed unless exactly "open", production refuses weak JWT secrets and accepts generated
// ones, only postgres:// database URLs; bad input is a ConfigError sentence, never a crash.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '@palisade/server';

const RUNS = { seed: 42, numRuns: 200 };
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'palisade-defaults-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// test fixture: a fresh random signing key, the way the docs tell operators to make one
const strongSecret = fc.uint8Array({ minLength: 32, maxLength: 64 }).map((b) => Buffer.from(b).toString('base64url')).filter((s) => s.length >= 43);
const noise = fc.dictionary(fc.constantFrom('HOME', 'LANG', 'TZ', 'PORT', 'PALISADE_LOG_LEVEL', 'UNRELATED'), fc.string({ maxLength: 12 }), { maxKeys: 4 });

function attempt(env: NodeJS.ProcessEnv) {
  try {
    return { config: resolveConfig({ data: dataDir }, env) };
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(ConfigError);
    expect((err as Error).message.length).toBeGreaterThan(20);
    return { error: (err as Error).message };
  }
}

describe('server configuration defaults', () => {
  it('listens on 127.0.0.1 with sign-up closed unless told otherwise', () => {
    fc.assert(
      fc.property(noise, strongSecret, fc.boolean(), (env, secret, production) => {
        const r = attempt({ ...env, ...(production ? { NODE_ENV: 'production' } : {}), JWT_SECRET: secret });
        if (r.config) {
          expect(r.config.host).toBe('127.0.0.1');
          expect(r.config.signupOpen).toBe(false);
          expect(r.config.trustProxy).toBe(false);
        } else expect(r.error).toMatch(/port/i); // only a noisy PORT can be refused here
      }),
      RUNS,
    );
  });

  it('opens sign-up only for exactly "open"; anything else is closed or a clear refusal', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('open', 'OPEN', 'closed', 'yes', 'true', '1', ' open')), strongSecret, (signup, secret) => {
        const r = attempt({ PALISADE_SIGNUP: signup, JWT_SECRET: secret });
        if (r.config?.signupOpen) expect(signup).toBe('open');
      }),
      RUNS,
    );
  });

  it('in production accepts a generated secret and refuses short, repetitive or example ones', () => {
    fc.assert(
      fc.property(strongSecret, (secret) => {
        expect(attempt({ NODE_ENV: 'production', JWT_SECRET: secret }).config?.jwtSecret).toBe(secret);
      }),
      RUNS,
    );
    const weak = fc.oneof(
      fc.string({ maxLength: 31 }),
      fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 11, max: 40 })).map(([s, n]) => s.repeat(n)),
      fc.tuple(fc.constantFrom('changeme', 'your-secret', 'supersecret', 'example', 'palisade'), strongSecret).map(([w, s]) => s.slice(0, 20) + w + s.slice(20)),
    );
    fc.assert(
      fc.property(weak, (secret) => {
        const r = attempt({ NODE_ENV: 'production', JWT_SECRET: secret });
        if (r.config) {
          // whatever slipped through is at least long and varied
          expect(secret.length).toBeGreaterThanOrEqual(32);
          expect(new Set(secret).size).toBeGreaterThanOrEqual(12);
        } else expect(r.error).toMatch(/JWT_SECRET/);
      }),
      RUNS,
    );
    expect(attempt({ NODE_ENV: 'production' }).error).toMatch(/JWT_SECRET is not set.*Generate one/);
  });

  it('takes only postgres:// database URLs', () => {
    const secret = randomBytes(48).toString('base64url');
    fc.assert(
      fc.property(fc.oneof(fc.webUrl(), fc.string({ maxLength: 30 }), fc.constantFrom('postgres://u@h/db', 'postgresql://u@h/db', 'mysql://u@h/db', 'sqlite:///x')), (url) => {
        const r = attempt({ DATABASE_URL: url, JWT_SECRET: secret });
        if (r.config?.databaseUrl) expect(url).toMatch(/^postgres(?:ql)?:\/\//);
      }),
      RUNS,
    );
  });
});
