// The audit log, read-only: there is deliberately no route that changes or deletes entries.
// Entries carry names beside ids (user email, server name, key name and prefix) and no secret
// (URLs masked to scheme, host and first path segment; credential-named fields replaced).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { auditNames, maskSecrets } from '../audit-view.js';
import { page } from '../http/pagination.js';
import { JsonObject, ListOf, ListQuery, named, Nullable, typed } from '../http/schemas.js';

const Str = Type.String({ maxLength: 200 });

const AuditItem = named('AuditEntry', Type.Object({
  id: Type.String(),
  at: Type.String(),
  actorType: Type.Union([Type.Literal('user'), Type.Literal('agent'), Type.Literal('system')]),
  actorId: Nullable(Type.String()),
  actorEmail: Nullable(Type.String()),
  actorName: Nullable(Type.String({ description: "the user's email, or an agent key's name and prefix" })),
  action: Type.String(),
  targetType: Nullable(Type.String()),
  targetId: Nullable(Type.String()),
  targetName: Nullable(Type.String({ description: "a user's email, a server's, host's or webhook's name, a key's name and prefix" })),
  ip: Nullable(Type.String()),
  details: JsonObject,
}));

const AuditQuery = ListQuery({
  action: Type.Optional(Str),
  actorId: Type.Optional(Str),
  actorType: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('agent'), Type.Literal('system')])),
  targetType: Type.Optional(Str),
  targetId: Type.Optional(Str),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
});

export async function auditRoutes(fastify: FastifyInstance): Promise<void> {
  const app = typed(fastify);
  const store = app.platform.store;
  app.get(
    '/audit',
    {
      config: { access: access.user('audit:read') },
      schema: { summary: 'Audit log of your organisation, newest first', tags: ['audit'], querystring: AuditQuery, response: { 200: ListOf(AuditItem) } },
    },
    async (request) => {
      const { orgId } = request.user!;
      const q = request.query;
      const { limit, offset } = page(q);
      return withOrg(store, { orgId }, async (tx) => {
        let base = tx.selectFrom('audit_log').where('org_id', '=', orgId);
        if (q.action) base = base.where('action', '=', q.action);
        if (q.actorId) base = base.where('actor_id', '=', q.actorId);
        if (q.actorType) base = base.where('actor_type', '=', q.actorType);
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
            actorType: r.actor_type as 'user' | 'agent' | 'system',
            actorId: r.actor_id,
            actorEmail: r.actor_email,
            actorName: r.actor_type === 'agent' ? (names.actor.get(r.actor_id ?? '') ?? null) : r.actor_email,
            action: r.action,
            targetType: r.target_type,
            targetId: r.target_id,
            targetName: r.target_type && r.target_id ? (names.target.get(`${r.target_type}:${r.target_id}`) ?? null) : null,
            ip: r.ip,
            // entries written before masking existed are masked as they are read
            details: maskSecrets(JSON.parse(r.details)) as Record<string, unknown>,
          })),
          total: Number(total.n),
        };
      });
    },
  );
}
