// The lean path of tools/call to a Streamable HTTP server (UpstreamClient.callTool over
// LeanHttpCalls): the behaviour of the SDK client's path, against a real HTTP server written here
// without the SDK that answers each tool its own way (JSON, an event stream, 202 then the
// standalone stream, errors, redirects, a server request mid-call, a stream that closes after a
// priming event and is resumed). What the server received is kept and checked.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallCancel } from '../src/cancel.js';
import { UpstreamClient } from '../src/upstream.js';

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body?: Record<string, unknown>;
}

const SESSION = 'session-1';

/** A Streamable HTTP server by hand: each tool answers its own way. */
function fixtureServer() {
  const received: Received[] = [];
  let standalone: http.ServerResponse | undefined;
  const held: http.ServerResponse[] = [];
  const waitingSampling = new Map<string, (m: Record<string, unknown>) => void>();
  const resumable = new Map<string, Record<string, unknown>>();
  const sse = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (res: http.ServerResponse, m: unknown, id?: string) => res.write(`${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(m)}\n\n`);
  const json = (res: http.ServerResponse, m: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(m));
  };
  const result = (id: unknown, text: string) => ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : undefined;
      received.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      if (req.method === 'GET') {
        const last = req.headers['last-event-id'];
        if (typeof last === 'string' && resumable.has(last)) {
          sse(res);
          event(res, resumable.get(last));
          res.end();
          return;
        }
        sse(res);
        standalone = res;
        return;
      }
      if (req.method === 'DELETE') {
        res.writeHead(200).end();
        return;
      }
      if (!body) {
        res.writeHead(400).end();
        return;
      }
      if (body.method === 'initialize') {
        json(
          res,
          { jsonrpc: '2.0', id: body.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'by-hand', version: '1.0.0' } } },
          { 'mcp-session-id': SESSION },
        );
        return;
      }
      if (body.method === undefined) {
        // a response of the client (to a server request made mid-call)
        waitingSampling.get(String(body.id))?.(body);
        res.writeHead(202).end();
        return;
      }
      if (body.id === undefined) {
        res.writeHead(202).end(); // a notification
        return;
      }
      if (body.method === 'tools/list') {
        json(res, { jsonrpc: '2.0', id: body.id, result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } });
        return;
      }
      const params = body.params as { name: string; arguments?: { text?: string }; _meta?: { progressToken?: string } };
      const text = params.arguments?.text ?? '';
      switch (params.name) {
        case 'echo':
          json(res, result(body.id, text));
          return;
        case 'echo-batch':
          // a notification, then the response, in one JSON array
          json(res, [{ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'before' } }, result(body.id, text)]);
          return;
        case 'sse':
          sse(res);
          if (params._meta?.progressToken) event(res, { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: params._meta.progressToken, progress: 1, total: 2 } });
          event(res, result(body.id, `streamed ${text}`));
          res.end();
          return;
        case 'accepted':
          res.writeHead(202).end();
          setTimeout(() => standalone && event(standalone, result(body.id, `later ${text}`)), 20);
          return;
        case 'sampling': {
          sse(res);
          waitingSampling.set('s-1', (answer) => {
            const r = answer.result as { content?: { text?: string } };
            event(res, result(body.id, `the client said ${r.content?.text}`));
            res.end();
          });
          event(res, { jsonrpc: '2.0', id: 's-1', method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } });
          return;
        }
        case 'priming':
          // a priming event with an id, then the stream closes: the client resumes with GET
          resumable.set('evt-1', result(body.id, `resumed ${text}`));
          sse(res);
          res.write('id: evt-1\nretry: 10\ndata: \n\n');
          res.end();
          return;
        case 'hang':
          held.push(res);
          return;
        case 'fail':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broke');
          return;
        case 'html':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
          return;
        case 'not-json':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc": "2.0", ');
          return;
        case 'error':
          json(res, { jsonrpc: '2.0', id: body.id, error: { code: -32602, message: 'bad arguments', data: { field: 'text' } } });
          return;
        case 'redirect-307':
          if (req.url === '/mcp') res.writeHead(307, { location: '/moved' }).end();
          else json(res, result(body.id, `moved ${text}`));
          return;
        case 'redirect-origin':
          if (req.headers.host?.startsWith('127.0.0.1')) res.writeHead(308, { location: `http://localhost:${(server.address() as AddressInfo).port}/elsewhere` }).end();
          else json(res, result(body.id, `elsewhere ${text}`));
          return;
        case 'redirect-302':
          res.writeHead(302, { location: '/moved' }).end();
          return;
        default:
          json(res, { jsonrpc: '2.0', id: body.id, error: { code: -32601, message: 'no such tool' } });
      }
    });
  });
  return {
    received,
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    close: () =>
      new Promise<void>((resolve) => {
        standalone?.end();
        for (const r of held) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    calls: () => received.filter((r) => r.method === 'POST' && r.body?.method === 'tools/call'),
    posted: (method: string) => received.filter((r) => r.method === 'POST' && r.body?.method === method),
  };
}

describe('tools/call to a Streamable HTTP server on the lean path', () => {
  let server: ReturnType<typeof fixtureServer>;
  let client: UpstreamClient;
  let port: number;
  const logs: unknown[] = [];
  let dynamicCalls = 0;

  beforeEach(async () => {
    server = fixtureServer();
    port = await server.listen();
    logs.length = 0;
    dynamicCalls = 0;
    client = new UpstreamClient(
      'by-hand',
      {
        transport: 'http',
        url: new URL(`http://127.0.0.1:${port}/mcp`),
        headers: { Authorization: 'Bearer configured', 'X-Team': 'red' },
        allowPrivateAddress: true,
        dynamicHeaders: async () => ({ 'X-Per-Call': String(++dynamicCalls) }),
      },
      {
        clientInfo: { name: 'lean-http-test', version: '1.0.0' },
        timeoutMs: 5000,
        onLog: (p) => logs.push(p),
        onServerRequest: async (method, params) => ({ role: 'assistant', model: 'test', content: { type: 'text', text: `${method} ${(params.maxTokens as number) ?? ''}`.trim() } }),
      },
    );
    await client.connect();
  });

  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('answers JSON results with the headers the SDK sends, ids in one sequence with the SDK client requests', async () => {
    expect(client.leanCalls).toBe(true);
    await client.listTools();
    const results = await Promise.all([1, 2, 3].map((i) => client.callTool('echo', { text: `hello ${i}` })));
    expect(results).toEqual([1, 2, 3].map((i) => ({ content: [{ type: 'text', text: `hello ${i}` }] })));
    await client.listTools();
    const ids = received(server).map((r) => r.body!.id);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5]);
    for (const call of server.calls()) {
      expect(call.path).toBe('/mcp');
      expect(call.headers['mcp-session-id']).toBe(SESSION);
      expect(call.headers['mcp-protocol-version']).toBe('2025-11-25');
      expect(call.headers.authorization).toBe('Bearer configured');
      expect(call.headers['x-team']).toBe('red');
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.headers.accept).toBe('application/json, text/event-stream');
      expect(Number(call.headers['x-per-call'])).toBeGreaterThan(0);
    }
    expect(new Set(server.calls().map((c) => c.headers['x-per-call'])).size).toBe(3);
  });

  it('passes the other messages of a JSON array to the SDK client', async () => {
    expect(await client.callTool('echo-batch', { text: 'b' })).toEqual({ content: [{ type: 'text', text: 'b' }] });
    expect(logs).toEqual([{ level: 'info', data: 'before' }]);
  });

  it('reads an event-stream answer with its progress, and a response sent later on the standalone stream', async () => {
    const progress: unknown[] = [];
    expect(await client.callTool('sse', { text: 'x' }, { onprogress: (p) => progress.push(p) })).toEqual({ content: [{ type: 'text', text: 'streamed x' }] });
    expect(progress).toEqual([{ progress: 1, total: 2 }]);
    expect(await client.callTool('accepted', { text: 'y' })).toEqual({ content: [{ type: 'text', text: 'later y' }] });
  });

  it('routes a server request made mid-call to the client that caused it, and resumes a stream closed after a priming event', async () => {
    expect(await client.callTool('sampling', {})).toEqual({ content: [{ type: 'text', text: 'the client said sampling/createMessage 5' }] });
    expect(await client.callTool('priming', { text: 'z' })).toEqual({ content: [{ type: 'text', text: 'resumed z' }] });
    expect(server.received.some((r) => r.method === 'GET' && r.headers['last-event-id'] === 'evt-1')).toBe(true);
  });

  it('fails as the SDK client fails: error responses, HTTP errors, bad content, bad JSON', async () => {
    const err = await client.callTool('error', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect(err).toMatchObject({ code: -32602, data: { field: 'text' } });
    const http500 = await client.callTool('fail', {}).catch((e: unknown) => e);
    expect(http500).toBeInstanceOf(StreamableHTTPError);
    expect(http500).toMatchObject({ code: 500 });
    expect(String((http500 as Error).message)).toContain('Error POSTing to endpoint: upstream broke');
    const html = await client.callTool('html', {}).catch((e: unknown) => e);
    expect(html).toBeInstanceOf(StreamableHTTPError);
    expect(String((html as Error).message)).toContain('Unexpected content type: text/html');
    await expect(client.callTool('not-json', {})).rejects.toThrow(SyntaxError);
    // the connection still works
    expect(await client.callTool('echo', { text: 'after' })).toEqual({ content: [{ type: 'text', text: 'after' }] });
  });

  it('times out and is cancelled like the SDK client: McpError, and notifications/cancelled to the server', async () => {
    const timedOut = await client.callTool('hang', {}, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(McpError);
    expect((timedOut as McpError).code).toBe(ErrorCode.RequestTimeout);
    const cancel = new CallCancel();
    const call = client.callTool('hang', {}, { cancel });
    setTimeout(() => cancel.abort('the client went away'), 50);
    await expect(call).rejects.toThrow(/the client went away/);
    const controller = new AbortController();
    const viaSignal = client.callTool('hang', {}, { signal: controller.signal });
    setTimeout(() => controller.abort('stop'), 50);
    await expect(viaSignal).rejects.toThrow(/stop/);
    await until(() => server.posted('notifications/cancelled').length === 3);
    const hung = server.calls().filter((c) => (c.body!.params as { name: string }).name === 'hang').map((c) => c.body!.id);
    expect(server.posted('notifications/cancelled').map((c) => (c.body!.params as { requestId: unknown }).requestId)).toEqual(hung);
    expect(await client.callTool('echo', { text: 'still here' })).toEqual({ content: [{ type: 'text', text: 'still here' }] });
  });

  it('follows 307/308 redirects (credentials not carried to another origin) and refuses one that would make a GET', async () => {
    expect(await client.callTool('redirect-307', { text: 'a' })).toEqual({ content: [{ type: 'text', text: 'moved a' }] });
    expect(await client.callTool('redirect-origin', { text: 'b' })).toEqual({ content: [{ type: 'text', text: 'elsewhere b' }] });
    const hops = server.calls().filter((c) => (c.body!.params as { name: string }).name === 'redirect-origin');
    expect(hops.map((h) => h.path)).toEqual(['/mcp', '/elsewhere']);
    expect(hops[0]!.headers.authorization).toBe('Bearer configured');
    expect(hops[1]!.headers.authorization).toBeUndefined();
    expect(hops[1]!.headers['x-team']).toBe('red');
    const made = await client.callTool('redirect-302', {}).catch((e: unknown) => e);
    expect(made).toBeInstanceOf(StreamableHTTPError);
    expect(String((made as Error).message)).toContain('would turn it into a GET');
  });

  it('fails the calls in flight when the connection closes', async () => {
    const call = client.callTool('hang', {}).catch((e: unknown) => e);
    await until(() => server.calls().length === 1);
    await client.close();
    const err = await call;
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.ConnectionClosed);
  });
});

describe('the lean HTTP path and configured headers', () => {
  it('keeps the SDK path for an upstream configured with a header the HTTP layer owns (Host, Connection, ...)', async () => {
    const server = fixtureServer();
    const port = await server.listen();
    const client = new UpstreamClient(
      'own-host',
      { transport: 'http', url: new URL(`http://127.0.0.1:${port}/mcp`), headers: { Host: `127.0.0.1:${port}`, 'X-Team': 'red' }, allowPrivateAddress: true },
      { clientInfo: { name: 'lean-http-test', version: '1.0.0' }, timeoutMs: 5000 },
    );
    try {
      await client.connect();
      expect(client.leanCalls).toBe(false);
      expect(await client.callTool('echo', { text: 'via the SDK' })).toEqual({ content: [{ type: 'text', text: 'via the SDK' }] });
      expect(server.calls()[0]!.headers['x-team']).toBe('red');
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('the lean HTTP path and the SSRF guard', () => {
  it('checks the address before every call: a name that now resolves to a private address is refused', async () => {
    const server = fixtureServer();
    const port = await server.listen();
    let answer = ['127.0.0.1'];
    const client = new UpstreamClient(
      'rebinding',
      {
        transport: 'http',
        url: new URL(`http://upstream.example:${port}/mcp`),
        headers: {},
        allowPrivateAddress: false,
        resolver: async () => answer,
        // 127.0.0.1 stands for a public address here; 10.0.0.0/8 is what the guard refuses
        addressPolicy: (ip) => (ip.startsWith('10.') ? 'a private address' : undefined),
      },
      { clientInfo: { name: 'lean-http-test', version: '1.0.0' }, timeoutMs: 5000 },
    );
    try {
      await client.connect();
      expect(client.leanCalls).toBe(true);
      expect(await client.callTool('echo', { text: 'ok' })).toEqual({ content: [{ type: 'text', text: 'ok' }] });
      answer = ['10.0.0.7'];
      await expect(client.callTool('echo', { text: 'no' })).rejects.toThrow(/10\.0\.0\.7, a private address/);
      expect(server.calls().length).toBe(1);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

function received(server: ReturnType<typeof fixtureServer>) {
  return server.received.filter((r) => r.method === 'POST' && r.body?.id !== undefined && r.body.method !== undefined);
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
