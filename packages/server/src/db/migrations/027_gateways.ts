// Issue 16 §4: gateways managed from the backend. A `palisade gateway` registers with a gateway
// key (like an agent key: `pgw_` + 32 random bytes, only the SHA-256 kept) and syncs: it pushes
// its upstreams with their tools, its virtual servers, quarantine events, call records and
// rate-limit hits, and pulls the decisions taken in the dashboard.
// - gateways: one row per key (name, display prefix, key hash, version and last sync).
// - gateway_tools: the tools each gateway serves now, with their state at the gateway.
// - gateway_quarantine: a changed tool definition held back at a gateway: old and new
//   definition, state pending -> (awaiting_second ->) approved | rejected.
// - gateway_calls / gateway_rate_hits: history (principal ids hashed by the gateway; pruned
//   to the organisation's retention period on every sync).
// Every table is a tenant table with forced row-level security; the key look-up before the
// organisation is known goes through a policy keyed by the key's hash (as agent_keys).
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('gateways')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('version', 'text')
    .addColumn('last_seen_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('registered'))
    .addColumn('upstreams', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('virtual_servers', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('tools_hash', 'text')
    .execute();
  await db.schema.createIndex('gateways_org').on('gateways').columns(['org_id', 'created_at']).execute();

  await db.schema
    .createTable('gateway_tools')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id').onDelete('cascade'))
    .addColumn('federated', 'text', (c) => c.notNull())
    .addColumn('upstream', 'text', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('definition_hash', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_tools_pk', ['gateway_id', 'federated'])
    .execute();
  await db.schema.createIndex('gateway_tools_org').on('gateway_tools').columns(['org_id', 'gateway_id', 'upstream']).execute();

  await db.schema
    .createTable('gateway_quarantine')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id').onDelete('cascade'))
    .addColumn('federated', 'text', (c) => c.notNull())
    .addColumn('upstream', 'text', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('old_hash', 'text')
    .addColumn('new_hash', 'text', (c) => c.notNull())
    .addColumn('old_definition', 'text')
    .addColumn('new_definition', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('first_approver', 'text')
    .addColumn('first_approved_at', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('alert_id', 'text')
    .execute();
  await db.schema.createIndex('gateway_quarantine_change').unique().on('gateway_quarantine').columns(['gateway_id', 'federated', 'new_hash']).execute();
  await db.schema.createIndex('gateway_quarantine_org_state').on('gateway_quarantine').columns(['org_id', 'state', 'created_at']).execute();

  await db.schema
    .createTable('gateway_calls')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('principal', 'text')
    .addColumn('virtual_server', 'text')
    .addColumn('upstream', 'text')
    .addColumn('tool', 'text')
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('latency_ms', 'real')
    .addColumn('result_bytes', 'integer')
    .execute();
  await db.schema.createIndex('gateway_calls_org_at').on('gateway_calls').columns(['org_id', 'at']).execute();
  await db.schema.createIndex('gateway_calls_org_gateway_at').on('gateway_calls').columns(['org_id', 'gateway_id', 'at']).execute();

  await db.schema
    .createTable('gateway_rate_hits')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('principal', 'text')
    .addColumn('virtual_server', 'text')
    .addColumn('tool', 'text')
    .addColumn('reason', 'text')
    .execute();
  await db.schema.createIndex('gateway_rate_hits_org_at').on('gateway_rate_hits').columns(['org_id', 'at']).execute();

  for (const t of ['gateways', 'gateway_tools', 'gateway_quarantine', 'gateway_calls', 'gateway_rate_hits']) await enableRowLevelSecurity(db, dialect, t);
  // a gateway key is looked up by its hash before the organisation is known (as agent keys)
  if (dialect === 'postgres') await sql`create policy key_lookup on gateways for select using (key_hash = current_setting('app.key_hash', true))`.execute(db);
}
