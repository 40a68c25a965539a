// The typed door to the backend, against a stand-in fetch: the route's template filled and
// encoded, the query built from what is set, CSRF on state changes only, one shared refresh on
// an expired session, errors as the server's sentence or a readable one.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, DELETE, GET, PATCH, POST, PUT, errorMessage, fillPath, onSessionExpired, query } from './client';

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

describe('the path', () => {
  it('fills each parameter of the template, encoded', async () => {
    answer = () => json(200, {});
    await GET('/api/v1/servers/{id}', { path: { id: 'a/b c?d#e' } });
    await POST('/api/v1/overrides/{id}/approve', { path: { id: 'o%1' } });
    await GET('/api/v1/signup/{org}', { path: { org: 'ünï' } });
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/servers/a%2Fb%20c%3Fd%23e', '/api/v1/overrides/o%251/approve', '/api/v1/signup/%C3%BCn%C3%AF']);
  });

  it('refuses an empty, "." or ".." parameter without sending anything (the URL would climb to another route)', async () => {
    answer = () => json(200, {});
    for (const id of ['', '.', '..']) {
      const err = await DELETE('/api/v1/users/{id}', { path: { id } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 400, code: 'invalid_path_parameter' });
      expect(errorMessage(err)).toMatch(/This address is not valid: its id is/);
    }
    expect(calls).toEqual([]);
    // a dot inside a value is just a character
    expect(fillPath('/api/v1/hosts/{id}', { id: '..x' })).toBe('/api/v1/hosts/..x');
    expect(() => fillPath('/api/v1/hosts/{id}', {})).toThrow(/its id is missing/);
  });
});

describe('the query', () => {
  it("sends the operation's query, leaving out what is not set", async () => {
    answer = () => json(200, { items: [], total: 0 });
    await GET('/api/v1/servers', { query: { q: 'a b&c', level: 'critical,high', host: undefined, client: '', limit: 50, offset: 0, sort: 'name' } });
    await GET('/api/v1/advisories', { query: { affected: false, limit: 50 } });
    await GET('/api/v1/hosts');
    expect(calls.map((c) => c.url)).toEqual([
      '/api/v1/servers?q=a+b%26c&level=critical%2Chigh&limit=50&offset=0&sort=name',
      '/api/v1/advisories?affected=false&limit=50',
      '/api/v1/hosts',
    ]);
  });

  it('query() keeps only the values that are set, encoded', () => {
    expect(query({ q: 'a b&c', level: 'critical', host: undefined, limit: 0, client: '', x: null, all: true })).toBe(
      '?q=a+b%26c&level=critical&limit=0&all=true',
    );
    expect(query({})).toBe('');
  });
});

describe('headers and bodies', () => {
  it('sends the CSRF cookie back as X-CSRF-Token on state changes, never on reads', async () => {
    answer = (c) => (c.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { ok: true }));
    await GET('/api/v1/servers');
    await POST('/api/v1/alerts/{id}/resolve', { path: { id: 'a1' }, body: { note: 'fixed' } });
    await PATCH('/api/v1/settings', { body: { retentionDays: 30 } });
    await PUT('/api/v1/signup/settings', { body: { enabled: true } });
    await DELETE('/api/v1/webhooks/{id}', { path: { id: 'w1' } });
    expect(calls.map((c) => [c.method, c.headers['X-CSRF-Token']])).toEqual([
      ['GET', undefined],
      ['POST', 'csrf-token-1'],
      ['PATCH', 'csrf-token-1'],
      ['PUT', 'csrf-token-1'],
      ['DELETE', 'csrf-token-1'],
    ]);
    expect(calls.map((c) => c.body)).toEqual([undefined, '{"note":"fixed"}', '{"retentionDays":30}', '{"enabled":true}', undefined]);
    expect(calls[0]!.headers['Content-Type']).toBeUndefined();
    expect(calls[1]!.headers['Content-Type']).toBe('application/json');
  });

  it('sends {} for a POST whose route takes no body, and the body as given (null too) otherwise', async () => {
    answer = () => json(200, {});
    await POST('/api/v1/webhooks/{id}/test', { path: { id: 'w1' } });
    await POST('/api/v1/settings/second-approver-off/approve');
    await POST('/api/v1/alerts/{id}/acknowledge', { path: { id: 'a1' }, body: null });
    expect(calls.map((c) => c.body)).toEqual(['{}', '{}', 'null']);
  });
});

describe('answers and errors', () => {
  it("answers the route's JSON", async () => {
    answer = () => json(200, { user: { id: 'u1' }, org: { id: 'o1' } });
    await expect(GET('/api/v1/me')).resolves.toEqual({ user: { id: 'u1' }, org: { id: 'o1' } });
  });

  it('answers undefined for 204', async () => {
    answer = () => new Response(null, { status: 204 });
    await expect(DELETE('/api/v1/agent-keys/{id}', { path: { id: 'k1' } })).resolves.toBeUndefined();
    await expect(POST('/api/v1/auth/logout')).resolves.toBeUndefined();
  });

  it('refreshes an expired session once for several queries, then retries each', async () => {
    let refreshed = false;
    answer = (c) => {
      if (c.url.endsWith('/auth/refresh')) {
        refreshed = true;
        return json(200, {});
      }
      return refreshed ? json(200, { items: [{ url: c.url }], total: 1 }) : json(401, { error: { code: 'unauthorized', message: 'Sign in.' } });
    };
    const results = await Promise.all([GET('/api/v1/servers'), GET('/api/v1/hosts', { query: { limit: 5 } }), GET('/api/v1/alerts')]);
    expect(results.map((r) => r.total)).toEqual([1, 1, 1]);
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(1);
    // each call was sent twice (before and after the refresh), with its own query
    expect(calls.filter((c) => c.url === '/api/v1/hosts?limit=5')).toHaveLength(2);
    const refresh = calls.find((c) => c.url.endsWith('/auth/refresh'))!;
    expect(refresh.method).toBe('POST');
    expect(refresh.headers['X-CSRF-Token']).toBe('csrf-token-1');
  });

  it('tells the app the session is gone when the refresh fails, and does not refresh a failed sign-in', async () => {
    answer = () => json(401, { error: { code: 'unauthorized', message: 'Your session has ended.' } });
    const expired = vi.fn();
    const off = onSessionExpired(expired);
    await expect(GET('/api/v1/servers')).rejects.toMatchObject({ status: 401 });
    expect(expired).toHaveBeenCalledTimes(1);
    calls = [];
    await expect(POST('/api/v1/auth/login', { body: { email: 'a@b.c', password: 'x' } })).rejects.toMatchObject({
      status: 401,
      message: 'Your session has ended.',
    });
    await expect(POST('/api/v1/invitations/accept', { body: { token: 't', password: 'x' } })).rejects.toMatchObject({ status: 401 });
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/login', '/api/v1/invitations/accept']);
    expect(expired).toHaveBeenCalledTimes(1);
    off();
  });

  it("shows the server's own sentence, or a readable one when the answer is not JSON", async () => {
    answer = () => json(409, { error: { code: 'alert_state', message: 'This alert is already resolved.' } });
    await expect(POST('/api/v1/alerts/{id}/resolve', { path: { id: 'a1' }, body: {} })).rejects.toEqual(
      new ApiError('This alert is already resolved.', 409, 'alert_state'),
    );
    const plain: Array<[number, RegExp]> = [
      [403, /role does not allow/],
      [404, /not found/],
      [429, /Too many requests/],
      [502, /server had a problem/],
      [418, /HTTP 418/],
    ];
    for (const [status, text] of plain) {
      answer = () => new Response('<html>proxy error</html>', { status });
      const err = await GET('/api/v1/overview').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status, code: `http_${status}` });
      expect(errorMessage(err)).toMatch(text);
    }
  });

  it('says the server cannot be reached when fetch itself fails', async () => {
    answer = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(GET('/api/v1/servers')).rejects.toMatchObject({ code: 'network', message: expect.stringMatching(/Cannot reach the Palisade server/) });
  });
});
