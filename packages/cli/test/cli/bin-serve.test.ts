// `npm start` runs `bin/palisade.js serve`: the shipped executable must reach the backend, which
// lives outside the CLI bundle (a code-cached script loses its dynamic import hook, so the bin
// runs such commands from the tsc output). Uses the checkout's build, made by `npm install`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = path.join(repoRoot, 'packages/cli/bin/palisade.js');
const built = existsSync(path.join(repoRoot, 'packages/cli/dist/main.js')) && existsSync(path.join(repoRoot, 'packages/server/dist/index.js'));

describe.skipIf(!built)('bin/palisade.js serve (the npm start path; needs `npm run build`)', () => {
  it('starts the backend, prints the setup link and answers /healthz', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'palisade-bin-serve-'));
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data', data], { env: { ...process.env, NODE_ENV: 'development' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "serving on" line and setup link within 30 s:\n${out}`)), 30_000);
        const check = () => {
          const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m && /\/setup\?token=\S+/.test(out)) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
      });
      expect(out).not.toMatch(/dynamic import callback/);
      expect(out).toMatch(/\/setup\?token=/);
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(data, { recursive: true, force: true });
    }
  }, 60_000);
});
