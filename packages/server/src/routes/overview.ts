// The overview: counts by level (real and effective), 30-day trend, top risky servers, new
// this week, hosts reporting versus silent, alerts not yet resolved.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { withOrg } from '../db/scope.js';
import { overview } from '../services/queries.js';

export async function overviewRoutes(app: FastifyInstance): Promise<void> {
  const store = app.platform.store;
  app.get('/overview', { config: { access: access.user('inventory:read') }, schema: { summary: 'Counts, trend, top risky servers, hosts and open alerts', tags: ['inventory'] } }, async (request) => {
    const scope = { orgId: request.user!.orgId };
    return withOrg(store, scope, (tx) => overview(tx, scope));
  });
}
