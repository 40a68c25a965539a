import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { access } from '../auth/access.js';
import { typed } from '../http/schemas.js';

export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  typed(app).get(
    '/openapi.json',
    { config: { access: access.public }, schema: { summary: 'This API as an OpenAPI 3.1 document', tags: ['meta'], response: { 200: Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description: 'the OpenAPI 3.1 document (made by @fastify/swagger from the routes\' schemas)' }) } } },
    async () => app.platform.openapi.document(),
  );
}
