// Row-level security: the second wall behind the application's own org scoping. Each
// request's work runs in a transaction that sets `app.org_id` (see withOrg); a tenant table's
// policy lets a row through only when its org matches. FORCE makes the policy bind the
// table's owner too, so the app role may own the tables it migrates. Superusers and roles
// with BYPASSRLS escape every policy: the app must not connect as one (start-up warns).
import { sql, type Kysely } from 'kysely';
import type { DialectName } from './open.js';

const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return name;
}

/**
 * Turns on row-level security for a tenant table with a policy on `column` (default org_id)
 * for every command. PostgreSQL only; a no-op on SQLite.
 */
export async function enableRowLevelSecurity(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  dialect: DialectName,
  table: string,
  column = 'org_id',
): Promise<void> {
  if (dialect !== 'postgres') return;
  const t = sql.id(ident(table));
  const c = sql.id(ident(column));
  await sql`alter table ${t} enable row level security`.execute(db);
  await sql`alter table ${t} force row level security`.execute(db);
  await sql`create policy tenant_isolation on ${t} using (${c} = current_setting('app.org_id', true)) with check (${c} = current_setting('app.org_id', true))`.execute(db);
}

/**
 * Tables that carry an org_id column but are deliberately NOT tenant tables (no RLS). Every
 * other table with org_id must have forced row-level security; a test walks the schema and
 * fails on any table that has neither. Add a table here only with its reason.
 */
export const NOT_TENANT_TABLES: ReadonlyMap<string, string> = new Map([
  ['sessions', 'a credential keyed by a secret, read before the org is known (migration 001)'],
  ['webhook_queue', 'delivery ids and due times only, swept across orgs (migration 002)'],
  ['advisory_watch', '(org id, package key) pairs for re-matching after an advisory import (migration 011)'],
  ['org_registry', 'organisation ids only, for the retention sweep across orgs (migration 020)'],
]);
