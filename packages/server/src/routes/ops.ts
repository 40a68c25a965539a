// Health and metrics, outside /api/v1.
import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { pingDatabase } from '../db/open.js';
import { Type } from 'typebox';
import { named, typed } from '../http/schemas.js';

const Health = named('Health', Type.Object({ status: Type.Enum(['ok', 'degraded']), database: Type.Enum(['ok', 'unreachable']) }));

export async function opsRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  app.get(
    '/healthz',
    { config: { access: access.public }, schema: { summary: 'Liveness and database check', response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      const ok = await pingDatabase(app.platform.store.db);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', database: ok ? 'ok' : 'unreachable' });
    },
  );
  app.get('/metrics', { config: { access: access.public }, schema: { summary: 'Prometheus metrics (text format)', produces: ['text/plain'], response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }) } } }, async (_req, reply) => {
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(app.platform.metrics.render());
  });
}
