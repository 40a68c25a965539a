// Runs the real Palisade from sources for the browser tests: the CLI (scan, report) and
// `palisade serve` on a free loopback port with a temporary data folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(REPO, 'packages/cli/src/main.ts');
const NODE_ARGS = ['--conditions=source', '--import', 'tsx', MAIN];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds packages/web/dist when it is missing or older than its sources (CI builds it in `npm install`). */
export function ensureWebBuilt(): void {
  const web = path.join(REPO, 'packages/web');
  const index = path.join(web, 'dist/index.html');
  const stale =
    !existsSync(index) ||
    newestMtime(path.join(web, 'src')) > statSync(index).mtimeMs ||
    statSync(path.join(web, 'index.html')).mtimeMs > statSync(index).mtimeMs;
  if (!stale) return;
  const r = spawnSync('npm', ['run', 'build', '-w', '@palisade/web'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Building the dashboard failed:\n${r.stdout}\n${r.stderr}`);
}

export interface RunningServer {
  origin: string;
  dataDir: string;
  setupToken: string;
  output: () => string;
  /** what serve wrote on stdout alone (the first-start banner) */
  stdout: () => string;
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** PostgreSQL: the runtime role's URL (DATABASE_URL) and the owner's for migrations; SQLite when absent */
  databaseUrl?: string;
  databaseMigrationUrl?: string;
  /** extra environment for `palisade serve` */
  env?: NodeJS.ProcessEnv;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'palisade-e2e-'));
  const port = await freePort();
  const setupToken = randomBytes(24).toString('hex');
  const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir], {
    cwd: REPO,
    // the webhook test's receiver listens on loopback
    env: {
      ...process.env,
      PALISADE_SETUP_TOKEN: setupToken,
      PALISADE_LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      DATABASE_URL: opts.databaseUrl ?? '',
      DATABASE_MIGRATION_URL: opts.databaseMigrationUrl ?? '',
      PALISADE_WEBHOOK_ALLOW_PRIVATE: '1',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const origin = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));

  const deadline = Date.now() + 45_000;
  for (;;) {
    if (done) throw new Error(`palisade serve exited before it was ready:\n${out}`);
    try {
      const r = await fetch(origin + '/healthz');
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`palisade serve did not answer /healthz within 45 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    origin,
    dataDir,
    setupToken,
    output: () => out,
    stdout: () => stdout,
    stop: async () => {
      if (!done) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
