// The audit entry of a stored changed report: a state change, written in the report's own
// transaction (the queue's afterWrite hook; the ingest route and the ingest profiler use it).
import { writeAudit } from '../../audit.js';
import type { ProcessHooks } from './queue.js';

export const auditReportIngested: NonNullable<ProcessHooks['afterWrite']> = (tx, scope, from, r) =>
  writeAudit(tx, scope, {
    actorType: 'agent',
    actorId: from.agentKeyId ?? 'unknown',
    action: 'report.ingested',
    targetType: 'host',
    targetId: r.hostId,
    ip: from.ip ?? undefined,
    details: { reportId: r.reportId, servers: r.servers, events: r.events, alerts: r.alerts },
  });
