// Findings across the inventory, one row per (server, rule, evidence) with its host count.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { badRequest } from '../errors.js';
import { Type } from 'typebox';
import { page } from '../http/pagination.js';
import { Finding } from '../http/models.js';
import { asWire, ListOf, ListQuery, typed } from '../http/schemas.js';
import { listFindings, parseSeverities } from '../services/queries.js';

const FindingList = ListOf(Finding);

export async function findingsRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;
  app.get(
    '/findings',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Findings of the current inventory, worst first',
        tags: ['inventory'],
        querystring: ListQuery({
          severity: Type.Optional(Type.String({ maxLength: 100, description: 'comma list of critical, high, medium, low, info' })),
          ruleId: Type.Optional(Type.String({ maxLength: 20 })),
          server: Type.Optional(Type.String({ maxLength: 64, description: 'a server id' })),
          host: Type.Optional(Type.String({ maxLength: 64, description: 'a host id' })),
        }),
        response: { 200: FindingList },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const severity = parseSeverities(request.query.severity);
      if (severity === 'invalid') throw badRequest('severity must be a comma list of critical, high, medium, low, info.');
      const { limit, offset } = page(request.query);
      return asWire(FindingList, await withOrg(store, scope, (tx) => listFindings(tx, scope, { ...request.query, severity, limit, offset })));
    },
  );
}
