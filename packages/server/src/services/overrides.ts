// Risk overrides: an admin's decision that a server's risk is accepted (or the server is
// benign) until a date. Bound to the definition's fingerprint; voided when an instance's
// config moves away from it or one of its tools changes. Critical servers may need a
// second, different approver when the org asks for it.
import { randomUUID } from 'node:crypto';
import type { Db, OrgScope, Tx } from '../db/index.js';
import type { OverridesTable } from '../db/inventory-schema.js';
import type { StoredEvent } from './alerts.js';
import { getInventorySettings } from './settings.js';
import { writeAudit } from '../audit.js';
import { resolveForAcceptedRisk } from './alert-resolution.js';

export const REASON_MIN = 10;
export const REASON_MAX = 2000;
export const MAX_OVERRIDE_DAYS = 365;

export class InventoryError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Actor {
  userId: string;
  role: string;
  email?: string;
}

export interface OverrideInput {
  decision: unknown;
  reason: unknown;
  expiresAt: unknown;
}

export function validateOverrideInput(input: OverrideInput, now: Date): { decision: 'accept_risk' | 'benign'; reason: string; expiresAt: string } {
  if (input.decision !== 'accept_risk' && input.decision !== 'benign') throw new InventoryError(400, 'invalid_override', 'Set decision to "accept_risk" or "benign".');
  if (typeof input.reason !== 'string' || input.reason.trim().length < REASON_MIN) throw new InventoryError(400, 'invalid_override', `Give a reason of at least ${REASON_MIN} characters: it is kept in the audit log.`);
  if (input.reason.length > REASON_MAX) throw new InventoryError(400, 'invalid_override', `Keep the reason under ${REASON_MAX} characters.`);
  const expires = typeof input.expiresAt === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(input.expiresAt) ? new Date(input.expiresAt) : new Date(NaN);
  if (Number.isNaN(expires.getTime())) throw new InventoryError(400, 'invalid_override', 'Give expiresAt as an ISO date-time such as 2027-01-31T00:00:00Z.');
  if (expires.getTime() <= now.getTime()) throw new InventoryError(400, 'invalid_override', 'Choose an expiry in the future.');
  if (expires.getTime() > now.getTime() + MAX_OVERRIDE_DAYS * 86_400_000) throw new InventoryError(400, 'invalid_override', `Choose an expiry at most ${MAX_OVERRIDE_DAYS} days ahead; renew it when it ends.`);
  return { decision: input.decision, reason: input.reason.trim(), expiresAt: expires.toISOString() };
}

export async function createOverride(tx: Tx, scope: OrgScope, serverId: string, input: OverrideInput, actor: Actor, now: Date): Promise<OverridesTable> {
  const valid = validateOverrideInput(input, now);
  const server = await tx.selectFrom('servers').select(['id', 'fingerprint', 'level']).where('org_id', '=', scope.orgId).where('id', '=', serverId).executeTakeFirst();
  if (!server) throw new InventoryError(404, 'not_found', 'No such server in this organisation.');
  const settings = await getInventorySettings(tx, scope);
  const needsSecond = settings.requireSecondApproverForCritical && server.level === 'critical';
  const stamp = now.toISOString();
  // A new decision replaces the one in force: older active or pending ones are revoked.
  await tx
    .updateTable('overrides')
    .set({ status: 'revoked', revoked_by: actor.userId, revoked_at: stamp })
    .where('org_id', '=', scope.orgId)
    .where('server_id', '=', serverId)
    .where('status', 'in', ['active', 'pending'])
    .execute();
  const row: OverridesTable = {
    id: randomUUID(),
    org_id: scope.orgId,
    server_id: serverId,
    fingerprint: server.fingerprint,
    decision: valid.decision,
    reason: valid.reason,
    status: needsSecond ? 'pending' : 'active',
    expires_at: valid.expiresAt,
    created_by: actor.userId,
    created_at: stamp,
    approved_by: needsSecond ? null : actor.userId,
    approved_at: needsSecond ? null : stamp,
    voided_at: null,
    void_reason: null,
    revoked_by: null,
    revoked_at: null,
  };
  await tx.insertInto('overrides').values(row).execute();
  await resolveForAcceptedRisk(tx, scope, row, stamp);
  return row;
}

export async function approveOverride(tx: Tx, scope: OrgScope, overrideId: string, actor: Actor, now: Date): Promise<OverridesTable> {
  const row = await tx.selectFrom('overrides').selectAll().where('org_id', '=', scope.orgId).where('id', '=', overrideId).executeTakeFirst();
  if (!row) throw new InventoryError(404, 'not_found', 'No such override in this organisation.');
  if (row.status !== 'pending') throw new InventoryError(409, 'override_state', `This override is ${row.status}; only a pending override can be approved.`);
  if (row.created_by === actor.userId) throw new InventoryError(409, 'same_approver', 'A different admin or owner must approve this override: its creator cannot.');
  if (row.expires_at <= now.toISOString()) throw new InventoryError(409, 'override_state', 'This override has expired; create a new one.');
  const stamp = now.toISOString();
  await tx.updateTable('overrides').set({ status: 'active', approved_by: actor.userId, approved_at: stamp }).where('org_id', '=', scope.orgId).where('id', '=', overrideId).execute();
  await resolveForAcceptedRisk(tx, scope, { ...row, status: 'active' }, stamp);
  return { ...row, status: 'active', approved_by: actor.userId, approved_at: stamp };
}

export async function revokeOverride(tx: Tx, scope: OrgScope, overrideId: string, actor: Actor, now: Date): Promise<OverridesTable> {
  const row = await tx.selectFrom('overrides').selectAll().where('org_id', '=', scope.orgId).where('id', '=', overrideId).executeTakeFirst();
  if (!row) throw new InventoryError(404, 'not_found', 'No such override in this organisation.');
  if (row.status !== 'active' && row.status !== 'pending') throw new InventoryError(409, 'override_state', `This override is already ${row.status}.`);
  const stamp = now.toISOString();
  await tx.updateTable('overrides').set({ status: 'revoked', revoked_by: actor.userId, revoked_at: stamp }).where('org_id', '=', scope.orgId).where('id', '=', overrideId).execute();
  return { ...row, status: 'revoked', revoked_by: actor.userId, revoked_at: stamp };
}

/**
 * Void the active and pending overrides of these servers (server id -> why). Returns the
 * `override_voided` events to store; the caller stores them with its other events.
 */
export async function voidOverrides(tx: Tx, scope: OrgScope, reasons: ReadonlyMap<string, string>, now: string, hostId: string | null): Promise<StoredEvent[]> {
  if (reasons.size === 0) return [];
  const rows = await tx
    .selectFrom('overrides')
    .select(['id', 'server_id', 'decision', 'fingerprint'])
    .where('org_id', '=', scope.orgId)
    .where('server_id', 'in', [...reasons.keys()])
    .where('status', 'in', ['active', 'pending'])
    .execute();
  const events: StoredEvent[] = [];
  for (const r of rows) {
    const why = reasons.get(r.server_id)!;
    await tx.updateTable('overrides').set({ status: 'voided', voided_at: now, void_reason: why }).where('org_id', '=', scope.orgId).where('id', '=', r.id).execute();
    // never silent: the audit log says it too, as the system's doing
    await writeAudit(tx, scope, { actorType: 'system', action: 'override.voided', targetType: 'server', targetId: r.server_id, details: { overrideId: r.id, reason: why } });
    events.push({
      id: randomUUID(),
      type: 'override_voided',
      severity: 'high',
      instanceKey: null,
      fingerprint: r.fingerprint,
      hostId,
      serverId: r.server_id,
      summary: `A risk override (${r.decision === 'benign' ? 'marked benign' : 'risk accepted'}) was voided: ${why} Review the server again.`,
      details: { overrideId: r.id, reason: why },
    });
  }
  return events;
}

/**
 * Overrides currently in force or waiting, per server, for list badges and effective levels.
 * Only overrides bound to the server's CURRENT fingerprint count. Reads the overrides table
 * alone (by its index); the fingerprints come from the caller's server rows.
 */
export async function overrideBadges(tx: Tx | Db['db'], scope: OrgScope, servers: ReadonlyArray<{ id: string; fingerprint: string }>, now: Date): Promise<Map<string, { id: string; decision: string; status: 'active' | 'pending'; expiresAt: string }>> {
  const out = new Map<string, { id: string; decision: string; status: 'active' | 'pending'; expiresAt: string }>();
  if (servers.length === 0) return out;
  const fingerprintOf = new Map(servers.map((s) => [s.id, s.fingerprint]));
  const rows = await tx
    .selectFrom('overrides')
    .select(['id', 'server_id', 'fingerprint', 'decision', 'status', 'expires_at'])
    .where('org_id', '=', scope.orgId)
    .where('server_id', 'in', [...fingerprintOf.keys()])
    .where('status', 'in', ['active', 'pending'])
    .where('expires_at', '>', now.toISOString())
    .orderBy('created_at', 'desc')
    .execute();
  for (const r of rows) {
    if (fingerprintOf.get(r.server_id) !== r.fingerprint) continue;
    const cur = out.get(r.server_id);
    // an active one wins over a pending one
    if (!cur || (cur.status === 'pending' && r.status === 'active')) out.set(r.server_id, { id: r.id, decision: r.decision, status: r.status as 'active' | 'pending', expiresAt: r.expires_at });
  }
  return out;
}
