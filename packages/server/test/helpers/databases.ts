// Real databases for tests. SQLite: a fresh temp data folder. PostgreSQL: a fresh database
// owned by a fresh NON-superuser login role (so row-level security binds), created through
// PALISADE_TEST_DATABASE_URL (a superuser on CI) and dropped afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.PALISADE_TEST_DATABASE_URL;
export const PG_SKIP_REASON = 'PALISADE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped (set it to postgres://postgres@127.0.0.1:5432/test to run them)';
export const dialects = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof dialects)[number];

export interface TestDatabase {
  dialect: TestDialect;
  /** for openDatabase / buildApp */
  databaseUrl?: string;
  dataDir: string;
  /** superuser URL of the same database (postgres only), for inspecting behind the app's back */
  adminUrl?: string;
  appRole?: string;
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
  const role = `palisade_app_${suffix}`;
  const password = crypto.randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create role ${role} login password '${password}' nosuperuser nobypassrls nocreatedb nocreaterole`);
    await admin.query(`create database ${dbName} owner ${role}`);
  } finally {
    await admin.end();
  }
  const appUrl = new URL(PG_URL);
  appUrl.username = role;
  appUrl.password = password;
  appUrl.pathname = `/${dbName}`;
  const adminUrl = new URL(PG_URL);
  adminUrl.pathname = `/${dbName}`;
  return {
    dialect,
    dataDir,
    databaseUrl: appUrl.toString(),
    adminUrl: adminUrl.toString(),
    appRole: role,
    async drop() {
      fs.rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${dbName} with (force)`);
        await c.query(`drop role if exists ${role}`);
      } finally {
        await c.end();
      }
    },
  };
}

export function skipReason(dialect: TestDialect): boolean {
  return dialect === 'postgres' && !PG_URL;
}
