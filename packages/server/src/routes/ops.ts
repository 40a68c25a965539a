// Health and metrics, outside /api/v1.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { pingDatabase } from '../db/open.js';

const health = { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } } } as const;

export async function opsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/healthz',
    { config: { access: access.public }, schema: { summary: 'Liveness and database check', response: { 200: health, 503: health } } },
    async (_req, reply) => {
      const ok = await pingDatabase(app.platform.store.db);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', database: ok ? 'ok' : 'unreachable' });
    },
  );
  app.get('/metrics', { config: { access: access.public }, schema: { summary: 'Prometheus metrics (text format)' } }, async (_req, reply) => {
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(app.platform.metrics.render());
  });
}
