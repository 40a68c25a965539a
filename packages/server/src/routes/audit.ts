// The audit log, read-only: there is deliberately no route that changes or deletes entries.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { auditNames, maskSecrets } from '../audit-view.js';
import { listOf, page, pageQueryProperties } from '../http/pagination.js';

interface AuditQuery {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
}

const auditItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    at: { type: 'string' },
    actorType: { type: 'string' },
    actorId: { type: ['string', 'null'] },
    actorEmail: { type: ['string', 'null'] },
    action: { type: 'string' },
    targetType: { type: ['string', 'null'] },
    targetId: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    details: { type: 'object', additionalProperties: true },
    actorName: { type: ['string', 'null'] },
    targetName: { type: ['string', 'null'] },
  },
} as const;

const str = { type: 'string', maxLength: 200 } as const;

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  app.get<{ Querystring: AuditQuery }>(
    '/audit',
    {
      config: { access: access.user('audit:read') },
      schema: {
        summary: 'Audit log of your organisation, newest first',
        tags: ['audit'],
        querystring: { type: 'object', properties: { action: str, actorId: str, targetType: str, targetId: str, since: { type: 'string', format: 'date-time' }, until: { type: 'string', format: 'date-time' }, ...pageQueryProperties } },
        response: { 200: listOf(auditItem) },
      },
    },
    async (request) => {
      const { orgId } = request.user!;
      const q = request.query;
      const { limit, offset } = page(q);
      return withOrg(store, { orgId }, async (tx) => {
        let base = tx.selectFrom('audit_log').where('org_id', '=', orgId);
        if (q.action) base = base.where('action', '=', q.action);
        if (q.actorId) base = base.where('actor_id', '=', q.actorId);
        if (q.targetType) base = base.where('target_type', '=', q.targetType);
        if (q.targetId) base = base.where('target_id', '=', q.targetId);
        if (q.since) base = base.where('at', '>=', new Date(q.since).toISOString());
        if (q.until) base = base.where('at', '<=', new Date(q.until).toISOString());
        const rows = await base.selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
        const total = await base.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
        const names = await auditNames(tx, orgId, rows);
        return {
          items: rows.map((r) => ({
            id: r.id,
            at: r.at,
            actorType: r.actor_type,
            actorId: r.actor_id,
            actorEmail: r.actor_email,
            actorName: r.actor_type === 'agent' ? (names.actor.get(r.actor_id ?? '') ?? null) : r.actor_email,
            action: r.action,
            targetType: r.target_type,
            targetId: r.target_id,
            targetName: r.target_type && r.target_id ? (names.target.get(`${r.target_type}:${r.target_id}`) ?? null) : null,
            ip: r.ip,
            // entries written before masking existed are masked as they are read
            details: maskSecrets(JSON.parse(r.details)) as object,
          })),
          total: Number(total.n),
        };
      });
    },
  );
}
