// The typed door to the backend, against a stand-in fetch: CSRF on state changes only, one
// shared refresh on an expired session, errors as the server's sentence or a readable one.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, errorMessage, get, onSessionExpired, post, query } from './client';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

let calls: Call[];
let answer: (c: Call) => Response | Promise<Response>;

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

beforeEach(() => {
  calls = [];
  document.cookie = 'palisade_csrf=csrf-token-1';
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const c: Call = { method: init.method ?? 'GET', url, headers: init.headers as Record<string, string>, body: init.body as string | undefined };
    calls.push(c);
    return answer(c);
  });
});
afterEach(() => vi.unstubAllGlobals());

describe('api()', () => {
  it('sends the CSRF cookie back as X-CSRF-Token on state changes, never on reads', async () => {
    answer = () => json(200, { ok: true });
    await get('/servers');
    await post('/alerts/a1/resolve', { note: 'fixed' });
    expect(calls[0]!.headers['X-CSRF-Token']).toBeUndefined();
    expect(calls[1]!.headers['X-CSRF-Token']).toBe('csrf-token-1');
    expect(calls[1]!.body).toBe('{"note":"fixed"}');
    expect(calls[0]!.url).toBe('/api/v1/servers');
  });

  it('refreshes an expired session once for several queries, then retries each', async () => {
    let refreshed = false;
    answer = (c) => {
      if (c.url.endsWith('/auth/refresh')) {
        refreshed = true;
        return json(200, {});
      }
      return refreshed ? json(200, { url: c.url }) : json(401, { error: { code: 'unauthorized', message: 'Sign in.' } });
    };
    const results = await Promise.all([get<{ url: string }>('/servers'), get<{ url: string }>('/hosts'), get<{ url: string }>('/alerts')]);
    expect(results.map((r) => r.url)).toEqual(['/api/v1/servers', '/api/v1/hosts', '/api/v1/alerts']);
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(1);
  });

  it('tells the app the session is gone when the refresh fails, and does not refresh a failed sign-in', async () => {
    answer = () => json(401, { error: { code: 'unauthorized', message: 'Your session has ended.' } });
    const expired = vi.fn();
    const off = onSessionExpired(expired);
    await expect(get('/servers')).rejects.toMatchObject({ status: 401 });
    expect(expired).toHaveBeenCalledTimes(1);
    calls = [];
    await expect(post('/auth/login', { email: 'a@b.c', password: 'x' })).rejects.toMatchObject({ status: 401, message: 'Your session has ended.' });
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/login']);
    off();
  });

  it("shows the server's own sentence, or a readable one when the answer is not JSON", async () => {
    answer = () => json(409, { error: { code: 'alert_state', message: 'This alert is already resolved.' } });
    await expect(post('/alerts/a1/resolve')).rejects.toEqual(new ApiError('This alert is already resolved.', 409, 'alert_state'));
    const plain: Array<[number, RegExp]> = [
      [403, /role does not allow/],
      [404, /not found/],
      [429, /Too many requests/],
      [502, /server had a problem/],
      [418, /HTTP 418/],
    ];
    for (const [status, text] of plain) {
      answer = () => new Response('<html>proxy error</html>', { status });
      const err = await get('/x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(errorMessage(err)).toMatch(text);
    }
  });

  it('says the server cannot be reached when fetch itself fails', async () => {
    answer = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(api('GET', '/servers')).rejects.toMatchObject({ code: 'network', message: expect.stringMatching(/Cannot reach the Palisade server/) });
  });

  it('answers undefined for 204', async () => {
    answer = () => new Response(null, { status: 204 });
    await expect(api('DELETE', '/agent-keys/k1')).resolves.toBeUndefined();
  });
});

describe('query()', () => {
  it('keeps only the values that are set, encoded', () => {
    expect(query({ q: 'a b&c', level: 'critical', host: undefined, limit: 0, client: '', x: null })).toBe('?q=a+b%26c&level=critical&limit=0');
    expect(query({})).toBe('');
  });
});
