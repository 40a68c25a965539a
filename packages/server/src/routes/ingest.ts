// POST /agent/report: an agent key's scan report. The raw body is read as text so its size
// and nesting depth are checked before anything parses it; then the schema, then the
// ingest service (one transaction, idempotent, re-scored here).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { ApiError } from '../errors.js';
import { errorSchema } from '../http/pagination.js';
import { ingestReportText } from '../services/ingest.js';
import { MAX_REPORT_BYTES, ReportRejected } from '../services/report-limits.js';
import { dispatcherFor } from '../services/webhooks/dispatcher.js';

/** Reports per minute per agent key (PALISADE_INGEST_RATE_LIMIT; a daemon sends one an hour). */
export function ingestRateLimit(env = process.env): number {
  const v = Number(env.PALISADE_INGEST_RATE_LIMIT);
  return Number.isInteger(v) && v > 0 ? v : 120;
}

function rateKey(request: FastifyRequest): string {
  const key = request.headers['x-api-key'];
  return typeof key === 'string' ? `k:${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : `ip:${request.ip}`;
}

export async function ingestRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  // This plugin's own JSON parser: keep the raw text (the depth check reads it first).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_REPORT_BYTES }, (_req, body, done) => done(null, body));

  app.post(
    '/agent/report',
    {
      bodyLimit: MAX_REPORT_BYTES,
      config: { access: access.agent, rateLimit: { max: ingestRateLimit(), timeWindow: '1 minute', keyGenerator: rateKey } },
      schema: {
        summary: 'Send a scan report (the output of `palisade scan --json`) with an agent key',
        tags: ['agent'],
        response: {
          200: { type: 'object', properties: { reportId: { type: ['string', 'null'] }, hostId: { type: 'string' }, unchanged: { type: 'boolean' }, servers: { type: 'integer' }, events: { type: 'integer' }, alerts: { type: 'integer' } } },
          400: errorSchema,
          401: errorSchema,
          413: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (request) => {
      const agent = request.agent!;
      if (typeof request.body !== 'string') throw new ApiError(415, 'unsupported_media_type', 'Send the report as JSON with Content-Type: application/json.');
      const scope = { orgId: agent.orgId };
      const dispatcher = dispatcherFor(store);
      try {
        // A body this org already accepted as a host's last report only moves last-seen times;
        // any other is parsed, validated and stored, in the same transaction.
        return await ingestReportText(store, scope, request.body, {
          agentKeyId: agent.keyId,
          onAlerts: () => void dispatcher.kick(),
          // a changed report is a state change: audited in the same transaction
          afterWrite: (tx, r) => writeAudit(tx, scope, { actorType: 'agent', actorId: agent.keyId, action: 'report.ingested', targetType: 'host', targetId: r.hostId, ip: request.ip, details: { reportId: r.reportId, servers: r.servers, events: r.events, alerts: r.alerts } }),
        });
      } catch (err) {
        if (err instanceof ReportRejected) throw new ApiError(err.statusCode, err.code, err.message);
        throw err;
      }
    },
  );
}
