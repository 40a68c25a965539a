// Every parameter and string bounded and validated (issue 13). Routes declare their own JSON
// schemas; this fills in what a schema left open, so no value can reach SQL out of range:
//   - integers and numbers without a maximum get one (1e9; and a minimum of -1e9), so
//     `offset=1e20` or `offset=Infinity` is a 400 with a message, not a database error;
//   - strings without a maxLength get one (2,048 in the query string and path, 100,000 in
//     bodies);
//   - `format: date-time` is checked strictly: the calendar date and time must exist
//     (`...T23:59:60Z`, a leap second, is refused: JavaScript dates cannot hold it);
//   - NUL characters anywhere in a query string, path parameter or JSON body (keys too) are a
//     400 naming the field: PostgreSQL text cannot store them.
import type { FastifyRequest, RouteOptions } from 'fastify';
import { ApiError } from '../errors.js';

export const MAX_NUMBER = 1_000_000_000;
export const MAX_QUERY_STRING = 2048;
export const MAX_BODY_STRING = 100_000;

type Json = Record<string, unknown>;

function bound(schema: unknown, maxString: number, seen = new Set<unknown>()): void {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  const s = schema as Json;
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  if ((types.includes('integer') || types.includes('number')) && s.enum === undefined && s.const === undefined) {
    if (s.maximum === undefined && s.exclusiveMaximum === undefined) s.maximum = MAX_NUMBER;
    if (s.minimum === undefined && s.exclusiveMinimum === undefined) s.minimum = -MAX_NUMBER;
  }
  if (types.includes('string') && s.enum === undefined && s.const === undefined && s.maxLength === undefined) s.maxLength = maxString;
  for (const key of ['properties', 'patternProperties', 'definitions', '$defs']) {
    const group = s[key];
    if (group && typeof group === 'object') for (const v of Object.values(group as Json)) bound(v, maxString, seen);
  }
  for (const key of ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains']) bound(s[key], maxString, seen);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) if (Array.isArray(s[key])) for (const v of s[key] as unknown[]) bound(v, maxString, seen);
}

/** onRoute: bounds the route's params, querystring and body schemas in place. */
export function boundRouteSchemas(route: RouteOptions): void {
  const schema = route.schema as Json | undefined;
  if (!schema) return;
  bound(schema.params, MAX_QUERY_STRING);
  bound(schema.querystring, MAX_QUERY_STRING);
  bound(schema.body, MAX_BODY_STRING);
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 date-time that JavaScript can represent: a real calendar date, hours < 24, minutes and seconds < 60. */
export function strictDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > days) return false;
  if (m[8] && m[8].length === 6) {
    const [oh, om] = m[8].slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) return false;
  }
  return !Number.isNaN(Date.parse(value));
}

/** The first path to a NUL character in a parsed value (keys included), or null. */
export function nulPath(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '(value)' : null;
  if (depth > 64 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = nulPath(value[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value as Json)) {
    const here = path ? `${path}.${k}` : k;
    if (k.includes('\u0000')) return here.split('\u0000').join('\\u0000');
    const p = nulPath(v, here, depth + 1);
    if (p) return p;
  }
  return null;
}

/** preValidation: NUL characters in the query string, path parameters or a JSON body are a 400 naming where. */
export async function refuseNul(request: FastifyRequest): Promise<void> {
  for (const [where, value] of [
    ['query string', request.query],
    ['path', request.params],
    ['body', typeof request.body === 'string' || Buffer.isBuffer(request.body) ? null : request.body],
  ] as const) {
    const p = nulPath(value);
    if (p) throw new ApiError(400, 'bad_request', `The request is not valid: the ${where} field "${p}" contains a NUL character (\\u0000); remove it.`);
  }
}

/**
 * preHandler: the query string's coercion turns "Infinity" into a number that slips past the
 * schema's bounds; a number that is not finite in the query string or path is a 400.
 */
export async function refuseNonFinite(request: FastifyRequest): Promise<void> {
  for (const [where, value] of [
    ['query string', request.query],
    ['path', request.params],
  ] as const) {
    if (!value || typeof value !== 'object') continue;
    for (const [k, v] of Object.entries(value as Json)) {
      const vs = Array.isArray(v) ? v : [v];
      if (vs.some((x) => typeof x === 'number' && !Number.isFinite(x))) throw new ApiError(400, 'bad_request', `The request is not valid: the ${where} field "${k}" must be a finite number.`);
    }
  }
}
