// Opens the database the server runs on: an embedded SQLite file in the data folder by
// default, PostgreSQL when a connection URL is given. One query layer (kysely) for both.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface OpenDatabaseOptions {
  /** postgres://... ; when absent, SQLite in dataDir */
  databaseUrl?: string;
  /** folder for palisade.db (SQLite) */
  dataDir?: string;
  /** PostgreSQL pool size */
  poolSize?: number;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: DialectName;
  close(): Promise<void>;
}

/**
 * SQLite's page cache, in MiB (its default is 2). Ingest touches index pages all over the
 * inventory, but the file's pages stay in the operating system's cache anyway, so a miss here
 * is a copy, not a disk read; the cache counts in full toward `serve`'s RSS (issue 12: <= 250 MB
 * at 1M instances). Measured at 100k hosts / 1M instances (2026-12-05): 64 MiB filled at
 * start-up (ANALYZE) and held 250 MB idle; 16 MiB holds 202 MB idle, 256-258 MB after 150
 * changed reports (was 305-317), for 43-53 ms of serve CPU per changed report (was 39-50:
 * within one run's noise at load 7).
 */
export const SQLITE_CACHE_MIB = 16;

export function openDatabase(opts: OpenDatabaseOptions): OpenedDatabase {
  if (opts.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
      throw new Error('DATABASE_URL must start with postgres:// or postgresql://; unset it to use the embedded SQLite database.');
    }
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // an idle client that loses its connection must not crash the process
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    pgPools.set(db, pool);
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  if (!opts.dataDir) throw new Error('openDatabase needs a databaseUrl or a dataDir.');
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(opts.dataDir, 'palisade.db');
  const sqlite = new SqliteDatabase(file);
  fs.chmodSync(file, 0o600);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`cache_size = -${SQLITE_CACHE_MIB * 1024}`);
  // Checkpoints (copying the WAL back into the database file, with an fsync) run on a
  // thread of their own, twice a second, so commits seldom wait for one; the connection
  // still checkpoints by itself past 4,000 WAL pages (16 MiB), which then finds most pages
  // copied already (and restarts the WAL). A checkpoint copies each page once however often
  // commits rewrote it since the last one; the hot pages (hosts, list indexes) are rewritten
  // by nearly every report.
  sqlite.pragma('wal_autocheckpoint = 4000');
  const checkpointer = startCheckpointer(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  return {
    db,
    dialect: 'sqlite',
    close: async () => {
      await checkpointer.terminate();
      await db.destroy();
    },
  };
}

/** How often the checkpoint thread runs a PASSIVE checkpoint (it never blocks a writer). */
export const CHECKPOINT_EVERY_MS = 500;

const CHECKPOINTER = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next run or the connection's own checkpoint catches up */ }
}, workerData.everyMs);
`;

function startCheckpointer(file: string): Worker {
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file, everyMs: CHECKPOINT_EVERY_MS } });
  worker.on('error', () => undefined); // the connection's own checkpoints remain
  worker.unref();
  return worker;
}

const pgPools = new WeakMap<Kysely<Database>, pg.Pool>();

/** A text value checked by pgLiteral, safe to inline in a pgBatch statement. */
export type PgLiteral = string & { readonly __literal: true };

/** Shapes of values that pgBatch statements may carry inline. */
export const LITERAL_SHAPES = {
  /** app-made ids (UUIDs) */
  id: /^[A-Za-z0-9-]{1,64}$/,
  /** sha256 hex digests */
  hex: /^[0-9a-f]{64}$/,
  /** ISO 8601 times */
  time: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/,
} as const;

/**
 * A text value as an inline SQL literal, when it has one of the strict shapes above (no quote,
 * backslash or other special character can pass them); null otherwise.
 */
export function pgLiteral(value: string, shape: keyof typeof LITERAL_SHAPES): PgLiteral | null {
  return LITERAL_SHAPES[shape].test(value) ? (`'${value}'` as PgLiteral) : null;
}

/**
 * PostgreSQL only: runs the statements in ONE round trip, as one implicit transaction (the
 * simple query protocol runs a multi-statement message in a single transaction: all or
 * nothing, and `set_config(..., true)` holds for exactly the statements after it). Row locks
 * are released inside the server at the end, without waiting for the client. The statements
 * carry no parameters: every value in them must come from pgLiteral. Returns each
 * statement's rows, or null when this database was not opened by openDatabase on PostgreSQL.
 */
export async function pgBatch(db: Kysely<Database>, statements: readonly string[]): Promise<Array<Array<Record<string, unknown>>> | null> {
  const pool = pgPools.get(db);
  if (!pool) return null;
  const result = (await pool.query(statements.join(';\n'))) as pg.QueryResult | pg.QueryResult[];
  return (Array.isArray(result) ? result : [result]).map((r) => r.rows as Array<Record<string, unknown>>);
}

/** How many prepared SQLite statements are kept, by SQL text (least recently used go first). */
export const SQLITE_STATEMENT_CACHE = 500;

type SqliteStatement = ReturnType<SqliteDatabase.Database['prepare']>;

/**
 * The database as kysely's SQLite driver sees it, with prepared statements reused by SQL
 * text: the driver prepares every query it runs, and preparing costs more than running most
 * of ingest's statements. The driver runs one query at a time on its single connection and
 * reads each result fully (all/run), so a statement is never in use twice at once.
 */
export function cachingStatements(sqlite: SqliteDatabase.Database, max = SQLITE_STATEMENT_CACHE) {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare(text: string): SqliteStatement {
      const hit = cache.get(text);
      if (hit) {
        // most recently used last
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = sqlite.prepare(text);
      cache.set(text, stmt);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return stmt;
    },
  };
}

/** True when the database answers a trivial query. */
export async function pingDatabase(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

export interface RoleCheck {
  role: string;
  superuser: boolean;
  bypassRls: boolean;
}

/** On PostgreSQL, which role we are connected as and whether it escapes row-level security. */
export async function checkConnectedRole(db: Kysely<Database>): Promise<RoleCheck> {
  const r = await sql<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>`
    select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user`.execute(db);
  const row = r.rows[0];
  return { role: row?.rolname ?? 'unknown', superuser: Boolean(row?.rolsuper), bypassRls: Boolean(row?.rolbypassrls) };
}
