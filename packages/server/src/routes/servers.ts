// Servers: the inventory list and detail, and creating risk overrides on a server.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { Type } from 'typebox';
import { page } from '../http/pagination.js';
import { Decision, Override, ServerDetail, ServerSummary } from '../http/models.js';
import { asWire, errors, IdParams, ListOf, ListQuery, typed } from '../http/schemas.js';
import { createOverride, InventoryError } from '../services/overrides.js';
import { getServer, listServers, overrideViews, parseLevels } from '../services/queries.js';

type OverrideView = Awaited<ReturnType<typeof overrideViews>>[number];

/** An override as the API writes it: its creator is always known (the column is NOT NULL). */
export function overrideOut(v: OverrideView) {
  return asWire(Override, { ...v, createdBy: v.createdBy ?? { id: '', email: '' } });
}

export function asApiError(err: unknown): unknown {
  return err instanceof InventoryError ? new ApiError(err.statusCode, err.code, err.message) : err;
}

const ServerList = ListOf(ServerSummary);

export async function serversRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;

  app.get(
    '/servers',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Inventory of MCP server definitions (one entry per fingerprint), filtered, sorted and paged',
        tags: ['inventory'],
        querystring: ListQuery({
          level: Type.Optional(Type.String({ maxLength: 100, description: 'comma list of levels (real level)' })),
          client: Type.Optional(Type.String({ maxLength: 200 })),
          host: Type.Optional(Type.String({ maxLength: 64, description: 'a host id' })),
          q: Type.Optional(Type.String({ maxLength: 200 })),
          sort: Type.Optional(Type.Enum(['score', 'name', 'lastSeen', 'hosts'])),
          order: Type.Optional(Type.Enum(['asc', 'desc'])),
        }),
        response: { 200: ServerList },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const level = parseLevels(request.query.level);
      if (level === 'invalid') throw badRequest('level must be a comma list of critical, high, medium, low, none.');
      const { limit, offset } = page(request.query);
      return asWire(ServerList, await withOrg(store, scope, (tx) => listServers(tx, scope, { ...request.query, level, limit, offset })));
    },
  );

  app.get(
    '/servers/:id',
    { config: { access: access.user('inventory:read') }, schema: { summary: 'One server: hosts, clients, config, tools, findings, overrides, history', tags: ['inventory'], params: IdParams, response: { 200: ServerDetail, ...errors(404) } } },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const server = await withOrg(store, scope, (tx) => getServer(tx, scope, request.params.id));
      if (!server) throw notFound('That server');
      return asWire(ServerDetail, { ...server, overrides: server.overrides.map(overrideOut) });
    },
  );

  app.post(
    '/servers/:id/overrides',
    {
      config: { access: access.user('overrides:write') },
      schema: {
        summary: 'Accept the risk of a server (or mark it benign) until a date; bound to its current fingerprint',
        tags: ['overrides'],
        params: IdParams,
        body: Type.Object({ decision: Decision, reason: Type.String({ maxLength: 2000 }), expiresAt: Type.String({ maxLength: 40, description: 'date-time; at most the organisation\'s longest override period ahead' }) }, { additionalProperties: false }),
        response: { 201: Override, ...errors(404) },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      try {
        const view = await withOrg(store, scope, async (tx) => {
          const row = await createOverride(tx, scope, request.params.id, request.body, { userId: user.userId, role: user.role, email: user.email }, new Date());
          await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'override.created', targetType: 'server', targetId: row.server_id, ip: request.ip, details: { overrideId: row.id, decision: row.decision, reason: row.reason, expiresAt: row.expires_at, status: row.status, fingerprint: row.fingerprint } });
          return (await overrideViews(tx, [row]))[0]!;
        });
        return reply.code(201).send(overrideOut(view));
      } catch (err) {
        throw asApiError(err);
      }
    },
  );
}
