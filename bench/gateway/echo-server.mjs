// The upstream every side of the gateway bench calls: one `echo` tool that answers at once, so
// what is measured is the path to it. `node echo-server.mjs` speaks stdio;
// `node echo-server.mjs --http PORT` serves Streamable HTTP (sessions) on 127.0.0.1:PORT/mcp.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

function newServer() {
  const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns the text it is given.', inputSchema: { text: z.string().max(1000) } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

const httpAt = process.argv.indexOf('--http');
if (httpAt < 0) {
  await newServer().connect(new StdioServerTransport());
} else {
  const port = Number(process.argv[httpAt + 1]);
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => sessions.set(sid, transport), enableJsonResponse: true });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  http.keepAliveTimeout = 60_000;
  http.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
}
