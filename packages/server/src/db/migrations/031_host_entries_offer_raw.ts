// Issue 12, ingest protocol v2: an unchanged re-scan's offer recognised from its bytes, as a v1
// body is by its raw key (migration 024): the agent sends its offer as canonical JSON, so the
// backend makes the same text from the report it processed and keeps its key (sha256 with the
// scan time blanked) beside the offer hash; the offer route looks it up before any parsing.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../open.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('host_entries').addColumn('offer_raw', 'text').execute();
  await sql`create index host_entries_offer_raw on host_entries (org_id, offer_raw) where offer_raw is not null`.execute(db);
}
