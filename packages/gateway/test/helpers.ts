import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll } from 'vitest';
import { startGateway, type RunningGateway, type StartOptions } from '../src/index.js';
import type { AuditRecord } from '../src/store.js';

export const FIXTURE = fileURLToPath(new URL('./fixtures/fixture-server.mjs', import.meta.url));
export const EVERYTHING = fileURLToPath(new URL('../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
export const NODE = process.execPath;

// the folders made here (configs, gateway stores with their audit records) are removed once the
// test file that imported this module is done (its own afterAll hooks, which stop the gateways,
// run first), so test runs leave nothing behind in the system's temp folder
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
});

export function tmpDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'palisade-gw-'));
  made.push(dir);
  return dir;
}

export function writeConfig(dir: string, text: string, name = 'gateway.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

export async function startFromYaml(yaml: string, opts: StartOptions = {}): Promise<RunningGateway & { dir: string; file: string }> {
  const dir = tmpDir();
  const file = writeConfig(dir, yaml);
  const running = await startGateway(file, { port: 0, warn: () => undefined, ...opts });
  return Object.assign(running, { dir, file });
}

export async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

export function fixtureUpstream(name: string, mode = 'basic', extra = ''): string {
  return `  ${name}:\n    command: ${JSON.stringify(NODE)}\n    args: [${JSON.stringify(FIXTURE)}, --mode, ${mode}]\n${extra}`;
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';

/** A node script that prints "listening <port>" once it listens: the child and its port. */
export async function spawnListening(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(NODE, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /listening (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
  });
  return { child, port };
}

/** Start the fixture server over Streamable HTTP on a free loopback port. */
export async function startHttpFixture(mode = 'basic'): Promise<{ url: string; port: number; child: ChildProcess; stop: () => void }> {
  const { child, port } = await spawnListening([FIXTURE, '--http', '0', '--mode', mode]);
  return { url: `http://127.0.0.1:${port}/mcp`, port, child, stop: () => child.kill('SIGKILL') };
}

/** http.request options of a JSON-RPC POST of `text` to a gateway endpoint, as a client sends it (an agent keeps the connection). */
export function jsonRpcPost(url: URL, text: string, headers: Record<string, string> = {}, agent?: http.Agent): http.RequestOptions {
  return {
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    ...(agent ? { agent } : {}),
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    },
  };
}

/** A raw HTTP request (Host and Origin set freely, unlike fetch). */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        // SSE streams never end: enough to judge
        if (res.headers['content-type']?.startsWith('text/event-stream') && body.includes('\n\n')) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

export const INIT_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** An allowed call's audit record for `tool` (store tests). */
export function callRecord(tool: string, detail?: unknown): AuditRecord {
  return {
    at: new Date().toISOString(),
    kind: 'call',
    principal: 'p',
    virtualServer: null,
    upstream: 'fx',
    tool,
    argHash: null,
    decision: 'allowed',
    reason: null,
    latencyMs: 1,
    resultBytes: 2,
    detail,
  };
}
