// Two PostgreSQL roles. The OWNER (migration) role owns the schema and runs the migrations;
// the RUNTIME role that serves requests has only the DML it needs: it cannot ALTER a table
// (so it cannot turn row-level security off), and on audit_log it has INSERT and SELECT only
// (no UPDATE, DELETE or TRUNCATE). `DATABASE_MIGRATION_URL` names the owner and
// `DATABASE_URL` the runtime role. With only `DATABASE_URL`, that role is taken as the owner:
// it migrates, then creates (when it has CREATEROLE) a runtime login role of its own, keeps
// that role's generated password in an owner-only table, and the server connects as it.
// When it cannot, start-up says exactly what to run and the server runs as the owner.
import crypto from 'node:crypto';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { migrate } from './migrate.js';
import { openDatabase } from './open.js';
import type { Database } from './schema.js';

/** Owner-only bookkeeping: the generated runtime role's password (never granted to the runtime role). */
export const RUNTIME_LOGIN_TABLE = 'palisade_runtime_login';

export interface PreparedDatabase {
  /** the URL the server should serve requests with */
  runtimeUrl: string;
  runtimeRole: string;
  ownerRole: string;
  applied: string[];
  warnings: string[];
}

export interface PrepareOptions {
  databaseUrl: string;
  databaseMigrationUrl?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

async function currentRole(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ u: string }>('select current_user as u');
    return r.rows[0]!.u;
  } finally {
    await c.end();
  }
}

/** The runtime role's name when the server makes one itself: per owner and database. */
export function generatedRuntimeRoleName(owner: string, database: string): string {
  return `palisade_rt_${crypto.createHash('sha256').update(`${database}\0${owner}`).digest('hex').slice(0, 16)}`;
}

/** Grants the runtime role exactly what serving needs, on every table there is now (run after each migration). */
export async function grantRuntimePrivileges(db: AnyDb, runtimeRole: string): Promise<void> {
  const r = sql.id(runtimeRole);
  // a database whose CONNECT was revoked from PUBLIC (deploy/postgres) still lets the runtime role in
  const dbName = (await sql<{ d: string }>`select current_database() as d`.execute(db)).rows[0]!.d;
  await sql`savepoint grant_connect`.execute(db);
  await sql`grant connect on database ${sql.id(dbName)} to ${r}`.execute(db).then(
    () => sql`release savepoint grant_connect`.execute(db),
    () => sql`rollback to savepoint grant_connect`.execute(db),
  );
  await sql`grant usage on schema public to ${r}`.execute(db);
  await sql`grant select, insert, update, delete on all tables in schema public to ${r}`.execute(db);
  await sql`grant usage, select on all sequences in schema public to ${r}`.execute(db);
  // append-only: reading and adding entries, nothing else
  await sql`revoke update, delete, truncate, references, trigger on audit_log from ${r}`.execute(db);
  // the migration record is read-only, the owner's bookkeeping unreadable
  await sql`revoke insert, update, delete, truncate on palisade_migrations from ${r}`.execute(db);
  await sql`revoke all on ${sql.id(RUNTIME_LOGIN_TABLE)} from ${r}`.execute(db);
  await sql`revoke truncate, references, trigger on all tables in schema public from ${r}`.execute(db);
  // nobody but the owner creates objects in the schema (PostgreSQL before 15 let everyone)
  await sql`savepoint revoke_create`.execute(db);
  await sql`revoke create on schema public from public`.execute(db).then(
    () => sql`release savepoint revoke_create`.execute(db),
    () => sql`rollback to savepoint revoke_create`.execute(db),
  );
}

interface RoleRow {
  rolsuper: boolean;
  rolcreaterole: boolean;
}

/**
 * Migrates as the owner and readies the runtime role. PostgreSQL only. The caller connects
 * to `runtimeUrl` afterwards.
 */
export async function prepareDatabase(opts: PrepareOptions): Promise<PreparedDatabase> {
  const ownerUrl = opts.databaseMigrationUrl ?? opts.databaseUrl;
  const owner = openDatabase({ databaseUrl: ownerUrl, poolSize: 2 });
  const warnings: string[] = [];
  try {
    const applied = await migrate(owner);
    const db = owner.db as unknown as AnyDb;
    return await db.transaction().execute(async (tx) => {
      // servers starting together take turns (the same lock as migrate)
      await sql`select pg_advisory_xact_lock(727165)`.execute(tx);
      await sql`create table if not exists ${sql.id(RUNTIME_LOGIN_TABLE)} (role text primary key, password text not null)`.execute(tx);
      await sql`revoke all on ${sql.id(RUNTIME_LOGIN_TABLE)} from public`.execute(tx);
      const me = (await sql<{ u: string; d: string }>`select current_user as u, current_database() as d`.execute(tx)).rows[0]!;
      if (opts.databaseMigrationUrl) {
        const runtimeRole = await currentRole(opts.databaseUrl);
        if (runtimeRole === me.u) {
          warnings.push(`WARNING: DATABASE_URL and DATABASE_MIGRATION_URL connect as the same role "${runtimeRole}", which owns the tables: it could turn row-level security off or rewrite the audit log. Point DATABASE_URL at a separate runtime role.`);
        } else await grantRuntimePrivileges(tx, runtimeRole);
        return { runtimeUrl: opts.databaseUrl, runtimeRole, ownerRole: me.u, applied, warnings };
      }
      // one URL: make (or reuse) a runtime role of our own when this role may create roles
      const role = generatedRuntimeRoleName(me.u, me.d);
      const rights = (await sql<RoleRow>`select rolsuper, rolcreaterole from pg_roles where rolname = current_user`.execute(tx)).rows[0];
      const exists = (await sql<{ n: number }>`select count(*)::int as n from pg_roles where rolname = ${role}`.execute(tx)).rows[0]!.n > 0;
      const stored = (await sql<{ password: string }>`select password from ${sql.id(RUNTIME_LOGIN_TABLE)} where role = ${role}`.execute(tx)).rows[0]?.password;
      const canManage = Boolean(rights?.rolsuper || rights?.rolcreaterole);
      let password = stored;
      if (!exists || !stored) {
        if (!canManage) {
          warnings.push(
            `WARNING: DATABASE_URL connects as "${me.u}", which owns the tables, and it may not create roles, so the server runs with the owner's rights (it could turn row-level security off or rewrite the audit log). ` +
              `Create a runtime role and give the server both URLs: CREATE ROLE palisade_runtime LOGIN PASSWORD '<a random password>' NOSUPERUSER NOBYPASSRLS; ` +
              `then set DATABASE_MIGRATION_URL to the current URL (the owner "${me.u}") and DATABASE_URL to the same database as palisade_runtime; palisade serve grants the runtime role its privileges (SELECT/INSERT/UPDATE/DELETE, audit_log INSERT/SELECT only) at every start. ` +
              `Or give "${me.u}" CREATEROLE and the server makes such a role itself.`,
          );
          return { runtimeUrl: opts.databaseUrl, runtimeRole: me.u, ownerRole: me.u, applied, warnings };
        }
        password = crypto.randomBytes(24).toString('hex');
        const lit = sql.lit(password);
        if (exists) await sql`alter role ${sql.id(role)} login password ${lit}`.execute(tx);
        else await sql`create role ${sql.id(role)} login password ${lit} nosuperuser nobypassrls nocreatedb nocreaterole noinherit`.execute(tx);
        await sql`insert into ${sql.id(RUNTIME_LOGIN_TABLE)} (role, password) values (${role}, ${password}) on conflict (role) do update set password = excluded.password`.execute(tx);
      }
      await grantRuntimePrivileges(tx, role);
      const url = new URL(opts.databaseUrl);
      url.username = role;
      url.password = password!;
      return { runtimeUrl: url.toString(), runtimeRole: role, ownerRole: me.u, applied, warnings };
    });
  } finally {
    await owner.close();
  }
}

/** True when the connected role owns the given table (the runtime role must not). */
export async function ownsTable(db: Kysely<Database>, table: string): Promise<boolean> {
  const r = await sql<{ owns: boolean }>`select pg_has_role(current_user, tableowner, 'USAGE') as owns from pg_tables where schemaname = 'public' and tablename = ${table}`.execute(db);
  return Boolean(r.rows[0]?.owns);
}
