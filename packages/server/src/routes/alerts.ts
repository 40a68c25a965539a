// Alerts: listed by every role; acknowledged and resolved by analysts and above, audited.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { errorSchema, idParams, page, pageQueryProperties } from '../http/pagination.js';
import { alertViews, listAlerts, parseSeverities } from '../services/queries.js';

const STATUSES = ['open', 'acknowledged', 'resolved'];

export async function alertsRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  app.get<{ Querystring: { status?: string; severity?: string; server?: string; host?: string; limit?: number; offset?: number } }>(
    '/alerts',
    {
      config: { access: access.user('alerts:read') },
      schema: {
        summary: 'Alerts, newest first',
        tags: ['alerts'],
        querystring: { type: 'object', properties: { ...pageQueryProperties, status: { type: 'string', maxLength: 100 }, severity: { type: 'string', maxLength: 100 }, server: { type: 'string', maxLength: 64 }, host: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const status = request.query.status ? request.query.status.split(',') : undefined;
      if (status?.some((s) => !STATUSES.includes(s))) throw badRequest('status must be a comma list of open, acknowledged, resolved.');
      const severity = parseSeverities(request.query.severity);
      if (severity === 'invalid') throw badRequest('severity must be a comma list of critical, high, medium, low, info.');
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, (tx) => listAlerts(tx, scope, { ...request.query, status, severity, limit, offset }));
    },
  );

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(
      `/alerts/:id/${action}`,
      {
        config: { access: access.user('alerts:write') },
        schema: {
          summary: action === 'acknowledge' ? 'Acknowledge an alert (someone is on it)' : 'Resolve an alert',
          tags: ['alerts'],
          params: idParams,
          body: { type: ['object', 'null'], additionalProperties: false, properties: { note: { type: 'string', maxLength: 2000 } } },
          response: { 403: errorSchema, 404: errorSchema, 409: errorSchema },
        },
      },
      async (request) => {
        const user = request.user!;
        const scope = { orgId: user.orgId };
        const now = new Date().toISOString();
        return withOrg(store, scope, async (tx) => {
          const row = await tx.selectFrom('alerts').selectAll().where('org_id', '=', scope.orgId).where('id', '=', request.params.id).executeTakeFirst();
          if (!row) throw notFound('That alert');
          if (row.status === 'resolved' || (action === 'acknowledge' && row.status === 'acknowledged')) {
            throw new ApiError(409, 'alert_state', `This alert is already ${row.status}.`);
          }
          const note = request.body?.note ?? row.note;
          const set =
            action === 'acknowledge'
              ? { status: 'acknowledged' as const, acknowledged_at: now, acknowledged_by: user.userId, note }
              : { status: 'resolved' as const, resolved_at: now, resolved_by: user.userId, note };
          await tx.updateTable('alerts').set(set).where('org_id', '=', scope.orgId).where('id', '=', row.id).execute();
          await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: `alert.${action === 'acknowledge' ? 'acknowledged' : 'resolved'}`, targetType: 'alert', targetId: row.id, ip: request.ip, details: note ? { note } : {} });
          return (await alertViews(tx, [{ ...row, ...set }]))[0];
        });
      },
    );
  }
}
