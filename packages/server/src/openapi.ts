// The OpenAPI 3.1 document, produced by @fastify/swagger from the routes' own schemas
// (http/schemas.ts). This module gives swagger its options: the security schemes, each
// operation's access (`x-palisade-access`, from the route's `config.access`) and security,
// named schemas as `components.schemas` with `$ref`s to them, and only the API's routes
// (/api/..., /healthz, /metrics; not the dashboard's static files).
// It also keeps the table of registered routes that the route-walking tests read.
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { SwaggerOptions } from '@fastify/swagger';
import type { Access } from './auth/access.js';
import { nameOf, namedSchemas } from './http/schemas.js';

export interface RegisteredRoute {
  method: string;
  url: string;
  schema: RouteOptions['schema'];
  access: Access | undefined;
}

type Json = Record<string, unknown>;

/** The routes as they are registered (HEAD left out), for the tests that walk every route. */
export class RouteTable {
  readonly routes: RegisteredRoute[] = [];
  private app: FastifyInstance | null = null;

  add(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      this.routes.push({ method, url: route.url, schema: route.schema, access: route.config?.access });
    }
  }

  attach(app: FastifyInstance): void {
    this.app = app;
  }

  /** The OpenAPI document (from @fastify/swagger; the app must be ready). */
  document(): Json {
    if (!this.app) throw new Error('The route table is not attached to an app');
    return this.app.swagger() as unknown as Json;
  }
}

/** Whether a route is part of the API document. */
export function documented(url: string): boolean {
  return url.startsWith('/api/') || url === '/healthz' || url === '/metrics';
}

const MARK = 'x-palisade-schema';

/**
 * A copy of a schema in which every named schema below the top (or the top too, when `top`)
 * is replaced by a marker; the document's transform turns markers into `$ref`s.
 */
function markNamed(schema: unknown, top: boolean, seen = new Map<unknown, unknown>()): unknown {
  if (!schema || typeof schema !== 'object') return schema;
  if (top) {
    const name = nameOf(schema);
    if (name) return { [MARK]: name };
  }
  if (seen.has(schema)) return seen.get(schema);
  if (Array.isArray(schema)) {
    const out: unknown[] = [];
    seen.set(schema, out);
    for (const v of schema) out.push(markNamed(v, true, seen));
    return out;
  }
  const out: Json = {};
  seen.set(schema, out);
  for (const [k, v] of Object.entries(schema as Json)) out[k] = k === 'properties' || k === '$defs' || k === 'patternProperties' ? markProps(v, seen) : markNamed(v, true, seen);
  return out;
}

function markProps(props: unknown, seen: Map<unknown, unknown>): unknown {
  if (!props || typeof props !== 'object') return props;
  return Object.fromEntries(Object.entries(props as Json).map(([k, v]) => [k, markNamed(v, true, seen)]));
}

/** Replaces markers by `$ref`s, in place, everywhere in the document. */
function refMarkers(node: unknown): unknown {
  if (!node || typeof node !== 'object') return node;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = refMarkers(node[i]);
    return node;
  }
  const o = node as Json;
  if (typeof o[MARK] === 'string') return { $ref: `#/components/schemas/${o[MARK] as string}` };
  for (const k of Object.keys(o)) o[k] = refMarkers(o[k]);
  return o;
}

function securityOf(a: Access | undefined): Json[] {
  if (!a || a.kind === 'public') return [];
  if (a.kind === 'agent') return [{ agentKey: [] }];
  if (a.kind === 'gateway') return [{ gatewayKey: [] }];
  return [{ session: [] }];
}

/** @fastify/swagger's options for Palisade's document. */
export function swaggerOptions(version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Palisade API', version, description: 'Human-readable description: docs/api.md' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'palisade_session' },
          agentKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          gatewayKey: { type: 'apiKey', in: 'header', name: 'X-Gateway-Key' },
        },
        // named schemas; the ones nested in them become $refs as well
        schemas: Object.fromEntries([...namedSchemas()].map(([name, s]) => [name, markNamed(s, false) as Json])) as never,
      },
    },
    // a schema with an `$id` inside a route's schema is named by it (not def-N)
    refResolver: {
      buildLocalReference(json, _baseUri, _fragment, i) {
        return typeof json.$id === 'string' && /^[A-Za-z][A-Za-z0-9_]*$/.test(json.$id) ? json.$id : `def-${i}`;
      },
    },
    transform({ schema, url, route }) {
      if (!documented(url)) return { schema: { hide: true } as never, url };
      const access = route.config?.access as Access | undefined;
      const s = (schema ?? {}) as Json;
      const copy: Json = {};
      for (const [k, v] of Object.entries(s)) copy[k] = k === 'body' || k === 'response' || k === 'querystring' || k === 'params' ? markResponses(k, v) : v;
      copy.operationId = `${route.method.toString().toLowerCase()} ${url}`;
      copy.security = securityOf(access);
      copy['x-palisade-access'] = access ?? { kind: 'public' };
      return { schema: copy as never, url };
    },
    transformObject(document) {
      return refMarkers((document as unknown as { openapiObject: Json }).openapiObject) as never;
    },
  };
}

function markResponses(key: string, value: unknown): unknown {
  if (key !== 'response' || !value || typeof value !== 'object') return key === 'body' ? markNamed(value, true) : value;
  return Object.fromEntries(
    Object.entries(value as Json).map(([code, s]) => {
      const marked = markNamed(s, true) as Json;
      // the response's description: the schema's own, else the status's reason phrase
      const description = (s as Json | null)?.description ?? STATUS_TEXT[code] ?? 'see docs/api.md';
      return [code, { ...marked, description }];
    }),
  );
}

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'The request is not valid',
  401: 'Not signed in, or the agent key is missing, unknown or revoked',
  403: 'Not allowed (role, CSRF token)',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'The body is too large',
  415: 'The body is not JSON',
  429: 'Too many requests',
  500: 'Internal error (the answer names the request id)',
  503: 'Unavailable',
  507: 'Storage quota reached',
};
