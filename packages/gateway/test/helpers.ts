import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGateway, type RunningGateway, type StartOptions } from '../src/index.js';

export const FIXTURE = fileURLToPath(new URL('./fixtures/fixture-server.mjs', import.meta.url));
export const EVERYTHING = fileURLToPath(new URL('../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
export const NODE = process.execPath;

export function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'palisade-gw-'));
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
