// Servers: the inventory list and detail, and creating risk overrides on a server.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { writeAudit } from '../audit.js';
import { withOrg } from '../db/scope.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { errorSchema, idParams, page, pageQueryProperties } from '../http/pagination.js';
import { createOverride, InventoryError } from '../services/overrides.js';
import { getServer, listServers, overrideViews, parseLevels } from '../services/queries.js';

export function asApiError(err: unknown): unknown {
  return err instanceof InventoryError ? new ApiError(err.statusCode, err.code, err.message) : err;
}

interface ListQuery {
  level?: string;
  client?: string;
  host?: string;
  q?: string;
  sort?: 'score' | 'name' | 'lastSeen' | 'hosts';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export async function serversRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;

  app.get<{ Querystring: ListQuery }>(
    '/servers',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Inventory of MCP server definitions (one entry per fingerprint), filtered, sorted and paged',
        tags: ['inventory'],
        querystring: {
          type: 'object',
          properties: {
            ...pageQueryProperties,
            level: { type: 'string', maxLength: 100, description: 'comma list of levels (real level)' },
            client: { type: 'string', maxLength: 200 },
            host: { type: 'string', maxLength: 64 },
            q: { type: 'string', maxLength: 200 },
            sort: { type: 'string', enum: ['score', 'name', 'lastSeen', 'hosts'] },
            order: { type: 'string', enum: ['asc', 'desc'] },
          },
        },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const level = parseLevels(request.query.level);
      if (level === 'invalid') throw badRequest('level must be a comma list of critical, high, medium, low, none.');
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, (tx) => listServers(tx, scope, { ...request.query, level, limit, offset }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/servers/:id',
    { config: { access: access.user('inventory:read') }, schema: { summary: 'One server: hosts, clients, config, tools, findings, overrides, history', tags: ['inventory'], params: idParams, response: { 404: errorSchema } } },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const server = await withOrg(store, scope, (tx) => getServer(tx, scope, request.params.id));
      if (!server) throw notFound('That server');
      return server;
    },
  );

  app.post<{ Params: { id: string }; Body: { decision: string; reason: string; expiresAt: string } }>(
    '/servers/:id/overrides',
    {
      config: { access: access.user('overrides:write') },
      schema: {
        summary: 'Accept the risk of a server (or mark it benign) until a date; bound to its current fingerprint',
        tags: ['overrides'],
        params: idParams,
        body: {
          type: 'object',
          required: ['decision', 'reason', 'expiresAt'],
          additionalProperties: false,
          properties: { decision: { type: 'string', enum: ['accept_risk', 'benign'] }, reason: { type: 'string', maxLength: 2000 }, expiresAt: { type: 'string', maxLength: 40 } },
        },
        response: { 400: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const scope = { orgId: user.orgId };
      try {
        const view = await withOrg(store, scope, async (tx) => {
          const row = await createOverride(tx, scope, request.params.id, request.body, { userId: user.userId, role: user.role, email: user.email }, new Date());
          await writeAudit(tx, scope, { actorType: 'user', actorId: user.userId, actorEmail: user.email, action: 'override.created', targetType: 'server', targetId: row.server_id, ip: request.ip, details: { overrideId: row.id, decision: row.decision, reason: row.reason, expiresAt: row.expires_at, status: row.status, fingerprint: row.fingerprint } });
          return (await overrideViews(tx, [row]))[0];
        });
        return reply.code(201).send(view);
      } catch (err) {
        throw asApiError(err);
      }
    },
  );
}
