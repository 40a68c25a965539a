// The API contract's building blocks (TypeBox). Every route declares its params, querystring,
// body and every response status with these, so one schema gives the request validation, the
// response serialisation (fields not in the schema never reach the JSON), the handler's types
// and the OpenAPI document (openapi.ts, through @fastify/swagger) that the dashboard's types
// are generated from (`npm run api:types`, docs/api.md).
//
// A schema made with `named('Name', ...)` becomes `components.schemas.Name` in the OpenAPI
// document (and so `components['schemas']['Name']` in the dashboard's generated types); every
// place a route uses it becomes a `$ref`. Anything else stays inline in its path.
import type { FastifyInstance, FastifyBaseLogger, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema, type TObject, type TProperties } from 'typebox';
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET } from './pagination.js';

/** The fastify instance with TypeBox types for request and reply. */
export type TypedApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** A route plugin's app with the TypeBox type provider. */
export function typed(app: FastifyInstance): TypedApp {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

const registry = new Map<string, TSchema>();

/** A schema that has a name in the OpenAPI document (components.schemas[name]). */
export function named<T extends TSchema>(name: string, schema: T): T {
  if (registry.has(name) && registry.get(name) !== schema) throw new Error(`Two API schemas are named ${name}`);
  registry.set(name, schema);
  return schema;
}

/** Every named schema, by name. */
export function namedSchemas(): ReadonlyMap<string, TSchema> {
  return registry;
}

/** The name of a named schema (the same object, or an optional/readonly copy of it), else undefined. */
export function nameOf(schema: unknown): string | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  for (const [name, s] of registry) {
    if (s === schema) return name;
    // Type.Optional(X) is a shallow copy of X: the same properties/items objects
    const a = s as Record<string, unknown>;
    const b = schema as Record<string, unknown>;
    if (a.type === b.type && a.properties !== undefined && a.properties === b.properties) return name;
    if (a.anyOf !== undefined && a.anyOf === b.anyOf) return name;
    if (a.enum !== undefined && a.enum === b.enum) return name;
  }
  return undefined;
}

// ---- shared shapes ----------------------------------------------------------------------

/** Every error answer: `{ error: { code, message } }`. */
export const ErrorBody = named(
  'Error',
  Type.Object({
    error: Type.Object({
      code: Type.String({ description: 'stable machine-readable code, e.g. not_found, bad_request, forbidden' }),
      message: Type.String({ description: 'what went wrong and what to do, for people' }),
    }),
  }),
);

/** `type: ['string','null']` in the document; `string | null` in the types. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** An id in a path. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** limit and offset of every list (larger limits are capped, not refused). */
export const pageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: DEFAULT_LIMIT, description: `page size (larger values are capped at ${MAX_LIMIT})` })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
};

/** A query string of a list: paging plus the given filters. */
export function ListQuery<P extends TProperties>(filters: P) {
  return Type.Object({ ...pageQuery, ...filters });
}

/** `{ items, total }`: one page of a list and the number of entries in the whole list. */
export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer({ description: 'entries in the whole list (every page)' }) });
}

/** An object whose keys are not fixed (details, configs): any JSON values. */
export const JsonObject = Type.Record(Type.String(), Type.Unknown());

/** An ISO 8601 / RFC 3339 time as the API writes it. */
export const Time = Type.String({ description: 'date-time (ISO 8601, UTC)' });

/** A user shown beside a record (who created, approved, acknowledged...). */
export const Person = named('Person', Type.Object({ id: Type.String(), email: Type.String() }));

/** The answer of a request that only reports success. */
export const Ok = Type.Object({ ok: Type.Boolean() });

/** The error answers of a route, each with the error body. */
export function errors<const C extends readonly number[]>(...codes: C): { [K in C[number]]: typeof ErrorBody } {
  return Object.fromEntries(codes.map((c) => [c, ErrorBody])) as { [K in C[number]]: typeof ErrorBody };
}

/** The 204 answer: no body. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a 204 is sent with reply.send() and no argument
export const NoContent = Type.Unsafe<void>({ type: 'null', description: 'No Content' });

/**
 * The static type of a schema with its word lists (levels, severities, statuses) widened to
 * `string` and its free-form objects to `unknown`: what the services' read models give, as
 * their columns are text.
 */
export type Loose<T> = T extends string
  ? string
  : T extends ReadonlyArray<infer U>
    ? Loose<U>[]
    : T extends object
      ? string extends keyof T
        ? unknown
        : { [K in keyof T]: Loose<T[K]> }
      : T;

/**
 * A service's answer typed as the route's response schema. Every field is still checked by
 * the compiler (missing or mistyped ones fail), only word lists are taken as the schema says;
 * the serialiser then writes exactly the schema's fields.
 */
export function asWire<T extends TSchema>(_schema: T, value: Loose<Static<T>>): Static<T> {
  return value as Static<T>;
}

export type { TObject };
