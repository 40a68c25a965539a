// OrgScope is the only way to reach tenant tables: repositories take it as their first
// argument and filter every query by it. withOrg also sets `app.org_id` for the transaction
// so that PostgreSQL's row-level security policies hold even if a query forgot to filter.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { DialectName } from './open.js';

export interface OrgScope {
  readonly orgId: string;
}

export interface Db {
  db: Kysely<Database>;
  dialect: DialectName;
}

export type Tx = Transaction<Database>;

/** Runs fn in one transaction in which only `scope.orgId`'s rows are visible (PostgreSQL RLS). */
export async function withOrg<T>(store: Db, scope: OrgScope, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!scope.orgId) throw new Error('withOrg needs an organisation id.');
  return store.db.transaction().execute(async (tx) => {
    if (store.dialect === 'postgres') await sql`select set_config('app.org_id', ${scope.orgId}, true)`.execute(tx);
    return fn(tx);
  });
}

/**
 * Runs fn in a transaction with extra `app.*` settings, for the few look-ups that happen before
 * the org is known and are keyed by a secret the caller holds (an agent key's hash, an
 * invitation token's hash, a signed-in user's own memberships). Policies in migration 001
 * let exactly those rows through.
 */
export async function withLookup<T>(store: Db, settings: Record<string, string>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return store.db.transaction().execute(async (tx) => {
    if (store.dialect === 'postgres') {
      for (const [k, v] of Object.entries(settings)) {
        if (!/^app\.[a-z_]+$/.test(k)) throw new Error(`bad setting name ${k}`);
        await sql`select set_config(${k}, ${v}, true)`.execute(tx);
      }
    }
    return fn(tx);
  });
}

/** Inside a withLookup transaction, once the org is known: scope the rest of it to that org. */
export async function scopeTransaction(tx: Tx, dialect: DialectName, orgId: string): Promise<void> {
  if (dialect === 'postgres') await sql`select set_config('app.org_id', ${orgId}, true)`.execute(tx);
}
