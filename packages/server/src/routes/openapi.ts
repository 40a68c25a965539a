import type { FastifyInstance } from 'fastify';
import { access } from '../auth/access.js';
import { SERVER_VERSION } from '../version.js';

export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', { config: { access: access.public }, schema: { summary: 'This API as an OpenAPI 3.1 document', tags: ['meta'] } }, async () => app.platform.openapi.document(SERVER_VERSION));
}
