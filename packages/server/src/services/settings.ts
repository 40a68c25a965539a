// The organisation settings the inventory reads, stored as key/value rows in the
// platform's org_settings table.
import type { OrgScope, Tx } from '../db/index.js';

export interface InventorySettings {
  requireSecondApproverForCritical: boolean;
  /** history older than this is pruned (services/retention.ts) */
  retentionDays: number;
  /** hosts with no report for this long are "silent" */
  silentAfterHours: number;
}

export const SETTING_SECOND_APPROVER = 'requireSecondApproverForCritical';
export const SETTING_RETENTION_DAYS = 'retentionDays';
export const SILENT_AFTER_HOURS = 48;
export const RETENTION_DAYS = { default: 365, min: 30, max: 3650 } as const;

function retentionFrom(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= RETENTION_DAYS.min && n <= RETENTION_DAYS.max ? n : RETENTION_DAYS.default;
}

export async function getRetentionDays(tx: Tx, scope: OrgScope): Promise<number> {
  const row = await tx.selectFrom('org_settings').select('value').where('org_id', '=', scope.orgId).where('key', '=', SETTING_RETENTION_DAYS).executeTakeFirst();
  return retentionFrom(row?.value);
}

export async function getInventorySettings(tx: Tx, scope: OrgScope): Promise<InventorySettings> {
  const rows = await tx.selectFrom('org_settings').select(['key', 'value']).where('org_id', '=', scope.orgId).where('key', 'in', [SETTING_SECOND_APPROVER, SETTING_RETENTION_DAYS]).execute();
  const map = new Map(rows.map((r) => [r.key, r.value]));
  return { requireSecondApproverForCritical: map.get(SETTING_SECOND_APPROVER) === 'true', retentionDays: retentionFrom(map.get(SETTING_RETENTION_DAYS)), silentAfterHours: SILENT_AFTER_HOURS };
}

async function setSetting(tx: Tx, scope: OrgScope, key: string, value: string, now: string): Promise<void> {
  await tx
    .insertInto('org_settings')
    .values({ org_id: scope.orgId, key, value, updated_at: now })
    .onConflict((oc) => oc.columns(['org_id', 'key']).doUpdateSet({ value, updated_at: now }))
    .execute();
}

export async function setSecondApprover(tx: Tx, scope: OrgScope, on: boolean, now: string): Promise<void> {
  await setSetting(tx, scope, SETTING_SECOND_APPROVER, String(on), now);
}

export async function setRetentionDays(tx: Tx, scope: OrgScope, days: number, now: string): Promise<void> {
  await setSetting(tx, scope, SETTING_RETENTION_DAYS, String(days), now);
}

/**
 * Turning the second approver OFF is itself a four-eyes change (issue 13): an owner asks, a
 * different admin or owner approves within a day, and only then does it apply. Turning it ON
 * applies at once (it only makes things stricter) and drops any pending request.
 */
export const SETTING_SECOND_APPROVER_OFF_REQUEST = 'secondApproverOffRequest';
export const OFF_REQUEST_TTL_MS = 24 * 3600_000;

export interface SecondApproverOffRequest {
  requestedBy: string;
  requestedByEmail: string;
  requestedAt: string;
}

export async function getSecondApproverOffRequest(tx: Tx, scope: OrgScope, now = new Date()): Promise<SecondApproverOffRequest | null> {
  const row = await tx.selectFrom('org_settings').select('value').where('org_id', '=', scope.orgId).where('key', '=', SETTING_SECOND_APPROVER_OFF_REQUEST).executeTakeFirst();
  if (!row) return null;
  try {
    const r = JSON.parse(row.value) as SecondApproverOffRequest;
    if (typeof r.requestedBy !== 'string' || typeof r.requestedAt !== 'string') return null;
    if (now.getTime() - Date.parse(r.requestedAt) > OFF_REQUEST_TTL_MS) return null;
    return r;
  } catch {
    return null;
  }
}

export async function setSecondApproverOffRequest(tx: Tx, scope: OrgScope, request: SecondApproverOffRequest | null, now: string): Promise<void> {
  if (request === null) {
    await tx.deleteFrom('org_settings').where('org_id', '=', scope.orgId).where('key', '=', SETTING_SECOND_APPROVER_OFF_REQUEST).execute();
    return;
  }
  await setSetting(tx, scope, SETTING_SECOND_APPROVER_OFF_REQUEST, JSON.stringify(request), now);
}
