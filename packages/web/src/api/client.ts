// The one door to the backend: same-origin fetch with cookies, the CSRF header on every
// state-changing call, one quiet refresh on an expired session, errors as readable sentences.

const BASE = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// these routes authenticate by their body, so a 401 there is a real answer, not an expired session
const NO_REFRESH = ['/auth/login', '/auth/refresh', '/auth/logout', '/setup', '/auth/signup', '/invitations/accept'];

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

function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method)) {
    const csrf = readCookie('palisade_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  return fetch(BASE + path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// Several queries can hit a 401 at once; they share one refresh.
let refreshing: Promise<boolean> | null = null;
function refreshSession(): Promise<boolean> {
  refreshing ??= send('POST', '/auth/refresh')
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

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await send(method, path, body);
    if (res.status === 401 && !NO_REFRESH.some((p) => path.startsWith(p))) {
      if (await refreshSession()) res = await send(method, path, body);
      if (res.status === 401) {
        for (const l of expiredListeners) l();
      }
    }
  } catch {
    throw new ApiError('Cannot reach the Palisade server. Check that it is running and your network is up.', 0, 'network');
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = (path: string): Promise<unknown> => api<unknown>('DELETE', path);

/** Builds `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? '?' + s : '';
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
