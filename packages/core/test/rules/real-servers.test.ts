// False-positive guard on real, widely used MCP servers from npm: their tool definitions,
// listed over stdio with the official SDK, must not trip the poisoning rules, while their
// genuinely powerful tools are reported as capabilities.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { caseServer, evaluate, type ServerConfig, type Tool } from '@palisade/core';

const require = createRequire(import.meta.url);
const binOf = (pkg: string) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist/index.js');

/** Property descriptions of an input schema, as the model reads them. */
function schemaDescriptions(schema: unknown, out: string[] = [], depth = 0): string[] {
  if (!schema || typeof schema !== 'object' || depth > 8) return out;
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === 'description' && typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') schemaDescriptions(v, out, depth + 1);
  }
  return out;
}

async function listTools(args: string[]): Promise<Tool[]> {
  const client = new Client({ name: 'palisade-core-test', version: '0.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    return tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      ...(t.annotations ? { annotations: Object.fromEntries(Object.entries(t.annotations).filter(([, v]) => ['string', 'boolean', 'number'].includes(typeof v))) as Tool['annotations'] } : {}),
      schemaText: schemaDescriptions(t.inputSchema).join('\n'),
    }));
  } finally {
    await client.close();
  }
}

let root = '';
let servers: ServerConfig[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'palisade-rules-fs-'));
  const [everything, filesystem] = await Promise.all([listTools([binOf('@modelcontextprotocol/server-everything'), 'stdio']), listTools([binOf('@modelcontextprotocol/server-filesystem'), root])]);
  servers = [
    caseServer({ id: 'everything', name: 'everything', command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything@2026.8.31'], tools: everything }, 1),
    caseServer({ id: 'filesystem', name: 'filesystem', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/home/alice/src'], tools: filesystem }, 2),
  ];
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('real servers from npm', () => {
  it('lists real tools', () => {
    expect(servers[0]!.tools!.length).toBeGreaterThan(3);
    expect(servers[1]!.tools!.map((t) => t.name)).toContain('write_file');
  });

  it('raises no poisoning finding on their descriptions', () => {
    const { servers: scored, findings } = evaluate(servers, { platform: 'linux', home: '/home/alice' });
    const poisoning = /^PAL-T00[1-5]$/;
    const bad = [...scored.flatMap((s) => s.findings), ...findings].filter((f) => poisoning.test(f.ruleId));
    expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
  });

  it('reports the filesystem server’s write and move tools as low capabilities, nothing above', () => {
    const fs = evaluate(servers, { platform: 'linux', home: '/home/alice' }).servers.find((s) => s.id === 'filesystem')!;
    const caps = fs.findings.filter((f) => f.ruleId === 'PAL-T007');
    expect(caps.map((f) => f.evidence).join('\n')).toMatch(/write_file: writes or moves files/);
    expect(caps.every((f) => f.severity === 'low' || f.severity === 'medium')).toBe(true);
  });
});
