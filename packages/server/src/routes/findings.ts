// Findings across the inventory, one row per (server, rule, evidence) with its host count.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { badRequest } from '../errors.js';
import { page, pageQueryProperties } from '../http/pagination.js';
import { listFindings, parseSeverities } from '../services/queries.js';

export async function findingsRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  app.get<{ Querystring: { severity?: string; ruleId?: string; server?: string; host?: string; limit?: number; offset?: number } }>(
    '/findings',
    {
      config: { access: access.user('inventory:read') },
      schema: {
        summary: 'Findings of the current inventory, worst first',
        tags: ['inventory'],
        querystring: { type: 'object', properties: { ...pageQueryProperties, severity: { type: 'string', maxLength: 100 }, ruleId: { type: 'string', maxLength: 20 }, server: { type: 'string', maxLength: 64 }, host: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request) => {
      const scope = { orgId: request.user!.orgId };
      const severity = parseSeverities(request.query.severity);
      if (severity === 'invalid') throw badRequest('severity must be a comma list of critical, high, medium, low, info.');
      const { limit, offset } = page(request.query);
      return withOrg(store, scope, (tx) => listFindings(tx, scope, { ...request.query, severity, limit, offset }));
    },
  );
}
