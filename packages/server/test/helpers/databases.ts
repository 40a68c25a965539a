// Real databases for tests. SQLite: a fresh temp data folder. PostgreSQL: a fresh database
// owned by a fresh NON-superuser login role (so row-level security binds), created through
// PALISADE_TEST_DATABASE_URL (a superuser on CI) and dropped afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { generatedRuntimeRoleName, migrate, openDatabase, prepareDatabase } from '../../src/db/index.js';
import { inject } from 'vitest';

// PALISADE_TEST_DATABASE_URL when set; otherwise the throwaway server that the global setup
// (test/setup/postgres.ts) started for this run. The setup fails the run when it can start
// neither, so PostgreSQL tests never skip silently.
export const PG_URL: string | undefined = process.env.PALISADE_TEST_DATABASE_URL || inject('palisadePgUrl') || undefined;
export const PG_SKIP_REASON = 'no PostgreSQL for the tests: the global setup (packages/server/test/setup/postgres.ts) provided none';
export const dialects = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof dialects)[number];

export interface TestDatabase {
  dialect: TestDialect;
  /** for openDatabase / buildApp */
  databaseUrl?: string;
  dataDir: string;
  /** superuser URL of the same database (postgres only), for inspecting behind the app's back */
  adminUrl?: string;
  /** the runtime role (PostgreSQL): what databaseUrl connects as */
  appRole?: string;
  /** the owner (migration) role and its URL (PostgreSQL) */
  ownerRole?: string;
  migrationUrl?: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'palisade-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  const dataDir = tempDir();
  if (dialect === 'sqlite') {
    return { dialect, dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  if (!PG_URL) throw new Error(PG_SKIP_REASON);
  const suffix = crypto.randomBytes(6).toString('hex');
  const dbName = `palisade_t_${suffix}`;
  // the owner (migration) role owns the database and its tables; the runtime role serves requests
  const owner = `palisade_own_${suffix}`;
  const role = `palisade_app_${suffix}`;
  const ownerPassword = crypto.randomBytes(12).toString('hex');
  const password = crypto.randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create role ${owner} login password '${ownerPassword}' nosuperuser nobypassrls nocreatedb nocreaterole`);
    await admin.query(`create role ${role} login password '${password}' nosuperuser nobypassrls nocreatedb nocreaterole`);
    await admin.query(`create database ${dbName} owner ${owner}`);
  } finally {
    await admin.end();
  }
  const urlFor = (user: string, pass: string) => {
    const u = new URL(PG_URL);
    u.username = user;
    u.password = pass;
    u.pathname = `/${dbName}`;
    return u.toString();
  };
  const adminUrl = new URL(PG_URL);
  adminUrl.pathname = `/${dbName}`;
  return {
    dialect,
    dataDir,
    databaseUrl: urlFor(role, password),
    migrationUrl: urlFor(owner, ownerPassword),
    adminUrl: adminUrl.toString(),
    appRole: role,
    ownerRole: owner,
    async drop() {
      fs.rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${dbName} with (force)`);
        // roles a single-URL start made for itself (db/roles.ts) go too
        const made = await c.query<{ rolname: string }>(`select rolname from pg_roles where rolname = $1`, [generatedRuntimeRoleName(owner, dbName)]);
        for (const r of [role, owner, ...made.rows.map((x) => x.rolname)]) await c.query(`drop role if exists ${r}`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Migrates a test database the way `palisade serve` does: as the owner, with the runtime role's grants (PostgreSQL); returns the migrations applied. */
export async function migrateTestDatabase(t: TestDatabase): Promise<string[]> {
  if (t.dialect === 'postgres') return (await prepareDatabase({ databaseUrl: t.databaseUrl!, databaseMigrationUrl: t.migrationUrl })).applied;
  const store = openDatabase({ dataDir: t.dataDir });
  try {
    return await migrate(store);
  } finally {
    await store.close();
  }
}

export function skipReason(dialect: TestDialect): boolean {
  return dialect === 'postgres' && !PG_URL;
}
