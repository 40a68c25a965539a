// Stage 5, alerts and webhooks: what changed on the host as events (diff.ts), overrides of
// changed definitions voided, alerts raised from the events and webhook deliveries queued,
// all in the report's transaction (services/alerts.ts stores them).
import type { ScanReport } from '@palisade/core';
import type { OrgScope, Tx } from '../../db/index.js';
import { storeEvents, type StoredEvent } from '../alerts.js';
import { diffHost, type EventDraft, type InstanceState, type ToolChange } from '../diff.js';
import { timeOrderedId } from '../ids.js';
import { voidOverrides } from '../overrides.js';
import { resolveAfterHostReport } from '../alert-resolution.js';
import type { Prepared } from './normalise.js';
import type { Previous } from './state.js';

/** The report's events (and voided overrides), not yet stored. */
export async function raiseEvents(tx: Tx, scope: OrgScope, report: ScanReport, hostId: string, prepared: readonly Prepared[], prev: Previous, serverIdByFp: ReadonlyMap<string, string>, toolChanges: readonly ToolChange[], now: string): Promise<StoredEvent[]> {
  const next: InstanceState[] = prepared.map((p) => ({ key: p.key, name: p.server.name, client: p.server.client, configPath: p.server.configPath, fingerprint: p.fingerprint, score: p.server.score, level: p.server.level, findings: p.server.findings }));
  const drafts = diffHost(report.host.hostname, prev.state, next, [...toolChanges]);
  const serverIdForEvent = (e: EventDraft): string | null => {
    if (e.type === 'server_removed' && e.instanceKey) return prev.byKey.get(e.instanceKey)?.server_id ?? null;
    return e.fingerprint ? (serverIdByFp.get(e.fingerprint) ?? null) : null;
  };
  const events: StoredEvent[] = drafts.map((e) => ({ ...e, id: timeOrderedId(), hostId, serverId: serverIdForEvent(e) }));
  const voidTargets = new Map<string, string>();
  for (const e of drafts) {
    if (e.type === 'config_changed' && e.instanceKey) {
      const old = prev.byKey.get(e.instanceKey);
      if (old) voidTargets.set(old.server_id, `The configuration of "${old.name}" changed on ${report.host.hostname}.`);
    }
    if (e.type === 'tool_changed' && e.fingerprint) {
      const id = serverIdByFp.get(e.fingerprint);
      if (id) voidTargets.set(id, `A tool definition of this server changed (${String(e.details.tool)}).`);
    }
  }
  events.push(...(await voidOverrides(tx, scope, voidTargets, now, hostId)));
  // alerts whose cause this report shows gone (fixed, server removed) are resolved, with the reason
  if (prev.state !== null) await resolveAfterHostReport(tx, scope, hostId, prepared, serverIdByFp, now);
  return events;
}

/** Events, their alerts and the alerts' webhook deliveries; returns how many alerts. */
export async function storeReportEvents(tx: Tx, scope: OrgScope, events: readonly StoredEvent[], reportId: string, now: string): Promise<number> {
  return (await storeEvents(tx, scope, events, reportId, now)).length;
}
