// Events become alerts; alerts become webhook deliveries. Everything here runs inside the
// caller's org-scoped transaction, so an event, its alert and its deliveries are stored
// together or not at all.
import { severityRank, type Severity } from '@palisade/core';
import type { OrgScope, Tx } from '../db/index.js';
import type { AlertsTable } from '../db/inventory-schema.js';
import { raisesAlert, type EventDraft } from './diff.js';
import { chunkRows } from './batch.js';
import { timeOrderedId } from './ids.js';
import { webhookBody, type AlertMessage, type WebhookFormat } from './webhooks/payload.js';

export interface StoredEvent extends EventDraft {
  id: string;
  hostId: string | null;
  serverId: string | null;
}

const TITLES: Record<string, string> = {
  server_added: 'New MCP server',
  server_removed: 'MCP server removed',
  config_changed: 'MCP server configuration changed',
  tool_changed: 'Tool definition changed (possible rug pull)',
  level_raised: 'Risk level raised',
  finding_added: 'New high-severity finding',
  override_voided: 'Risk override voided',
  advisory_matched: 'Known vulnerability in an MCP server',
  gateway_quarantine: 'Tool change quarantined at a gateway',
};

/** The events table's rows for these events. */
export function eventRows(scope: OrgScope, events: readonly StoredEvent[], reportId: string | null, now: string) {
  return events.map((e) => ({
    id: e.id,
    org_id: scope.orgId,
    type: e.type,
    severity: e.severity,
    host_id: e.hostId,
    server_id: e.serverId,
    report_id: reportId,
    summary: e.summary,
    details: JSON.stringify(e.details),
    created_at: now,
  }));
}

/** The alerts these events raise (every event but a host's first appearance). */
export function alertRows(scope: OrgScope, events: readonly StoredEvent[], now: string): AlertsTable[] {
  return events.filter(raisesAlert).map((e) => ({
    id: timeOrderedId(),
    org_id: scope.orgId,
    event_id: e.id,
    type: e.type,
    severity: e.severity,
    severity_rank: severityRank[e.severity],
    status: 'open' as const,
    title: TITLES[e.type] ?? e.type,
    message: e.summary,
    server_id: e.serverId,
    host_id: e.hostId,
    created_at: now,
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    resolved_by: null,
    note: null,
  }));
}

export async function storeEvents(tx: Tx, scope: OrgScope, events: readonly StoredEvent[], reportId: string | null, now: string): Promise<AlertsTable[]> {
  if (events.length === 0) return [];
  for (const rows of chunkRows(eventRows(scope, events, reportId, now))) await tx.insertInto('events').values(rows).execute();
  const alerts = alertRows(scope, events, now);
  for (const rows of chunkRows(alerts)) await tx.insertInto('alerts').values(rows).execute();
  await enqueueDeliveries(tx, scope, alerts, now);
  return alerts;
}

export function alertMessage(a: AlertsTable): AlertMessage {
  return { id: a.id, type: a.type, severity: a.severity as Severity, status: a.status, title: a.title, message: a.message, serverId: a.server_id, hostId: a.host_id, createdAt: a.created_at };
}

export interface ActiveWebhook {
  id: string;
  format: WebhookFormat;
  min_severity: string;
}

/** The organisation's enabled webhooks, as enqueueDeliveries reads them. */
export function activeWebhooks(tx: Tx, scope: OrgScope) {
  return tx.selectFrom('webhooks').select(['id', 'format', 'min_severity']).where('org_id', '=', scope.orgId).where('disabled_at', 'is', null);
}

/**
 * One pending delivery per (enabled webhook at or below the alert's severity, alert). The
 * webhooks are read here unless the caller read them already in this transaction.
 */
export async function enqueueDeliveries(tx: Tx, scope: OrgScope, alerts: readonly AlertsTable[], now: string, webhooks?: readonly ActiveWebhook[]): Promise<number> {
  if (alerts.length === 0) return 0;
  const hooks = webhooks ?? (await activeWebhooks(tx, scope).execute());
  if (hooks.length === 0) return 0;
  const deliveries = [];
  for (const hook of hooks) {
    const min = severityRank[hook.min_severity as Severity] ?? 0;
    for (const a of alerts) {
      if (a.severity_rank < min) continue;
      deliveries.push({
        id: timeOrderedId(),
        org_id: scope.orgId,
        webhook_id: hook.id,
        alert_id: a.id,
        event: 'alert.created',
        body: webhookBody(hook.format, 'alert.created', alertMessage(a), new Date(now)),
        status: 'pending' as const,
        attempts: 0,
        last_status_code: null,
        last_error: null,
        next_attempt_at: now,
        created_at: now,
        delivered_at: null,
      });
    }
  }
  for (const rows of chunkRows(deliveries)) await tx.insertInto('webhook_deliveries').values(rows).execute();
  const queue = deliveries.map((d) => ({ delivery_id: d.id, org_id: scope.orgId, due_at: now }));
  for (const rows of chunkRows(queue)) await tx.insertInto('webhook_queue').values(rows).execute();
  return deliveries.length;
}
