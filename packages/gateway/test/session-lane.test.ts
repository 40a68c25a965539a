// The short way through a 2025-11-25 session (src/session-lane.ts): the common POST is served
// without the SDK's transport, with the same frames and headers; everything else still gets
// the SDK transport's own answers. Raw HTTP, so what is on the wire is what is checked.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SessionLane } from '../src/session-lane.js';
import { fixtureUpstream, jsonRpcPost, startFromYaml } from './helpers.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** the JSON-RPC messages of an event stream (or the JSON body) */
  messages: Record<string, unknown>[];
}

function post(url: string, body: unknown, headers: Record<string, string> = {}, onFirstFrame?: (req: http.ClientRequest) => void): Promise<Answer> {
  const u = new URL(url);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(jsonRpcPost(u, text, headers), (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        data += c;
        if (onFirstFrame && data.includes('\n\n')) {
          onFirstFrame(req);
          onFirstFrame = undefined;
        }
      });
      const done = () => {
        const type = String(res.headers['content-type'] ?? '');
        const messages = type.includes('text/event-stream')
          ? data
              .split('\n\n')
              .map((e) =>
                e
                  .split('\n')
                  .filter((l) => l.startsWith('data: '))
                  .map((l) => l.slice(6))
                  .join(''),
              )
              .filter(Boolean)
              .map((d) => JSON.parse(d) as Record<string, unknown>)
          : data
            ? [JSON.parse(data)].flat()
            : [];
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, messages });
      };
      res.on('end', done);
      res.on('close', done);
    });
    req.on('error', (err) => (onFirstFrame === undefined ? resolve({ status: 0, headers: {}, body: '', messages: [] }) : reject(err)));
    req.end(text);
  });
}

describe('the short way through a session', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;
  let url: string;
  let nextId = 100;

  async function openSession(): Promise<Record<string, string>> {
    const init = await post(url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'lane-test', version: '1' } },
    });
    expect(init.status).toBe(200);
    const session = String(init.headers['mcp-session-id']);
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    expect((await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status).toBe(202);
    return headers;
  }

  beforeAll(async () => {
    gw = await startFromYaml(`
upstreams:
${fixtureUpstream('fx', 'basic')}
policy: { blockLevel: critical }
`);
    url = gw.url!;
  });
  afterAll(async () => {
    await gw?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('serves a call as one event stream with the session header, progress first, then the answer, and ends it', async () => {
    const headers = await openSession();
    const serve = vi.spyOn(SessionLane.prototype, 'serve');
    const id = nextId++;
    const r = await post(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'fx__echo', arguments: { text: 'lane' } } }, headers);
    expect(serve).toHaveLastReturnedWith(true);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream');
    expect(r.headers['mcp-session-id']).toBe(headers['mcp-session-id']);
    expect(r.headers['cache-control']).toBe('no-cache, no-transform');
    expect(r.body.startsWith('event: message\ndata: ')).toBe(true);
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]).toMatchObject({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'lane' }] } });

    // progress of the call travels on the call's own stream, before its answer
    const slowId = nextId++;
    const slow = await post(
      url,
      { jsonrpc: '2.0', id: slowId, method: 'tools/call', params: { name: 'fx__slow', arguments: { ms: 80 }, _meta: { progressToken: 'p1' } } },
      headers,
    );
    expect(serve).toHaveLastReturnedWith(true);
    const methods = slow.messages.map((m) => (m.method as string | undefined) ?? `answer ${String(m.id)}`);
    expect(methods.filter((m) => m === 'notifications/progress').length).toBeGreaterThanOrEqual(1);
    expect(methods.at(-1)).toBe(`answer ${slowId}`);
    expect(slow.messages.at(-1)).toMatchObject({ result: { content: [{ text: 'slept 80' }] } });

    // a policy refusal is an answer like any other: the gateway's checks run on this path too
    const badId = nextId++;
    const bad = await post(url, { jsonrpc: '2.0', id: badId, method: 'tools/call', params: { name: 'fx__nope', arguments: {} } }, headers);
    expect(serve).toHaveLastReturnedWith(true);
    expect(bad.messages.at(-1)).toMatchObject({ id: badId });
    expect(JSON.stringify(bad.messages.at(-1))).toMatch(/error|isError/);
  });

  it('leaves every unusual POST to the SDK transport, which answers as it always did', async () => {
    const headers = await openSession();
    const serve = vi.spyOn(SessionLane.prototype, 'serve');
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'fx__echo', arguments: { text: 'x' } } });

    const version = await post(url, call(nextId++), { ...headers, 'mcp-protocol-version': '1999-01-01' });
    expect(serve).toHaveLastReturnedWith(false);
    expect(version.status).toBe(400);
    expect(version.body).toContain('Unsupported protocol version');

    const accept = await post(url, call(nextId++), { ...headers, accept: 'application/json' });
    expect(serve).toHaveLastReturnedWith(false);
    expect(accept.status).toBe(406);

    const type = await post(url, JSON.stringify(call(nextId++)), { ...headers, 'content-type': 'text/plain' });
    expect(serve).toHaveLastReturnedWith(false);
    expect(type.status).toBe(415);

    const notRpc = await post(url, { jsonrpc: '1.0', id: nextId++, method: 'tools/call', params: {} }, headers);
    expect(serve).toHaveLastReturnedWith(false);
    expect(notRpc.status).toBe(400);

    const a = nextId++;
    const b = nextId++;
    const batch = await post(url, [call(a), call(b)], headers);
    expect(serve).toHaveLastReturnedWith(false);
    expect(batch.status).toBe(200);
    expect(batch.messages.map((m) => m.id).sort()).toEqual([a, b].sort());

    // a second initialize on a live session is the SDK's refusal, not a new session
    const again = await post(
      url,
      {
        jsonrpc: '2.0',
        id: nextId++,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      },
      headers,
    );
    expect(again.status).toBe(400);
    expect(again.body).toContain('already initialized');

    // and the session still takes the short way afterwards
    const after = await post(url, call(nextId++), headers);
    expect(serve).toHaveLastReturnedWith(true);
    expect(after.messages.at(-1)).toMatchObject({ result: { content: [{ text: 'x' }] } });
  });

  it('a client gone mid-call, or a session ended mid-call, leaves no stream open', async () => {
    const headers = await openSession();
    const serve = vi.spyOn(SessionLane.prototype, 'serve');
    const gone = nextId++;
    // the client drops the connection at the first progress frame
    await post(
      url,
      { jsonrpc: '2.0', id: gone, method: 'tools/call', params: { name: 'fx__slow', arguments: { ms: 200 }, _meta: { progressToken: 'g' } } },
      headers,
      (req) => req.destroy(),
    );
    const lane = serve.mock.contexts.at(-1) as SessionLane;
    expect(serve).toHaveLastReturnedWith(true);
    await vi.waitFor(() => expect(lane.inFlight).toBe(0));
    // the same id is free again once its call is over, and is served the short way
    await new Promise((r) => setTimeout(r, 250));
    const reuse = await post(url, { jsonrpc: '2.0', id: gone, method: 'tools/call', params: { name: 'fx__echo', arguments: { text: 'again' } } }, headers);
    expect(serve).toHaveLastReturnedWith(true);
    expect(reuse.messages.at(-1)).toMatchObject({ id: gone, result: { content: [{ text: 'again' }] } });

    // DELETE ends the session: a call still running on it has its stream ended without an answer
    const pending = post(url, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'fx__slow', arguments: { ms: 400 } } }, headers);
    await vi.waitFor(() => expect(lane.inFlight).toBe(1));
    const del = await new Promise<number>((resolve, reject) => {
      const u = new URL(url);
      http
        .request({ host: u.hostname, port: u.port, path: u.pathname, method: 'DELETE', headers }, (res) => (res.resume(), resolve(res.statusCode ?? 0)))
        .on('error', reject)
        .end();
    });
    expect(del).toBe(200);
    const cut = await pending;
    expect(cut.messages.filter((m) => 'result' in m || 'error' in m)).toEqual([]);
    expect(lane.inFlight).toBe(0);
  });

  it('serves tools/call and tools/list of the usual shape by the lean path, with the answers the SDK gives', async () => {
    const headers = await openSession();
    // serveLean is private: spied on the prototype to see which requests took it
    const lean = vi.spyOn(SessionLane.prototype as unknown as { serveLean: (...a: unknown[]) => boolean }, 'serveLean');
    const listId = nextId++;
    const list = await post(url, { jsonrpc: '2.0', id: listId, method: 'tools/list' }, headers);
    expect(lean).toHaveLastReturnedWith(true);
    const tools = (list.messages.at(-1) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    expect(tools).toContain('fx__echo');
    // a bad cursor is the gateway's invalid-params error, as through the SDK
    const cursor = await post(url, { jsonrpc: '2.0', id: nextId++, method: 'tools/list', params: { cursor: 'bm90LWEtY3Vyc29y' } }, headers);
    expect(lean).toHaveLastReturnedWith(true);
    expect(cursor.messages.at(-1)).toMatchObject({ error: { code: -32602 } });

    // the policy still applies: a result's hidden text is stripped, the call is audited
    const hiddenId = nextId++;
    const hidden = await post(url, { jsonrpc: '2.0', id: hiddenId, method: 'tools/call', params: { name: 'fx__hidden_result', arguments: {} } }, headers);
    expect(lean).toHaveLastReturnedWith(true);
    const text = (hidden.messages.at(-1) as { result: { content: { text: string }[] } }).result.content[0]!.text;
    expect(text).toContain('visible');
    expect(text).not.toContain('\u200b');
    expect(text).not.toContain('\u001b');
    gw.gateway.store.recentAudit(1); // flushes the pending batch
    expect(gw.gateway.store.recentAudit(20).some((r) => r.kind === 'call' && r.tool === 'fx__hidden_result' && r.decision === 'allowed')).toBe(true);

    // shapes the lean path does not know go to the SDK, which answers with its own errors
    const badName = await post(url, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 5, arguments: {} } }, headers);
    expect(lean).toHaveLastReturnedWith(false);
    expect(badName.messages.at(-1)).toMatchObject({ error: { code: -32602 } });
    expect(JSON.stringify(badName.messages.at(-1))).toContain('Invalid tools/call request');
    const taskId = nextId++;
    const task = await post(
      url,
      { jsonrpc: '2.0', id: taskId, method: 'tools/call', params: { name: 'fx__echo', arguments: { text: 't' }, task: { ttl: 1000 } } },
      headers,
    );
    expect(lean).toHaveLastReturnedWith(false);
    expect(task.messages.at(-1)).toMatchObject({ id: taskId });
    const fractional = await post(
      url,
      { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'fx__echo', arguments: { text: 'x' }, _meta: { progressToken: 1.5 } } },
      headers,
    );
    expect(lean).toHaveLastReturnedWith(false);
    // (the SDK refuses the message itself: a parse error)
    expect(fractional.messages.at(-1)).toHaveProperty('error');
  });

  it('a lean call is cancelled by notifications/cancelled: the upstream call is aborted and no answer is sent', async () => {
    const headers = await openSession();
    const lean = vi.spyOn(SessionLane.prototype as unknown as { serveLean: (...a: unknown[]) => boolean }, 'serveLean');
    const serve = vi.spyOn(SessionLane.prototype, 'serve');
    const id = nextId++;
    const frames: string[] = [];
    const pending = post(
      url,
      { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'fx__slow', arguments: { ms: 4000 }, _meta: { progressToken: 'c' } } },
      headers,
      () => frames.push('progress'),
    );
    const lane = serve.mock.contexts.at(-1) as SessionLane | undefined;
    await vi.waitFor(() => expect(lean).toHaveLastReturnedWith(true));
    const cancel = await post(url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } }, headers);
    expect(cancel.status).toBe(202);
    // the gateway's upstream call ends (aborted) and is audited, long before the tool's 4 s
    await vi.waitFor(
      () => {
        gw.gateway.store.recentAudit(1);
        expect(gw.gateway.store.recentAudit(20).some((r) => r.kind === 'call' && r.tool === 'fx__slow' && r.decision === 'upstream-error')).toBe(true);
      },
      { timeout: 3000 },
    );
    // nothing answers the cancelled request (as the SDK's dispatch does): the client ends the wait
    expect((lane ?? (serve.mock.contexts.at(-1) as SessionLane)).inFlight).toBe(1);
    const u = new URL(url);
    await new Promise<void>((resolve) =>
      http
        .request({ host: u.hostname, port: u.port, path: u.pathname, method: 'DELETE', headers }, (res) => (res.resume(), res.on('end', () => resolve())))
        .on('error', () => resolve())
        .end(),
    );
    const r = await pending;
    expect(r.messages.filter((m) => 'result' in m || 'error' in m)).toEqual([]);
  });
});
