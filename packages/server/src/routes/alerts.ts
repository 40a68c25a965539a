// Alerts as a triage queue (issue 14): listed by every role (worst first, then newest; filters
// by status, severity, kind, host, server and assignee); acknowledged, resolved and assigned by
// analysts and above, one at a time or many at once (one audit entry per alert); risk accepted
// in bulk by admins and owners (one override per server, which resolves its alerts).
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { access } from '../auth/access.js';
import { can } from '../auth/permissions.js';
import { writeAudit } from '../audit.js';
import { withOrg, type Tx } from '../db/scope.js';
import type { AlertsTable } from '../db/inventory-schema.js';
import { ApiError, badRequest, forbidden, notFound } from '../errors.js';
import { page } from '../http/pagination.js';
import { errors, IdParams, ListOf, ListQuery as PagedQuery, named, Nullable, Person, Time, typed } from '../http/schemas.js';
import { createOverride } from '../services/overrides.js';
import { ALERT_TYPES, alertViews, listAlerts, parseSeverities } from '../services/queries.js';
import { asApiError } from './servers.js';

const STATUSES = ['open', 'acknowledged', 'resolved'];
const Id = Type.String({ minLength: 1, maxLength: 64 });

export const AlertSchema = named(
  'Alert',
  Type.Object({
    id: Type.String(),
    type: Type.String(),
    severity: Type.Union([Type.Literal('critical'), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low'), Type.Literal('info')]),
    status: Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]),
    title: Type.String({ description: 'what happened and where; names in backticks' }),
    message: Type.String(),
    serverId: Nullable(Type.String()),
    serverName: Nullable(Type.String()),
    hostId: Nullable(Type.String()),
    hostname: Nullable(Type.String()),
    client: Nullable(Type.String()),
    eventId: Type.String(),
    createdAt: Time,
    acknowledgedAt: Nullable(Time),
    acknowledgedBy: Nullable(Person),
    resolvedAt: Nullable(Time),
    resolvedBy: Nullable(Person),
    resolvedReason: Nullable(Type.String({ description: 'why Palisade resolved it by itself (risk accepted, fixed, server removed)' })),
    assignedTo: Nullable(Person),
    note: Nullable(Type.String()),
  }),
);

const ListQuery = PagedQuery({
  status: Type.Optional(Type.String({ maxLength: 100, description: 'comma list of open, acknowledged, resolved' })),
  severity: Type.Optional(Type.String({ maxLength: 100, description: 'comma list of critical, high, medium, low, info' })),
  type: Type.Optional(Type.String({ maxLength: 300, description: `comma list of ${ALERT_TYPES.join(', ')}` })),
  server: Type.Optional(Id),
  host: Type.Optional(Id),
  assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "a user id, 'me', or 'none' for unassigned" })),
  sort: Type.Optional(Type.Union([Type.Literal('severity'), Type.Literal('time')])),
});

const BulkBody = Type.Object(
  {
    ids: Type.Array(Id, { minItems: 1, maxItems: 200 }),
    action: Type.Union([Type.Literal('acknowledge'), Type.Literal('resolve'), Type.Literal('assign'), Type.Literal('accept_risk')]),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    assigneeId: Type.Optional(Nullable(Id)),
    decision: Type.Optional(Type.Union([Type.Literal('accept_risk'), Type.Literal('benign')])),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
    expiresAt: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
type Bulk = Static<typeof BulkBody>;

const BulkResult = named('AlertBulkResult', Type.Object({
  updated: Type.Integer({ description: 'alerts changed by this action' }),
  skipped: Type.Array(Type.Object({ id: Type.String(), reason: Type.String() })),
  overrides: Type.Integer({ description: 'overrides created (accept_risk)' }),
  pendingApproval: Type.Integer({ description: 'of those, how many wait for a second approver (their alerts stay open)' }),
  items: Type.Array(AlertSchema),
}));

type Actor = { userId: string; email: string; role: string; ip: string };

/** Acknowledge, resolve or assign one alert row; returns a skip reason or null when changed. */
async function applyOne(tx: Tx, orgId: string, row: AlertsTable, action: 'acknowledge' | 'resolve' | 'assign', actor: Actor, opts: { note?: string; assignee?: { id: string; email: string } | null }, now: string): Promise<string | null> {
  const scope = { orgId };
  if (action === 'assign') {
    if (row.status === 'resolved') return 'already resolved';
    const to = opts.assignee?.id ?? null;
    if ((row.assigned_to ?? null) === to) return to ? 'already assigned to that person' : 'not assigned';
    await tx.updateTable('alerts').set({ assigned_to: to }).where('org_id', '=', orgId).where('id', '=', row.id).execute();
    await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: to ? 'alert.assigned' : 'alert.unassigned', targetType: 'alert', targetId: row.id, ip: actor.ip, details: to ? { assigneeId: to, assignee: opts.assignee!.email } : {} });
    return null;
  }
  if (row.status === 'resolved') return 'already resolved';
  if (action === 'acknowledge' && row.status === 'acknowledged') return 'already acknowledged';
  const note = opts.note ?? row.note;
  const set =
    action === 'acknowledge'
      ? { status: 'acknowledged' as const, acknowledged_at: now, acknowledged_by: actor.userId, note }
      : { status: 'resolved' as const, resolved_at: now, resolved_by: actor.userId, note };
  await tx.updateTable('alerts').set(set).where('org_id', '=', orgId).where('id', '=', row.id).execute();
  await writeAudit(tx, scope, { actorType: 'user', actorId: actor.userId, actorEmail: actor.email, action: `alert.${action === 'acknowledge' ? 'acknowledged' : 'resolved'}`, targetType: 'alert', targetId: row.id, ip: actor.ip, details: note ? { note } : {} });
  return null;
}

async function memberOf(tx: Tx, orgId: string, userId: string): Promise<{ id: string; email: string } | null> {
  const r = await tx.selectFrom('memberships').innerJoin('users', 'users.id', 'memberships.user_id').select(['users.id', 'users.email']).where('memberships.org_id', '=', orgId).where('memberships.user_id', '=', userId).executeTakeFirst();
  return r ?? null;
}

export async function alertsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = typed(fastify);
  const store = app.platform.store;

  app.get(
    '/alerts',
    {
      config: { access: access.user('alerts:read') },
      schema: { summary: 'Alerts: worst first, then newest (sort=time: newest first)', tags: ['alerts'], querystring: ListQuery, response: { 200: ListOf(AlertSchema), ...errors(400) } },
    },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      const q = request.query;
      const status = q.status ? q.status.split(',') : undefined;
      if (status?.some((s) => !STATUSES.includes(s))) throw badRequest('status must be a comma list of open, acknowledged, resolved.');
      const severity = parseSeverities(q.severity);
      if (severity === 'invalid') throw badRequest('severity must be a comma list of critical, high, medium, low, info.');
      const type = q.type ? q.type.split(',') : undefined;
      if (type?.some((t) => !(ALERT_TYPES as readonly string[]).includes(t))) throw badRequest(`type must be a comma list of ${ALERT_TYPES.join(', ')}.`);
      const assignee = q.assignee === 'me' ? user.userId : q.assignee;
      const { limit, offset } = page(q);
      return withOrg(store, scope, (tx) => listAlerts(tx, scope, { status, severity, type, server: q.server, host: q.host, assignee, sort: q.sort, limit, offset }));
    },
  );

  app.get(
    '/alerts/assignees',
    {
      config: { access: access.user('alerts:read') },
      schema: { summary: 'The people alerts can be assigned to: members of your organisation who can act on alerts', tags: ['alerts'], response: { 200: Type.Object({ items: Type.Array(Person) }) } },
    },
    async (request) => {
      const orgId = request.user!.orgId;
      return withOrg(store, { orgId }, async (tx) => {
        const rows = await tx.selectFrom('memberships').innerJoin('users', 'users.id', 'memberships.user_id').select(['users.id', 'users.email', 'memberships.role']).where('memberships.org_id', '=', orgId).orderBy('users.email').limit(1000).execute();
        return { items: rows.filter((r) => can(r.role, 'alerts:write')).map((r) => ({ id: r.id, email: r.email })) };
      });
    },
  );

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post(
      `/alerts/:id/${action}`,
      {
        config: { access: access.user('alerts:write') },
        schema: {
          summary: action === 'acknowledge' ? 'Acknowledge an alert (someone is on it)' : 'Resolve an alert',
          tags: ['alerts'],
          params: IdParams,
          body: Type.Union([Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }), Type.Null()]),
          response: { 200: AlertSchema, ...errors(403, 404, 409) },
        },
      },
      async (request) => {
        const user = request.user!;
        const scope = { orgId: user.orgId };
        const now = new Date().toISOString();
        return withOrg(store, scope, async (tx) => {
          const row = await tx.selectFrom('alerts').selectAll().where('org_id', '=', scope.orgId).where('id', '=', request.params.id).executeTakeFirst();
          if (!row) throw notFound('That alert');
          const skipped = await applyOne(tx, scope.orgId, row, action, { ...user, ip: request.ip }, { note: request.body?.note }, now);
          if (skipped) throw new ApiError(409, 'alert_state', `This alert is ${skipped}.`);
          const fresh = await tx.selectFrom('alerts').selectAll().where('org_id', '=', scope.orgId).where('id', '=', row.id).executeTakeFirstOrThrow();
          return (await alertViews(tx, [fresh]))[0]!;
        });
      },
    );
  }

  app.post(
    '/alerts/bulk',
    {
      config: { access: access.user('alerts:write') },
      schema: {
        summary: 'Acknowledge, resolve, assign or accept the risk of several alerts at once (each audited)',
        description: 'accept_risk (admins and owners) creates one override per server of the chosen alerts, with reason and expiresAt; an override in force resolves that server\'s alerts.',
        tags: ['alerts'],
        body: BulkBody,
        response: { 200: BulkResult, ...errors(400, 403) },
      },
    },
    async (request) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      const body: Bulk = request.body;
      const ids = [...new Set(body.ids)];
      if (body.action === 'accept_risk' && !can(user.role, 'overrides:write')) throw forbidden('Accepting a risk needs an admin or owner.');
      if (body.action === 'assign' && body.assigneeId === undefined) throw badRequest('Give assigneeId: a user of your organisation, or null to unassign.');
      if (body.action === 'accept_risk' && (body.reason === undefined || body.expiresAt === undefined)) throw badRequest('Give a reason (at least 10 characters) and expiresAt to accept the risk.');
      const now = new Date();
      const stamp = now.toISOString();
      const actor = { ...user, ip: request.ip };
      try {
        return await withOrg(store, scope, async (tx) => {
          const rows = await tx.selectFrom('alerts').selectAll().where('org_id', '=', scope.orgId).where('id', 'in', ids).execute();
          const found = new Set(rows.map((r) => r.id));
          const skipped = ids.filter((id) => !found.has(id)).map((id) => ({ id, reason: 'not found in your organisation' }));
          let updated = 0;
          let overrides = 0;
          let pendingApproval = 0;
          if (body.action === 'accept_risk') {
            const servers = [...new Set(rows.map((r) => r.server_id).filter((x): x is string => Boolean(x)))];
            for (const r of rows) if (!r.server_id) skipped.push({ id: r.id, reason: 'not about a server' });
            for (const serverId of servers) {
              const o = await createOverride(tx, scope, serverId, { decision: body.decision ?? 'accept_risk', reason: body.reason, expiresAt: body.expiresAt }, { userId: user.userId, role: user.role, email: user.email }, now);
              overrides++;
              if (o.status === 'pending') pendingApproval++;
              await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'override.created', targetType: 'server', targetId: serverId, ip: request.ip, details: { overrideId: o.id, decision: o.decision, reason: o.reason, expiresAt: o.expires_at, status: o.status, fingerprint: o.fingerprint, viaAlerts: true } });
            }
            const after = await tx.selectFrom('alerts').select(['id', 'status']).where('org_id', '=', scope.orgId).where('id', 'in', ids).execute();
            const was = new Map(rows.map((r) => [r.id, r.status]));
            updated = after.filter((a) => a.status === 'resolved' && was.get(a.id) !== 'resolved').length;
          } else {
            const assignee = body.action === 'assign' && body.assigneeId ? await memberOf(tx, scope.orgId, body.assigneeId) : null;
            if (body.action === 'assign' && body.assigneeId && !assignee) throw new ApiError(400, 'bad_assignee', 'That person is not a member of your organisation; pick someone from the list.');
            for (const row of rows) {
              const why = await applyOne(tx, scope.orgId, row, body.action, actor, { note: body.note, assignee }, stamp);
              if (why) skipped.push({ id: row.id, reason: why });
              else updated++;
            }
          }
          const fresh = await tx.selectFrom('alerts').selectAll().where('org_id', '=', scope.orgId).where('id', 'in', ids).execute();
          return { updated, skipped, overrides, pendingApproval, items: await alertViews(tx, fresh) };
        });
      } catch (err) {
        throw asApiError(err);
      }
    },
  );
}
