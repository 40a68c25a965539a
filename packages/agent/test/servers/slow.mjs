#!/usr/bin/env node
// TEST FIXTURE: a stdio MCP server for Palisade's concurrency test. While alive it keeps a
// file "<pid>.live" in PALISADE_TEST_LIVE_DIR. Before answering it waits until
// PALISADE_TEST_WAIT_FOR servers are alive at once (or PALISADE_TEST_DELAY_MS passes), then
// appends how many it saw to counts.log: a probe that ran too many at once shows up there.
import { appendFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.PALISADE_TEST_LIVE_DIR;
const maxWait = Number(process.env.PALISADE_TEST_DELAY_MS) || 200;
const waitFor = Number(process.env.PALISADE_TEST_WAIT_FOR) || 1;
// written before the (slow) SDK import, so the file marks the process's whole life
const mine = dir ? path.join(dir, `${process.pid}.live`) : undefined;
if (mine) writeFileSync(mine, '');
process.on('exit', () => {
  if (mine) rmSync(mine, { force: true });
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));

const live = () => (dir ? readdirSync(dir).filter((f) => f.endsWith('.live')).length : 1);
const until = Date.now() + maxWait;
while (live() < waitFor && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
// a little longer, so a server started beyond the limit would be counted too
await new Promise((resolve) => setTimeout(resolve, 100));
if (dir) appendFileSync(path.join(dir, 'counts.log'), `${live()}\n`);

const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
const server = new McpServer({ name: 'palisade-test-slow', version: '1.0.0' });
server.registerTool('noop', { description: 'Does nothing.' }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
await server.connect(new StdioServerTransport());
