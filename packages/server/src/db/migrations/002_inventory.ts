// Inventory tables: hosts, server definitions (keyed by fingerprint), instances (host x
// client x config path), findings, tool definitions, received reports, change events,
// alerts, risk overrides, webhooks and their deliveries, daily level snapshots.
// Types in ../inventory-schema.ts. Conventions (text ids and times, JSON as text, no
// booleans) are described in ../schema.ts. Indexes are shaped for the list queries: every
// one starts with org_id because every query filters by it.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';
import { enableRowLevelSecurity } from '../rls.js';

const TENANT_TABLES = ['hosts', 'servers', 'server_instances', 'findings', 'tools', 'reports', 'events', 'alerts', 'overrides', 'webhooks', 'webhook_deliveries', 'daily_snapshots'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('hosts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('os_user', 'text', (c) => c.notNull())
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('agent_version', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('last_report_hash', 'text')
    .addColumn('last_scanned_at', 'text')
    .addColumn('clients', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('server_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_score', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_level', 'text', (c) => c.notNull().defaultTo('none'))
    .addColumn('search', 'text', (c) => c.notNull().defaultTo(''))
    .addUniqueConstraint('hosts_identity', ['org_id', 'hostname', 'os_user'])
    .execute();
  await db.schema.createIndex('hosts_org_last_seen').on('hosts').columns(['org_id', 'last_seen']).execute();
  await db.schema.createIndex('hosts_org_hostname').on('hosts').columns(['org_id', 'hostname']).execute();

  await db.schema
    .createTable('servers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('command', 'text')
    .addColumn('url', 'text')
    .addColumn('package_ecosystem', 'text')
    .addColumn('package_name', 'text')
    .addColumn('package_version', 'text')
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('score', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('level', 'text', (c) => c.notNull().defaultTo('none'))
    .addColumn('level_rank', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('finding_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('host_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('instance_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('clients', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('search', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addUniqueConstraint('servers_fingerprint', ['org_id', 'fingerprint'])
    .execute();
  // The list shows servers with at least one instance, sorted by one of these.
  await db.schema.createIndex('servers_org_score').on('servers').columns(['org_id', 'score', 'id']).execute();
  await db.schema.createIndex('servers_org_name').on('servers').columns(['org_id', 'name', 'id']).execute();
  await db.schema.createIndex('servers_org_last_seen').on('servers').columns(['org_id', 'last_seen', 'id']).execute();
  await db.schema.createIndex('servers_org_hosts').on('servers').columns(['org_id', 'host_count', 'id']).execute();
  await db.schema.createIndex('servers_org_level').on('servers').columns(['org_id', 'level_rank', 'score']).execute();

  await db.schema
    .createTable('server_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('server_id', 'text', (c) => c.notNull().references('servers.id').onDelete('cascade'))
    .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
    .addColumn('instance_key', 'text', (c) => c.notNull())
    .addColumn('client', 'text', (c) => c.notNull())
    .addColumn('config_path', 'text', (c) => c.notNull())
    .addColumn('project_path', 'text')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('cwd', 'text')
    .addColumn('score', 'integer', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addUniqueConstraint('server_instances_key', ['org_id', 'host_id', 'instance_key'])
    .execute();
  await db.schema.createIndex('server_instances_server').on('server_instances').columns(['org_id', 'server_id', 'host_id']).execute();
  await db.schema.createIndex('server_instances_client').on('server_instances').columns(['org_id', 'client', 'server_id']).execute();

  await db.schema
    .createTable('findings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('instance_id', 'text', (c) => c.notNull().references('server_instances.id').onDelete('cascade'))
    .addColumn('server_id', 'text', (c) => c.notNull())
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('severity_rank', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('findings_instance').on('findings').columns(['org_id', 'instance_id']).execute();
  await db.schema.createIndex('findings_server').on('findings').columns(['org_id', 'server_id', 'rule_id']).execute();
  await db.schema.createIndex('findings_host').on('findings').columns(['org_id', 'host_id']).execute();
  await db.schema.createIndex('findings_severity').on('findings').columns(['org_id', 'severity_rank']).execute();

  await db.schema
    .createTable('tools')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('server_id', 'text', (c) => c.notNull().references('servers.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition_hash', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('input_schema_hash', 'text')
    .addColumn('annotations', 'text')
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addUniqueConstraint('tools_definition', ['org_id', 'server_id', 'name', 'definition_hash'])
    .execute();

  await db.schema
    .createTable('reports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
    .addColumn('report_hash', 'text', (c) => c.notNull())
    .addColumn('agent_key_id', 'text')
    .addColumn('agent_version', 'text', (c) => c.notNull())
    .addColumn('scanned_at', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('server_count', 'integer', (c) => c.notNull())
    .addColumn('event_count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reports_host').on('reports').columns(['org_id', 'host_id', 'received_at']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('host_id', 'text')
    .addColumn('server_id', 'text')
    .addColumn('report_id', 'text')
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_org_at').on('events').columns(['org_id', 'created_at']).execute();
  await db.schema.createIndex('events_server').on('events').columns(['org_id', 'server_id', 'created_at']).execute();
  await db.schema.createIndex('events_host').on('events').columns(['org_id', 'host_id', 'created_at']).execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('severity_rank', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open','acknowledged','resolved')`))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('server_id', 'text')
    .addColumn('host_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('acknowledged_at', 'text')
    .addColumn('acknowledged_by', 'text')
    .addColumn('resolved_at', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('alerts_org_status').on('alerts').columns(['org_id', 'status', 'created_at']).execute();
  await db.schema.createIndex('alerts_org_at').on('alerts').columns(['org_id', 'created_at']).execute();

  await db.schema
    .createTable('overrides')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('server_id', 'text', (c) => c.notNull().references('servers.id').onDelete('cascade'))
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull().check(sql`decision in ('accept_risk','benign')`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending','active','voided','revoked')`))
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('approved_by', 'text')
    .addColumn('approved_at', 'text')
    .addColumn('voided_at', 'text')
    .addColumn('void_reason', 'text')
    .addColumn('revoked_by', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('overrides_server').on('overrides').columns(['org_id', 'server_id', 'status']).execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull().check(sql`format in ('generic','slack')`))
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('secret_prefix', 'text', (c) => c.notNull())
    .addColumn('min_severity', 'text', (c) => c.notNull())
    .addColumn('disabled_at', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_org').on('webhooks').columns(['org_id', 'created_at']).execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('alert_id', 'text')
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending','delivered','failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .execute();
  await db.schema.createIndex('webhook_deliveries_hook').on('webhook_deliveries').columns(['org_id', 'webhook_id', 'created_at']).execute();

  // Not a tenant table: only ids and due times, so the retry sweeper can find due deliveries
  // across organisations and then work on each inside that organisation's scope.
  await db.schema
    .createTable('webhook_queue')
    .addColumn('delivery_id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_queue_due').on('webhook_queue').column('due_at').execute();

  await db.schema
    .createTable('daily_snapshots')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('critical', 'integer', (c) => c.notNull())
    .addColumn('high', 'integer', (c) => c.notNull())
    .addColumn('medium', 'integer', (c) => c.notNull())
    .addColumn('low', 'integer', (c) => c.notNull())
    .addColumn('none', 'integer', (c) => c.notNull())
    .addColumn('hosts', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('daily_snapshots_pk', ['org_id', 'day'])
    .execute();

  if (dialect === 'postgres') {
    for (const table of TENANT_TABLES) await enableRowLevelSecurity(db, dialect, table);
  }
}
