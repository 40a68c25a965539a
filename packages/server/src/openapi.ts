// Builds the OpenAPI 3.1 document from the routes as they are registered: their JSON
// schemas (params, querystring, body, response) and their declared access.
import type { RouteOptions } from 'fastify';
import type { Access } from './auth/access.js';

interface CollectedRoute {
  method: string;
  url: string;
  schema: RouteOptions['schema'];
  access: Access | undefined;
}

type Json = Record<string, unknown>;

function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersOf(schema: Json | undefined, where: 'path' | 'query'): Json[] {
  const props = (schema?.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: s }));
}

export class OpenApiCollector {
  readonly routes: CollectedRoute[] = [];

  add(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      this.routes.push({ method, url: route.url, schema: route.schema, access: route.config?.access });
    }
  }

  document(version: string): Json {
    const paths: Record<string, Record<string, Json>> = {};
    for (const r of this.routes) {
      if (!r.url.startsWith('/api/') && r.url !== '/healthz' && r.url !== '/metrics') continue;
      const s = (r.schema ?? {}) as Json;
      const op: Json = {
        operationId: `${r.method.toLowerCase()} ${r.url}`,
        summary: (s.summary as string | undefined) ?? undefined,
        tags: (s.tags as string[] | undefined) ?? undefined,
        parameters: [...parametersOf(s.params as Json | undefined, 'path'), ...parametersOf(s.querystring as Json | undefined, 'query')],
        responses: Object.fromEntries(
          Object.entries((s.response as Record<string, Json> | undefined) ?? { 200: { description: 'OK' } }).map(([code, body]) => [
            String(code),
            { description: (body.description as string | undefined) ?? 'see docs/api.md', content: { 'application/json': { schema: body } } },
          ]),
        ),
        security: securityOf(r.access),
        'x-palisade-access': r.access ?? { kind: 'public' },
      };
      if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: s.body } } };
      (paths[toOpenApiPath(r.url)] ??= {})[r.method.toLowerCase()] = op;
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Palisade API', version, description: 'Human-readable description: docs/api.md' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'palisade_session' },
          agentKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      paths,
    };
  }
}

function securityOf(a: Access | undefined): Json[] {
  if (!a || a.kind === 'public') return [];
  if (a.kind === 'agent') return [{ agentKey: [] }];
  return [{ session: [] }];
}

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
  }
}
