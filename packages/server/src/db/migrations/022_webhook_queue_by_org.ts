// The webhook dispatcher reads due deliveries per organisation (fair queues, issue 13):
// (org_id, due_at) lets each organisation's slice come from the index.
import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('webhook_queue_org_due').on('webhook_queue').columns(['org_id', 'due_at']).execute();
}
