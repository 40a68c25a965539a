// Alerts Palisade resolves by itself (issue 14): when the risk an alert reports is accepted
// (an override in force), fixed (a later report no longer has the finding, or the level fell
// below the alert's severity) or the server is gone from the host. Each one is resolved with
// its reason (kept on the alert and shown in the dashboard) and audited as the system's doing.
// Everything runs inside the caller's org-scoped transaction.
import { levelRank, severityRank, type Level, type Severity } from '@palisade/core';
import type { OrgScope, Tx } from '../db/index.js';
import { writeAudits } from '../audit.js';
import { chunk } from './batch.js';

const UNRESOLVED = ['open', 'acknowledged'] as const;

export interface AutoResolution {
  alertId: string;
  reason: string;
}

/**
 * Resolve these alerts with their reasons, one audit entry each. Returns how many changed.
 * Batched: one UPDATE per reason and chunk of ids, then the audit entries in multi-row inserts
 * (a changed report of thousands of servers must not cost two statements per alert).
 */
export async function resolveWithReasons(tx: Tx, scope: OrgScope, items: readonly AutoResolution[], now: string, actor: { userId: string; email: string } | null = null): Promise<number> {
  const byReason = new Map<string, string[]>();
  for (const it of items) {
    const reason = it.reason.slice(0, 500);
    let ids = byReason.get(reason);
    if (!ids) byReason.set(reason, (ids = []));
    ids.push(it.alertId);
  }
  const resolved: Array<{ id: string; reason: string }> = [];
  for (const [reason, ids] of byReason) {
    for (const part of chunk([...new Set(ids)])) {
      const rows = await tx
        .updateTable('alerts')
        .set({ status: 'resolved', resolved_at: now, resolved_by: actor?.userId ?? null, resolved_reason: reason })
        .where('org_id', '=', scope.orgId)
        .where('id', 'in', part)
        .where('status', 'in', [...UNRESOLVED])
        .returning('id')
        .execute();
      for (const r of rows) resolved.push({ id: r.id, reason });
    }
  }
  await writeAudits(
    tx,
    scope,
    resolved.map((r) => ({
      actorType: actor ? ('user' as const) : ('system' as const),
      actorId: actor?.userId ?? null,
      actorEmail: actor?.email ?? null,
      action: 'alert.resolved',
      targetType: 'alert',
      targetId: r.id,
      details: { reason: r.reason, automatic: true },
    })),
  );
  return resolved.length;
}

/**
 * The risk of a server is accepted (an override became active): every unresolved alert about
 * that server, on every host, is resolved with that reason.
 */
export async function resolveForAcceptedRisk(tx: Tx, scope: OrgScope, override: { server_id: string; decision: string; expires_at: string; status: string }, now: string): Promise<number> {
  if (override.status !== 'active') return 0;
  const rows = await tx.selectFrom('alerts').select('id').where('org_id', '=', scope.orgId).where('server_id', '=', override.server_id).where('status', 'in', [...UNRESOLVED]).limit(10_000).execute();
  const what = override.decision === 'benign' ? 'Server marked benign' : 'Risk accepted';
  const reason = `${what} (override until ${override.expires_at.slice(0, 10)}).`;
  return resolveWithReasons(tx, scope, rows.map((r) => ({ alertId: r.id, reason })), now);
}

/** One server as a host's new report has it. */
export interface CurrentServer {
  serverId: string;
  level: Level;
  /** rule id + NUL + evidence of each finding */
  findingKeys: readonly string[];
}

const findingKey = (ruleId: unknown, evidence: unknown) => `${String(ruleId)}\u0000${String(evidence ?? '')}`;

/**
 * After a host's changed report: resolve that host's unresolved alerts whose cause is gone. A
 * server no longer configured on the host resolves all its alerts there; a finding no longer
 * reported resolves its `finding_added` alert; a level that fell below an alert's severity
 * resolves the `server_added` / `level_raised` alert that reported the higher level.
 */
export async function resolveAfterReport(tx: Tx, scope: OrgScope, hostId: string, current: readonly CurrentServer[], now: string): Promise<number> {
  const open = await tx
    .selectFrom('alerts as a')
    .leftJoin('events as e', (j) => j.onRef('e.id', '=', 'a.event_id').on('e.org_id', '=', scope.orgId))
    .select(['a.id', 'a.type', 'a.severity', 'a.server_id', 'e.details'])
    .where('a.org_id', '=', scope.orgId)
    .where('a.host_id', '=', hostId)
    .where('a.status', 'in', [...UNRESOLVED])
    .limit(10_000)
    .execute();
  if (open.length === 0) return 0;
  const byServer = new Map(current.map((c) => [c.serverId, c]));
  const findings = new Map(current.map((c) => [c.serverId, new Set(c.findingKeys)]));
  const out: AutoResolution[] = [];
  for (const a of open) {
    if (!a.server_id || a.type === 'server_removed' || a.type === 'override_voided') continue;
    const cur = byServer.get(a.server_id);
    if (!cur) {
      out.push({ alertId: a.id, reason: 'The server is no longer configured on this host (removed or replaced).' });
      continue;
    }
    let details: Record<string, unknown>;
    try {
      details = a.details ? (JSON.parse(a.details) as Record<string, unknown>) : {};
    } catch {
      details = {};
    }
    if (a.type === 'finding_added' && details.ruleId !== undefined && !findings.get(a.server_id)?.has(findingKey(details.ruleId, details.evidence))) {
      out.push({ alertId: a.id, reason: `Fixed: the latest report no longer has finding ${String(details.ruleId)}.` });
      continue;
    }
    if ((a.type === 'server_added' || a.type === 'level_raised') && a.severity !== 'info') {
      const alertRank = severityRank[a.severity as Severity] ?? 0;
      const nowRank = cur.level === 'none' ? 0 : severityRank[cur.level as Severity];
      if (nowRank < alertRank && levelRank[cur.level] !== undefined) out.push({ alertId: a.id, reason: `Fixed: the risk level fell to ${cur.level}.` });
    }
  }
  return resolveWithReasons(tx, scope, out, now);
}

/** The ingest's hook: its scored servers (by fingerprint) as CurrentServer, then resolveAfterReport. */
export async function resolveAfterHostReport(
  tx: Tx,
  scope: OrgScope,
  hostId: string,
  servers: ReadonlyArray<{ fingerprint: string; server: { level: Level; findings: ReadonlyArray<{ ruleId: string; evidence?: string | null }> } }>,
  serverIdByFp: ReadonlyMap<string, string>,
  now: string,
): Promise<number> {
  const current: CurrentServer[] = [];
  for (const p of servers) {
    const serverId = serverIdByFp.get(p.fingerprint);
    if (serverId) current.push({ serverId, level: p.server.level, findingKeys: p.server.findings.map((f) => findingKey(f.ruleId, f.evidence)) });
  }
  return resolveAfterReport(tx, scope, hostId, current, now);
}
