// Overrides: listed by everyone who can read the inventory; approved (by a second admin or
// owner) and revoked by admins and owners. Every change is audited.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { badRequest } from '../errors.js';
import { Type } from 'typebox';
import { page } from '../http/pagination.js';
import { Override } from '../http/models.js';
import { asWire, errors, IdParams, ListOf, ListQuery, typed } from '../http/schemas.js';
import { approveOverride, revokeOverride } from '../services/overrides.js';
import { overrideViews } from '../services/queries.js';
import { asApiError, overrideOut } from './servers.js';

const STATUSES = ['pending', 'active', 'voided', 'revoked', 'expired'];

const OverrideList = ListOf(Override);

export async function overridesRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;

  app.get(
    '/overrides',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Risk overrides, newest first',
        tags: ['overrides'],
        querystring: ListQuery({ status: Type.Optional(Type.String({ maxLength: 100, description: `comma list of ${STATUSES.join(', ')}` })), server: Type.Optional(Type.String({ maxLength: 64, description: 'a server id' })) }),
        response: { 200: OverrideList },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const statuses = request.query.status ? request.query.status.split(',') : [];
      if (statuses.some((s) => !STATUSES.includes(s))) throw badRequest(`status must be a comma list of ${STATUSES.join(', ')}.`);
      const { limit, offset } = page(request.query);
      const now = new Date().toISOString();
      return withOrg(store, scope, async (tx) => {
        let base = tx.selectFrom('overrides').where('org_id', '=', scope.orgId);
        if (request.query.server) base = base.where('server_id', '=', request.query.server);
        if (statuses.length) {
          const stored = statuses.filter((s) => s !== 'expired' && s !== 'active' && s !== 'pending') as Array<'voided' | 'revoked'>;
          const live = statuses.filter((s) => s === 'active' || s === 'pending') as Array<'active' | 'pending'>;
          base = base.where((eb) =>
            eb.or([
              ...(stored.length ? [eb('status', 'in', stored)] : []),
              ...(live.length ? [eb.and([eb('status', 'in', live), eb('expires_at', '>', now)])] : []),
              ...(statuses.includes('expired') ? [eb.and([eb('status', 'in', ['active', 'pending']), eb('expires_at', '<=', now)])] : []),
            ]),
          );
        }
        const rows = await base.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
        const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        return asWire(OverrideList, { items: (await overrideViews(tx, rows)).map(overrideOut), total: Number(total.n) });
      });
    },
  );

  for (const action of ['approve', 'revoke'] as const) {
    app.post(
      `/overrides/:id/${action}`,
      { config: { access: access.user('overrides:write') }, schema: { summary: action === 'approve' ? 'Approve a pending override (a different admin or owner than its creator)' : 'Revoke an override', tags: ['overrides'], params: IdParams, response: { 200: Override, ...errors(404, 409) } } },
      async (request) => {
        const user = request.user!;
        const scope = { orgId: user.orgId };
        try {
          return await withOrg(store, scope, async (tx) => {
            const actor = { userId: user.userId, role: user.role, email: user.email };
            const row = action === 'approve' ? await approveOverride(tx, scope, request.params.id, actor, new Date()) : await revokeOverride(tx, scope, request.params.id, actor, new Date());
            await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: `override.${action === 'approve' ? 'approved' : 'revoked'}`, targetType: 'server', targetId: row.server_id, ip: request.ip, details: { overrideId: row.id } });
            return overrideOut((await overrideViews(tx, [row]))[0]!);
          });
        } catch (err) {
          throw asApiError(err);
        }
      },
    );
  }
}
