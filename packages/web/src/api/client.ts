// The one door to the backend: same-origin fetch with cookies, the CSRF header on every
// state-changing call, one quiet refresh on an expired session, errors as readable sentences.
// Calls are typed by route from the generated contract (schema.gen.ts): `GET('/api/v1/servers/{id}',
// { path: { id } })` fills and encodes the template, takes the query and body the route declares
// and answers what the route's success schema says, so a page cannot pick its own answer type.

import type { paths } from './schema.gen';

const BASE = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The CSRF token is the readable `palisade_csrf` cookie (double submit). */
export function readCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

type ExpiredListener = () => void;
const expiredListeners = new Set<ExpiredListener>();
/** Called when the session is gone for good (refresh failed): the app shows sign-in. */
export function onSessionExpired(listener: ExpiredListener): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

function send(method: string, url: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method)) {
    const csrf = readCookie('palisade_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  return fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// Several queries can hit a 401 at once; they share one refresh.
let refreshing: Promise<boolean> | null = null;
function refreshSession(): Promise<boolean> {
  refreshing ??= send('POST', BASE + '/auth/refresh')
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function toError(res: Response): Promise<ApiError> {
  let code = 'http_' + res.status;
  let message = '';
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON (a proxy's error page, say): fall through to a generic sentence
  }
  if (!message) {
    if (res.status === 401) message = 'Your session has ended. Please sign in again.';
    else if (res.status === 403) message = 'Your role does not allow this. Ask an admin of your organisation.';
    else if (res.status === 404) message = 'This was not found. It may have been removed.';
    else if (res.status === 429) message = 'Too many requests. Wait a minute and try again.';
    else if (res.status >= 500) message = 'The Palisade server had a problem. Try again, and check its log if it persists.';
    else message = `The request failed (HTTP ${res.status}).`;
  }
  return new ApiError(message, res.status, code);
}

// ---- The typed calls: path, parameters, query, body and answer all come from the route ----

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The API's routes (the dashboard never calls /healthz or /metrics). */
type ApiPath = Extract<keyof paths, `/api/v1/${string}`>;
/** The routes that answer `M`. */
export type PathsFor<M extends Method> = { [P in ApiPath]: [NonNullable<paths[P][M]>] extends [never] ? never : P }[ApiPath];
type Op<P extends ApiPath, M extends Method> = NonNullable<paths[P][M]>;

type PathParamsOf<O> = O extends { parameters: { path: infer X } } ? X : never;
type QueryParamsOf<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type BodyOf<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
type SuccessStatus = 200 | 201 | 202 | 204;
/** The answer of a call that worked: the JSON of each 2xx the route declares; undefined for 204. */
export type AnswerOf<O> = O extends { responses: infer R }
  ? { [S in keyof R & SuccessStatus]: R[S] extends { content: { 'application/json': infer B } } ? B : undefined }[keyof R & SuccessStatus]
  : never;

/** What a call takes besides its path: `path` (the template's parameters), `query`, `body`. */
export type CallOptions<O> = ([PathParamsOf<O>] extends [never] ? { path?: never } : { path: PathParamsOf<O> }) &
  ([QueryParamsOf<O>] extends [never] ? { query?: never } : object extends QueryParamsOf<O> ? { query?: QueryParamsOf<O> } : { query: QueryParamsOf<O> }) &
  ([BodyOf<O>] extends [never] ? { body?: never } : { body: BodyOf<O> });
type Args<O> = object extends CallOptions<O> ? [options?: CallOptions<O>] : [options: CallOptions<O>];

interface Options {
  path?: Record<string, string | number>;
  query?: Record<string, QueryValue>;
  body?: unknown;
}
type QueryValue = string | number | boolean | undefined | null;

// these routes authenticate by their body, so a 401 there is a real answer, not an expired session
const NO_REFRESH: ReadonlySet<ApiPath> = new Set<PathsFor<'post'>>([
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
  '/api/v1/auth/logout',
  '/api/v1/setup',
  '/api/v1/auth/signup',
  '/api/v1/invitations/accept',
]);

/**
 * `/api/v1/servers/{id}` with `{ id: 'a/b' }` -> `/api/v1/servers/a%2Fb`. Every parameter is
 * encoded; one that is empty, `.` or `..` is refused (the URL parser would drop or climb that
 * segment, sending the call to another route).
 */
export function fillPath(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const raw = params[name];
    const value = raw === undefined ? '' : String(raw);
    if (value === '' || value === '.' || value === '..') {
      throw new ApiError(`This address is not valid: its ${name} is ${value ? `"${value}"` : 'missing'}.`, 400, 'invalid_path_parameter');
    }
    return encodeURIComponent(value);
  });
}

/** Builds `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? '?' + s : '';
}

async function call(method: Uppercase<Method>, template: ApiPath, options: Options = {}): Promise<unknown> {
  const url = fillPath(template, options.path) + query(options.query ?? {});
  // a state change without a body still sends `{}` (the server reads JSON); DELETE sends nothing
  const body = method === 'GET' || method === 'DELETE' ? undefined : options.body === undefined ? {} : options.body;
  let res: Response;
  try {
    res = await send(method, url, body);
    if (res.status === 401 && !NO_REFRESH.has(template)) {
      if (await refreshSession()) res = await send(method, url, body);
      if (res.status === 401) {
        for (const l of expiredListeners) l();
      }
    }
  } catch {
    throw new ApiError('Cannot reach the Palisade server. Check that it is running and your network is up.', 0, 'network');
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined;
  return res.json();
}

// The answer is the route's declared success schema, which the server's serialiser enforces:
// the one place the JSON is given its type, and no caller can choose another.
export const GET = <P extends PathsFor<'get'>>(path: P, ...[options]: Args<Op<P, 'get'>>) =>
  call('GET', path, options as Options) as Promise<AnswerOf<Op<P, 'get'>>>;
export const POST = <P extends PathsFor<'post'>>(path: P, ...[options]: Args<Op<P, 'post'>>) =>
  call('POST', path, options as Options) as Promise<AnswerOf<Op<P, 'post'>>>;
export const PUT = <P extends PathsFor<'put'>>(path: P, ...[options]: Args<Op<P, 'put'>>) =>
  call('PUT', path, options as Options) as Promise<AnswerOf<Op<P, 'put'>>>;
export const PATCH = <P extends PathsFor<'patch'>>(path: P, ...[options]: Args<Op<P, 'patch'>>) =>
  call('PATCH', path, options as Options) as Promise<AnswerOf<Op<P, 'patch'>>>;
export const DELETE = <P extends PathsFor<'delete'>>(path: P, ...[options]: Args<Op<P, 'delete'>>) =>
  call('DELETE', path, options as Options) as Promise<AnswerOf<Op<P, 'delete'>>>;

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
