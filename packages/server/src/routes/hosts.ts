// Hosts: every (hostname, OS user) that reported, with its servers and history.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { notFound } from '../errors.js';
import { errorSchema, idParams, page, pageQueryProperties } from '../http/pagination.js';
import { getHost, listHosts } from '../services/queries.js';

interface ListQuery {
  q?: string;
  status?: 'reporting' | 'silent';
  sort?: 'lastSeen' | 'hostname' | 'servers' | 'score';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export async function hostsRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  app.get<{ Querystring: ListQuery }>(
    '/hosts',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Hosts that reported (silent: no report in 48 hours)',
        tags: ['inventory'],
        querystring: { type: 'object', properties: { ...pageQueryProperties, q: { type: 'string', maxLength: 200 }, status: { type: 'string', enum: ['reporting', 'silent'] }, sort: { type: 'string', enum: ['lastSeen', 'hostname', 'servers', 'score'] }, order: { type: 'string', enum: ['asc', 'desc'] } } },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, (tx) => listHosts(tx, scope, { ...request.query, limit, offset }));
    },
  );
  app.get<{ Params: { id: string } }>(
    '/hosts/:id',
    { config: { access: access.user('inventory:read') }, schema: { summary: 'One host: its clients, server instances and history', tags: ['inventory'], params: idParams, response: { 404: errorSchema } } },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const host = await withOrg(store, scope, (tx) => getHost(tx, scope, request.params.id));
      if (!host) throw notFound('That host');
      return host;
    },
  );
}
