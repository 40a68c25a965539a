// TEST FIXTURES: remote MCP servers started in-process on 127.0.0.1 with a random port, for
// Palisade's Streamable HTTP and SSE probe tests. Each can demand a header (to check that the
// probe sends the config's headers) and counts the requests it gets.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface TestHttpServer {
  /** base URL, e.g. http://127.0.0.1:12345 */
  origin: string;
  requests: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

export interface TestHttpOptions {
  /** answer 401 unless this header has this value */
  requireHeader?: { name: string; value: string };
}

function buildMcpServer(name: string): McpServer {
  const server = new McpServer({ name, version: '2.0.0' });
  server.registerTool(
    'search_docs',
    { description: 'Searches the documentation.', inputSchema: { query: z.string().describe('what to look for') }, annotations: { readOnlyHint: true } },
    async ({ query }) => ({ content: [{ type: 'text', text: `no results for ${query}` }] }),
  );
  server.registerTool('send_email', { description: 'Sends an email.', inputSchema: { to: z.string(), body: z.string() } }, async () => ({ content: [{ type: 'text', text: 'not sent (test fixture)' }] }));
  return server;
}

function authorized(req: IncomingMessage, res: ServerResponse, opts: TestHttpOptions): boolean {
  const need = opts.requireHeader;
  if (!need || req.headers[need.name.toLowerCase()] === need.value) return true;
  res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
  return false;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, requests: TestHttpServer['requests']): Promise<TestHttpServer> {
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '' });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A stateless Streamable HTTP MCP server at /mcp. */
export function startStreamableHttpServer(opts: TestHttpOptions = {}): Promise<TestHttpServer> {
  const requests: TestHttpServer['requests'] = [];
  return listen((req, res) => {
    if (!authorized(req, res, opts)) return;
    if (req.url?.split('?')[0] !== '/mcp') return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    const mcp = buildMcpServer('palisade-test-streamable');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  }, requests);
}

/** An old-style SSE MCP server: GET /sse opens the stream, POST /messages carries requests. */
export function startSseServer(opts: TestHttpOptions = {}): Promise<TestHttpServer> {
  const requests: TestHttpServer['requests'] = [];
  const sessions = new Map<string, SSEServerTransport>();
  return listen((req, res) => {
    if (!authorized(req, res, opts)) return;
    const path = req.url?.split('?')[0];
    if (path === '/sse' && req.method === 'GET') {
      const transport = new SSEServerTransport('/messages', res);
      sessions.set(transport.sessionId, transport);
      res.on('close', () => sessions.delete(transport.sessionId));
      void buildMcpServer('palisade-test-sse').connect(transport);
      return;
    }
    if (path === '/messages' && req.method === 'POST') {
      const id = new URL(req.url ?? '', 'http://localhost').searchParams.get('sessionId') ?? '';
      const transport = sessions.get(id);
      if (!transport) return void res.writeHead(404).end();
      void transport.handlePostMessage(req, res);
      return;
    }
    // a POST to /sse (a Streamable HTTP attempt) gets 405, as old servers answer
    res.writeHead(path === '/sse' ? 405 : 404).end();
  }, requests);
}
