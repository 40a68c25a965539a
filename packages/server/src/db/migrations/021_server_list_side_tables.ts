// Side tables for the server list's client and text filters, filled from the servers already
// stored (see services/server-index.ts for what they hold and why). Tenant tables under
// row-level security: the backfill visits each organisation (org_registry, migration 020)
// inside its own scope, so it needs no way around the policies.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

// Frozen with this migration (a migration imports no services: they follow today's schema,
// a migration the schema of its own time): the side rows of one server as the server list's
// index defined them when these tables were made.
const BATCH = 1000;

function chunkRows<T extends object>(rows: readonly T[], maxParams = 30_000): T[][] {
  if (rows.length === 0) return [];
  const size = Math.max(1, Math.floor(maxParams / Math.max(1, Object.keys(rows[0]!).length)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

function trigrams(text: string): string[] {
  const cps = Array.from(asciiLower(text));
  const out = new Set<string>();
  for (let i = 0; i + 3 <= cps.length; i++) out.add(cps[i]! + cps[i + 1]! + cps[i + 2]!);
  return [...out];
}

function serverIndexRows(dialect: DialectName, orgId: string, s: { id: string; instance_count: number; clients: string; search: string }) {
  const clients = s.instance_count > 0 ? s.clients : '';
  const keys = new Set(clients.split(',').filter(Boolean).map((c) => (dialect === 'sqlite' ? asciiLower(c) : c)));
  return {
    state: { org_id: orgId, server_id: s.id, clients, search: s.search },
    clients: [...keys].map((client) => ({ org_id: orgId, client, server_id: s.id })),
    trigrams: trigrams(s.search).map((trigram) => ({ org_id: orgId, trigram, server_id: s.id })),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('server_index_state')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('server_id', 'text', (c) => c.notNull())
    .addColumn('clients', 'text', (c) => c.notNull())
    .addColumn('search', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_index_state_pk', ['org_id', 'server_id'])
    .execute();
  await db.schema
    .createTable('server_clients')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('client', 'text', (c) => c.notNull())
    .addColumn('server_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_clients_pk', ['org_id', 'client', 'server_id'])
    .execute();
  await db.schema
    .createTable('server_trigrams')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('trigram', 'text', (c) => c.notNull())
    .addColumn('server_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_trigrams_pk', ['org_id', 'trigram', 'server_id'])
    .execute();
  for (const table of ['server_index_state', 'server_clients', 'server_trigrams']) await enableRowLevelSecurity(db, dialect, table);

  const orgs = await db.selectFrom('org_registry').select('org_id').orderBy('org_id').execute();
  for (const { org_id: org } of orgs as Array<{ org_id: string }>) {
    if (dialect === 'postgres') await sql`select set_config('app.org_id', ${org}, true)`.execute(db);
    let after = '';
    for (;;) {
      const servers = (await db
        .selectFrom('servers')
        .select(['id', 'instance_count', 'clients', 'search'])
        .where('org_id', '=', org)
        .where('id', '>', after)
        .orderBy('id')
        .limit(BATCH)
        .execute()) as Array<{ id: string; instance_count: number; clients: string; search: string }>;
      if (servers.length === 0) break;
      after = servers[servers.length - 1]!.id;
      const rows = servers.map((s) => serverIndexRows(dialect, org, { ...s, instance_count: Number(s.instance_count) }));
      for (const part of chunkRows(rows.map((r) => r.state))) await db.insertInto('server_index_state').values(part).execute();
      for (const part of chunkRows(rows.flatMap((r) => r.clients))) await db.insertInto('server_clients').values(part).execute();
      for (const part of chunkRows(rows.flatMap((r) => r.trigrams))) await db.insertInto('server_trigrams').values(part).execute();
    }
  }
  if (dialect === 'postgres') await sql`select set_config('app.org_id', '', true)`.execute(db);
}
