#!/usr/bin/env node
// TEST FIXTURE: a stdio MCP server (the SDK's low-level Server, to control paging) that lists
// PALISADE_TEST_TOOL_COUNT tools (default 1500) in pages of 100. With
// PALISADE_TEST_STUCK_CURSOR=1 it hands back the same cursor forever, as a broken or hostile
// server might. Its first tool has an output schema that a JSON Schema compiler rejects.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const count = Number(process.env.PALISADE_TEST_TOOL_COUNT) || 1500;
const stuck = process.env.PALISADE_TEST_STUCK_CURSOR === '1';
const PAGE = 100;

const server = new Server({ name: 'palisade-test-paged', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, (request) => {
  const start = stuck ? 0 : Number(request.params?.cursor ?? 0);
  const tools = [];
  for (let i = start; i < Math.min(start + PAGE, count); i++) {
    const tool = { name: `tool_${String(i).padStart(4, '0')}`, description: `Tool number ${i}.`, inputSchema: { type: 'object', properties: {} } };
    if (i === 0) tool.outputSchema = { type: 'object', properties: { x: { type: 'not-a-json-schema-type' } } };
    tools.push(tool);
  }
  const next = start + PAGE < count ? String(start + PAGE) : undefined;
  return { tools, nextCursor: stuck ? 'same' : next };
});
await server.connect(new StdioServerTransport());
