// Indexes for the server list, which shows only definitions some host still runs
// (instance_count > 0). Each sort index carries instance_count, so that filter, deep pages
// (OFFSET) and the walk to the page are answered from the index; the row is read only for
// the rows shown. The filter index covers the count and the level / text / client filters
// without touching the wide rows. (Partial indexes were tried: SQLite would not use them
// for the count.) They replace the plain sort indexes of migration 002.
import type { Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  for (const name of ['servers_org_score', 'servers_org_name', 'servers_org_last_seen', 'servers_org_hosts', 'servers_org_level']) await db.schema.dropIndex(name).execute();
  await db.schema.createIndex('servers_list_score').on('servers').columns(['org_id', 'score', 'id', 'instance_count']).execute();
  await db.schema.createIndex('servers_list_name').on('servers').columns(['org_id', 'name', 'id', 'instance_count']).execute();
  await db.schema.createIndex('servers_list_last_seen').on('servers').columns(['org_id', 'last_seen', 'id', 'instance_count']).execute();
  await db.schema.createIndex('servers_list_hosts').on('servers').columns(['org_id', 'host_count', 'id', 'instance_count']).execute();
  await db.schema.createIndex('servers_list_level').on('servers').columns(['org_id', 'level_rank', 'score', 'id', 'instance_count']).execute();
  await db.schema.createIndex('servers_list_filter').on('servers').columns(['org_id', 'instance_count', 'level_rank', 'search', 'clients']).execute();
}
