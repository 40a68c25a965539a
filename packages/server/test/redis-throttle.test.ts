// REDIS_URL: two `palisade serve` processes share the sign-in throttle and the route rate
// limits (issue 13). Against the local Redis at 127.0.0.1:6379 (REDIS_TEST_URL to change).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { PASSWORD } from './helpers/app.js';
import { tempDir } from './helpers/databases.js';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379/0';

async function redisUp(): Promise<boolean> {
  const u = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || 6379), u.hostname);
    s.setTimeout(1000);
    s.on('connect', () => (s.end(), resolve(true)));
    s.on('error', () => resolve(false));
    s.on('timeout', () => (s.destroy(), resolve(false)));
  });
}
const up = await redisUp();
// never skipped silently in CI: there Redis must be up
const skip = !up && process.env.CI !== 'true';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function serve(data: string): Promise<{ base: string; stderr: () => string; stdout: () => string; child: ChildProcess }> {
  const script = `const m = await import(${JSON.stringify(main)}); process.exitCode = await m.runServe({ port: '0', host: '127.0.0.1', data: process.env.PALISADE_DATA_DIR });`;
  const { DATABASE_URL: _d, NODE_ENV: _n, PALISADE_SETUP_TOKEN: _s, ...env } = process.env;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, env: { ...env, PALISADE_DATA_DIR: data, REDIS_URL }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  // the first-start banner with the setup link is printed on stdout
  child.stdout!.on('data', (d) => (stdout += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${stderr}`)), 60_000);
    const check = setInterval(() => {
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ base: m[1]!, stderr: () => stderr, stdout: () => stdout, child });
      }
    }, 50);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}

const post = (base: string, path: string, body: unknown) => fetch(`${base}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe.skipIf(skip)(`REDIS_URL: throttles shared by two server processes${skip ? ' (skipped: no Redis at ' + REDIS_URL + '; set REDIS_TEST_URL)' : ''}`, () => {
  it('failures counted by one process hold back sign-ins on the other; the rate limiter keeps its counts in Redis', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const clean = async () => {
        for (const pattern of ['palisade:throttle:*127.0.0.1*', 'palisade:rate:*']) {
          const keys = await redis.keys(pattern);
          if (keys.length) await redis.del(...keys);
        }
      };
      await clean();
      const data = tempDir();
      dirs.push(data);
      const one = await serve(data);
      const until = Date.now() + 30_000;
      while (!/setup\?token=/.test(one.stdout()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const token = /setup\?token=([A-Za-z0-9_-]+)/.exec(one.stdout())![1]!;
      const email = `owner-${Date.now()}@redis.test`;
      expect((await post(one.base, '/setup', { setupToken: token, orgName: 'R', email, password: PASSWORD })).status).toBe(201);
      const two = await serve(data);
      // ten wrong passwords for one account from one address, alternating between the processes
      for (let i = 0; i < 10; i++) {
        const r = await post(i % 2 ? two.base : one.base, '/auth/login', { email, password: `wrong-password-${i}-xxxxxxxx` });
        expect(r.status, `attempt ${i}`).toBe(401);
      }
      // each process saw five: only shared counts reach the limit of ten
      for (const s of [one, two]) {
        const r = await post(s.base, '/auth/login', { email, password: PASSWORD });
        expect(r.status).toBe(429);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect((await redis.keys('palisade:throttle:pair:*')).length).toBeGreaterThan(0);
      expect((await redis.keys('palisade:rate:*')).length).toBeGreaterThan(0);
      await clean();
    } finally {
      redis.disconnect();
    }
  }, 120_000);
});
