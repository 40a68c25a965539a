// Hosts: every (hostname, OS user) that reported, with its servers and history.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { notFound } from '../errors.js';
import { Type } from 'typebox';
import { page } from '../http/pagination.js';
import { HostDetail, HostSummary } from '../http/models.js';
import { asWire, errors, IdParams, ListOf, ListQuery, typed } from '../http/schemas.js';
import { getHost, listHosts } from '../services/queries.js';

const HostList = ListOf(HostSummary);

export async function hostsRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;
  app.get(
    '/hosts',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Hosts that reported (silent: no report in 48 hours)',
        tags: ['inventory'],
        querystring: ListQuery({
          q: Type.Optional(Type.String({ maxLength: 200 })),
          status: Type.Optional(Type.Enum(['reporting', 'silent'])),
          sort: Type.Optional(Type.Enum(['lastSeen', 'hostname', 'servers', 'score'])),
          order: Type.Optional(Type.Enum(['asc', 'desc'])),
        }),
        response: { 200: HostList },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const { limit, offset } = page(request.query);
      return asWire(HostList, await withOrg(store, scope, (tx) => listHosts(tx, scope, { ...request.query, limit, offset })));
    },
  );
  app.get(
    '/hosts/:id',
    { config: { access: access.user('inventory:read') }, schema: { summary: 'One host: its clients, server instances and history', tags: ['inventory'], params: IdParams, response: { 200: HostDetail, ...errors(404) } } },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const host = await withOrg(store, scope, (tx) => getHost(tx, scope, request.params.id));
      if (!host) throw notFound('That host');
      return asWire(HostDetail, host);
    },
  );
}
