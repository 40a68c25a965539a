// The compose file's PostgreSQL init script, run for real against the test cluster: it must
// create a plain login role (no superuser, no BYPASSRLS, no CREATEDB/CREATEROLE) owning its
// database, and take a password full of quotes and semicolons safely. Names are made unique
// for the run so the shared cluster keeps no trace.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dbUrl = process.env.PALISADE_TEST_DATABASE_URL;
function hasPsql(): boolean {
  try {
    execFileSync('psql', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
const psqlFound = hasPsql();
const ready = Boolean(dbUrl) && psqlFound;
if (!ready) console.warn('postgres-init.test: skipped, PALISADE_TEST_DATABASE_URL is not set or psql is missing');

const u = new URL(dbUrl ?? 'postgres://postgres@127.0.0.1:5432/test');
const pgEnv = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username || 'postgres'), PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: u.pathname.slice(1) || 'postgres' };
const name = `palisade_init_${randomBytes(4).toString('hex')}`;
const runtime = `${name}_rt`;
const psql = (sql: string) => execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-Atc', sql], { env: pgEnv, encoding: 'utf8' }).trim();
const dir = mkdtempSync(path.join(os.tmpdir(), 'palisade-pg-init-'));

afterAll(() => {
  if (ready) {
    try {
      psql(`DROP DATABASE IF EXISTS ${name}`);
      psql(`DROP ROLE IF EXISTS ${name}`);
      psql(`DROP ROLE IF EXISTS ${runtime}`);
    } catch {
      /* best effort */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ready)('deploy/postgres/10-palisade-app-role.sh', () => {
  it('creates a plain role that owns its database, with a hostile password passed safely', () => {
    const original = readFileSync(path.join(root, 'deploy/postgres/10-palisade-app-role.sh'), 'utf8');
    // only the SQL's role and database names change, to this run's unique name
    // (the owner role `palisade` and the runtime role `palisade_runtime`)
    const script = original.replace(/\bpalisade_runtime\b/g, runtime).replace(/\b(ROLE|DATABASE|OWNER|TO|ON DATABASE) palisade\b/g, `$1 ${name}`);
    expect(script).not.toMatch(/\b(?:ROLE|DATABASE|OWNER|TO) palisade\b/);
    const file = path.join(dir, 'init.sh');
    writeFileSync(file, script);
    const password = `it's"a;test'); DROP ROLE postgres; --${randomBytes(6).toString('hex')}`;
    const runtimePassword = `x'; ALTER ROLE ${name} SUPERUSER; --${randomBytes(6).toString('hex')}`;
    execFileSync('sh', [file], { env: { ...pgEnv, POSTGRES_USER: pgEnv.PGUSER, POSTGRES_DB: pgEnv.PGDATABASE, PALISADE_DB_PASSWORD: password, PALISADE_DB_RUNTIME_PASSWORD: runtimePassword }, stdio: 'pipe' });
    for (const role of [name, runtime]) {
      const row = psql(`SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '${role}'`);
      expect(row, role).toBe('t|f|f|f|f');
    }
    expect(psql(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${name}'`)).toBe(name);
    // the superuser the password tried to drop is still there
    expect(psql(`SELECT count(*) FROM pg_roles WHERE rolname = '${pgEnv.PGUSER}'`)).toBe('1');
    // the password was stored as given (a SCRAM verifier exists for the role)
    expect(psql(`SELECT count(*) FROM pg_authid WHERE rolname IN ('${name}', '${runtime}') AND rolpassword IS NOT NULL`)).toBe('2');
  });

  it('refuses to run without the app password', () => {
    const file = path.join(root, 'deploy/postgres/10-palisade-app-role.sh');
    let stderr = '';
    try {
      execFileSync('sh', [file], { env: { PATH: process.env.PATH }, stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr?: Buffer }).stderr);
    }
    expect(stderr).toMatch(/PALISADE_DB_PASSWORD/);
  });
});
