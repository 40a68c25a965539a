// The error answers every API route can give because of what it is (its access rule, a body,
// a rate limit), added to its response schemas when the route registers, so each route's
// schema (and the OpenAPI document) lists every status it answers with. A route declares the
// errors of its own logic (404, 409, ...) itself.
import type { RouteOptions } from 'fastify';
import { ErrorBody } from './schemas.js';

type Responses = Record<string, unknown>;

/** onRoute: fills in the error statuses the route's access rule, body and limits can give. */
export function addErrorResponses(route: RouteOptions): void {
  if (!route.url.startsWith('/api/')) return;
  const schema = (route.schema ??= {});
  const response = ((schema as { response?: Responses }).response ??= {});
  const codes = [400, 500];
  const access = route.config?.access;
  if (access && access.kind !== 'public') codes.push(401);
  if (access && (access.kind === 'user' || access.kind === 'refresh')) codes.push(403);
  if (schema.body) codes.push(413, 415);
  if (route.config && 'rateLimit' in route.config && route.config.rateLimit) codes.push(429);
  for (const code of codes) if (response[code] === undefined && response[`${code}`] === undefined) response[code] = ErrorBody;
}
