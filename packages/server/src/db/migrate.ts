// Runs the migrations in db/migrations (NNN_name.ts or .js once built) in order, all
// pending ones inside ONE transaction, and records each in palisade_migrations. The same
// files serve both databases; a migration branches on `dialect` only where SQL differs.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { DialectName } from './open.js';
import type { Db } from './scope.js';
import { storageFor } from './storage.js';

export interface Migration {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.(ts|js)$/;

export function listMigrationFiles(dir: URL): { name: string; url: URL }[] {
  const seen = new Map<string, URL>();
  for (const file of fs.readdirSync(dir)) {
    if (!MIGRATION_FILE.test(file) || file.endsWith('.d.ts') || file.endsWith('.test.ts')) continue;
    const name = file.replace(/\.(ts|js)$/, '');
    if (!seen.has(name)) seen.set(name, new URL(file, dir));
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, url]) => ({ name, url }));
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(store: Db, dir: URL = new URL('./migrations/', import.meta.url)): Promise<string[]> {
  const files = listMigrationFiles(dir);
  const db = store.db as Kysely<Database>;
  const applied = await db.transaction().execute(async (tx) => {
    if (store.dialect === 'postgres') {
      // two servers starting at once must not both migrate
      await sql`select pg_advisory_xact_lock(727165)`.execute(tx);
    }
    await tx.schema
      .createTable('palisade_migrations')
      .ifNotExists()
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .execute();
    const done = new Set((await tx.selectFrom('palisade_migrations').select('name').execute()).map((r) => r.name));
    const applied: string[] = [];
    for (const { name, url } of files) {
      if (done.has(name)) continue;
      const mod = (await import(pathToFileURL(url.pathname).href)) as Partial<Migration>;
      if (typeof mod.up !== 'function') throw new Error(`Migration ${name} exports no up(db, dialect) function.`);
      await mod.up(tx, store.dialect);
      await tx.insertInto('palisade_migrations').values({ name, applied_at: new Date().toISOString() }).execute();
      applied.push(name);
    }
    return applied;
  });
  // The planner's statistics, fresh from the start (issue 12: without them SQLite picked an
  // org-wide index for hot look-ups by id). Cheap: SQLite analyzes a bounded sample per index.
  await storageFor(store).maintain(db, 'migrated');
  return applied;
}
