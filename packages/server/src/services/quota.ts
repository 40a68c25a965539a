// A storage quota per organisation, counted in stored records of the tables that grow with
// reports (hosts, server definitions, instances, tools, findings, reports, events, alerts).
// When an organisation has reached it, its agents' reports are refused with 507 and a
// sentence saying what to do, so one organisation cannot fill the database that all share.
// The count is cached per organisation for a short while (each count is a few index scans).
import { withOrg, type Db, type OrgScope } from '../db/index.js';

export const QUOTA_TABLES = ['hosts', 'servers', 'server_instances', 'tools', 'findings', 'reports', 'events', 'alerts'] as const;
/** Default quota: 5 million stored records per organisation (PALISADE_ORG_QUOTA_RECORDS). */
export const DEFAULT_QUOTA_RECORDS = 5_000_000;
const CACHE_MS = 30_000;

export function quotaFromEnv(env = process.env): number {
  const v = env.PALISADE_ORG_QUOTA_RECORDS;
  if (v === undefined || v === '') return DEFAULT_QUOTA_RECORDS;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_QUOTA_RECORDS;
}

export class StorageQuota {
  private readonly cache = new Map<string, { used: number; at: number }>();
  constructor(
    private readonly store: Db,
    readonly limit = quotaFromEnv(),
  ) {}

  /** Records the organisation stores now (cached for up to 30 s). */
  async used(scope: OrgScope, now = Date.now()): Promise<number> {
    const hit = this.cache.get(scope.orgId);
    if (hit && now - hit.at < CACHE_MS) return hit.used;
    const used = await withOrg(this.store, scope, async (tx) => {
      let n = 0;
      for (const table of QUOTA_TABLES) {
        const r = await tx.selectFrom(table).select((eb) => eb.fn.countAll<string | number>().as('n')).where('org_id', '=', scope.orgId).executeTakeFirst();
        n += Number(r?.n ?? 0);
      }
      return n;
    });
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(scope.orgId, { used, at: now });
    return used;
  }

  /** A sentence for the agent's operator when the organisation is at its quota, else null. */
  async problem(scope: OrgScope): Promise<string | null> {
    const used = await this.used(scope);
    if (used < this.limit) return null;
    return `This organisation has reached its storage quota (${used.toLocaleString('en')} of ${this.limit.toLocaleString('en')} stored records), so reports are not accepted. Shorten the history retention in Settings, remove hosts you no longer need, or ask the server's operator to raise PALISADE_ORG_QUOTA_RECORDS.`;
  }

  forget(orgId: string): void {
    this.cache.delete(orgId);
  }
}
