// Retention: history older than an organisation's retention period is deleted, in batches,
// by the hourly sweep. What goes: received-report records, change events (except those an
// open or acknowledged alert still points at), resolved alerts, finished webhook deliveries
// and daily level snapshots. What stays: the current inventory (hosts, servers, instances,
// findings, tool definitions), open and acknowledged alerts, overrides, users and keys, and
// the audit log, which is append-only and never pruned by Palisade.
import { sql } from 'kysely';
import { writeAudit } from '../audit.js';
import { withOrg, type Db, type OrgScope, type Tx } from '../db/index.js';
import { getRetentionDays } from './settings.js';

const BATCH = 2000;

export interface PruneCounts {
  reports: number;
  events: number;
  alerts: number;
  webhookDeliveries: number;
  dailySnapshots: number;
}

const DAY_MS = 86_400_000;

/** Deletes one organisation's history older than its retention period; audited when anything went. */
export async function pruneOrganisation(store: Db, scope: OrgScope, now = new Date()): Promise<PruneCounts> {
  const counts: PruneCounts = { reports: 0, events: 0, alerts: 0, webhookDeliveries: 0, dailySnapshots: 0 };
  const org = scope.orgId;
  const days = await withOrg(store, scope, (tx) => getRetentionDays(tx, scope));
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  // Each batch is its own short transaction, so a large first sweep never holds locks for long.
  const loop = async (key: keyof PruneCounts, step: (tx: Tx) => Promise<number>) => {
    for (;;) {
      const n = await withOrg(store, scope, step);
      counts[key] += n;
      if (n < BATCH) return;
    }
  };
  await loop('alerts', async (tx) => {
    const ids = tx.selectFrom('alerts').select('id').where('org_id', '=', org).where('status', '=', 'resolved').where('resolved_at', '<', cutoff).limit(BATCH);
    return deleted(await tx.deleteFrom('alerts').where('org_id', '=', org).where('id', 'in', ids).executeTakeFirst());
  });
  await loop('events', async (tx) => {
    const ids = tx
      .selectFrom('events')
      .select('id')
      .where('org_id', '=', org)
      .where('created_at', '<', cutoff)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('alerts').select(sql<number>`1`.as('x')).where('alerts.org_id', '=', org).whereRef('alerts.event_id', '=', 'events.id'))))
      .limit(BATCH);
    return deleted(await tx.deleteFrom('events').where('org_id', '=', org).where('id', 'in', ids).executeTakeFirst());
  });
  await loop('reports', async (tx) => {
    const ids = tx.selectFrom('reports').select('id').where('org_id', '=', org).where('received_at', '<', cutoff).limit(BATCH);
    return deleted(await tx.deleteFrom('reports').where('org_id', '=', org).where('id', 'in', ids).executeTakeFirst());
  });
  await loop('webhookDeliveries', async (tx) => {
    const ids = tx.selectFrom('webhook_deliveries').select('id').where('org_id', '=', org).where('status', 'in', ['delivered', 'failed']).where('created_at', '<', cutoff).limit(BATCH);
    return deleted(await tx.deleteFrom('webhook_deliveries').where('org_id', '=', org).where('id', 'in', ids).executeTakeFirst());
  });
  await loop('dailySnapshots', async (tx) =>
    deleted(await tx.deleteFrom('daily_snapshots').where('org_id', '=', org).where('day', '<', cutoff.slice(0, 10)).executeTakeFirst()),
  );
  if (Object.values(counts).some((n) => n > 0)) {
    await withOrg(store, scope, (tx) => writeAudit(tx, scope, { actorType: 'system', action: 'retention.pruned', targetType: 'org', targetId: org, details: { retentionDays: days, before: cutoff, ...counts } }));
  }
  return counts;
}

function deleted(r: { numDeletedRows: bigint }): number {
  return Number(r.numDeletedRows);
}

/** The hourly sweep: every organisation in turn. A failure in one does not stop the others. */
export async function pruneAllOrganisations(store: Db, now = new Date(), onError: (orgId: string, err: unknown) => void = () => undefined): Promise<Map<string, PruneCounts>> {
  const orgs = await store.db.selectFrom('org_registry').select('org_id as id').orderBy('org_id').execute();
  const out = new Map<string, PruneCounts>();
  for (const { id } of orgs) {
    try {
      out.set(id, await pruneOrganisation(store, { orgId: id }, now));
    } catch (err) {
      onError(id, err);
    }
  }
  return out;
}
