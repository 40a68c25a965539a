// `palisade serve` as a real process, and the production JWT_SECRET rules.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig, ConfigError } from '../src/config.js';
import { jwtSecretProblem } from '../src/auth/jwt-secret.js';
import { PASSWORD } from './helpers/app.js';
import { tempDir } from './helpers/databases.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const cli = path.join(repo, 'packages/cli/src/main.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string | undefined>) {
  const { DATABASE_URL: _db, JWT_SECRET: _js, NODE_ENV: _ne, PALISADE_SETUP_TOKEN: _st, ...base } = process.env;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'serve', ...args], { cwd: repo, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  child.stdout.on('data', (d) => (stdout += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

async function waitFor(check: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('palisade serve (process)', () => {
  it('starts on an empty data folder, prints a one-time setup link that works, and stops cleanly on SIGTERM', async () => {
    const data = tempDir();
    dirs.push(data);
    const s = start(['--port', '0', '--host', '127.0.0.1', '--data', data], {});
    try {
      // the one-time link is in the banner on stdout (for a person); stderr only says where it is
      await waitFor(() => /setup\?token=/.test(s.stdout()));
      expect(s.stderr()).not.toMatch(/setup\?token=/);
      expect(s.stderr()).toMatch(/setup link is printed on standard output/);
      const link = /(http:\/\/127\.0\.0\.1:\d+)\/setup\?token=([A-Za-z0-9_-]+)/.exec(s.stdout())!;
      const [, base, token] = link;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const setup = await fetch(`${base}/api/v1/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setupToken: token, orgName: 'Proc Org', email: 'owner@proc.test', password: PASSWORD }) });
      expect(setup.status).toBe(201);
      expect(setup.headers.getSetCookie().map((c) => c.split('=')[0]).sort()).toEqual(['palisade_csrf', 'palisade_refresh', 'palisade_session']);
      // the generated signing key is kept private in the data folder
      expect(fs.statSync(path.join(data, 'jwt-secret')).mode & 0o777).toBe(0o600);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.stderr()).toMatch(/shutting down/);
    } finally {
      s.child.kill('SIGKILL');
    }
  }, 90_000);

  it('refuses to start in production without a strong JWT_SECRET, saying how to make one', async () => {
    const data = tempDir();
    dirs.push(data);
    const s = start(['--port', '0', '--data', data], { NODE_ENV: 'production' });
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/Refusing to start in production: JWT_SECRET is not set/);
    expect(s.stderr()).toMatch(/randomBytes\(48\)/);
  }, 60_000);
});

describe('JWT_SECRET rules', () => {
  const strong = 'q8Vt2mZ4xK9pL1sN7wB3cR6yH0jF5gD-aE_uTiOo';
  it.each([
    ['missing', undefined, /not set/],
    ['short', 'Zx8#kP2q', /too short/],
    ['an example', 'changeme-changeme-changeme-changeme-123', /example or placeholder/],
    ['low entropy', 'abababababababababababababababababababab', /too little randomness/],
  ])('production refuses a %s secret', (_name, secret, why) => {
    expect(jwtSecretProblem(secret)).toMatch(why);
    expect(() => resolveConfig({ data: tempDir() }, { NODE_ENV: 'production', ...(secret ? { JWT_SECRET: secret } : {}) })).toThrow(ConfigError);
  });

  it('production accepts a strong secret', () => {
    expect(resolveConfig({ data: tempDir() }, { NODE_ENV: 'production', JWT_SECRET: strong }).jwtSecret).toBe(strong);
  });

  it('the embedded default generates one strong secret and keeps it (0600)', () => {
    const data = tempDir();
    dirs.push(data);
    const a = resolveConfig({ data }, {}).jwtSecret;
    const b = resolveConfig({ data }, {}).jwtSecret;
    expect(a).toBe(b);
    expect(jwtSecretProblem(a)).toBeNull();
    expect(fs.statSync(path.join(data, 'jwt-secret')).mode & 0o777).toBe(0o600);
  });

  it('bad flags are clear errors', () => {
    expect(() => resolveConfig({ port: 'eighty', data: tempDir() }, {})).toThrow(/--port must be a whole number/);
    expect(() => resolveConfig({ data: tempDir() }, { PALISADE_SIGNUP: 'maybe' })).toThrow(/PALISADE_SIGNUP/);
    expect(() => resolveConfig({ data: tempDir() }, { DATABASE_URL: 'mysql://db/palisade' })).toThrow(/must start with postgres:\/\//);
    expect(() => resolveConfig({ data: tempDir() }, { PALISADE_SETUP_TOKEN: 'short' })).toThrow(/at least 16 characters/);
    expect(resolveConfig({ data: tempDir() }, { PALISADE_SETUP_TOKEN: 'preset-setup-token-for-tests-123', PALISADE_SIGNUP: 'open' })).toMatchObject({ setupToken: 'preset-setup-token-for-tests-123', signupOpen: true });
  });
});
