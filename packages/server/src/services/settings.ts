// The organisation settings the inventory reads, stored as key/value rows in the
// platform's org_settings table.
import type { OrgScope, Tx } from '../db/index.js';

export interface InventorySettings {
  requireSecondApproverForCritical: boolean;
  /** hosts with no report for this long are "silent" */
  silentAfterHours: number;
}

export const SETTING_SECOND_APPROVER = 'requireSecondApproverForCritical';
export const SILENT_AFTER_HOURS = 48;

export async function getInventorySettings(tx: Tx, scope: OrgScope): Promise<InventorySettings> {
  const rows = await tx.selectFrom('org_settings').select(['key', 'value']).where('org_id', '=', scope.orgId).where('key', 'in', [SETTING_SECOND_APPROVER]).execute();
  const map = new Map(rows.map((r) => [r.key, r.value]));
  return { requireSecondApproverForCritical: map.get(SETTING_SECOND_APPROVER) === 'true', silentAfterHours: SILENT_AFTER_HOURS };
}

export async function setSecondApprover(tx: Tx, scope: OrgScope, on: boolean, now: string): Promise<void> {
  await tx
    .insertInto('org_settings')
    .values({ org_id: scope.orgId, key: SETTING_SECOND_APPROVER, value: String(on), updated_at: now })
    .onConflict((oc) => oc.columns(['org_id', 'key']).doUpdateSet({ value: String(on), updated_at: now }))
    .execute();
}
