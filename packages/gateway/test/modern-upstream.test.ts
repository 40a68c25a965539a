import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { connect, NODE, startFromYaml, textOf } from './helpers.js';

const MODERN = fileURLToPath(new URL('./fixtures/modern-server.mjs', import.meta.url));

describe('an upstream that speaks only 2026-07-28, connected natively', () => {
  let child: ChildProcess;
  let url: string;
  let gw: Awaited<ReturnType<typeof startFromYaml>>;

  beforeAll(async () => {
    child = spawn(NODE, [MODERN], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        const m = /listening (\d+)/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`fixture exited ${code}`)));
    });
    url = `http://127.0.0.1:${port}/mcp`;
    gw = await startFromYaml(`
upstreams:
  modern:
    url: ${url}
    allowPrivateAddress: true
    protocol: auto
    timeoutMs: 20000
policy: { blockLevel: critical }
`);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    child?.kill('SIGKILL');
  });

  it('federates its tools and prompts and calls them, for a 2025-11-25 client of the gateway', async () => {
    expect(gw.gateway.upstreams.get('modern')?.up).toBe(true);
    expect(gw.gateway.upstreams.get('modern')?.client.protocolVersion).toBe('2026-07-28');
    const c = await connect(gw.url!);
    try {
      const tools = (await c.listTools()).tools.map((t) => t.name).sort();
      expect(tools).toEqual(['modern__ask_name', 'modern__hello', 'modern__methods_seen']);
      expect((await c.listPrompts()).prompts.map((p) => p.name)).toEqual(['modern__greet']);
      expect(textOf(await c.callTool({ name: 'modern__hello', arguments: { name: 'Ada' } }))).toBe('hello Ada (2026-07-28)');
      // the gateway's policy applies as to any upstream
      await expect(c.callTool({ name: 'modern__hello', arguments: { name: 3 } })).rejects.toThrow(/Invalid arguments/);
      const methods = JSON.parse(textOf(await c.callTool({ name: 'modern__methods_seen', arguments: {} }))) as string[];
      expect(methods).toContain('server/discover');
      expect(methods).not.toContain('initialize');
    } finally {
      await c.close();
    }
  });

  it("relays the upstream's input_required (elicitation) to the 2025-11-25 client that called", async () => {
    const c = new Client({ name: 'asker', version: '1' }, { capabilities: { elicitation: {} } });
    c.setRequestHandler(ElicitRequestSchema, async (req) => {
      expect(req.params.message).toBe('What is your name?');
      return { action: 'accept', content: { name: 'Grace' } };
    });
    await c.connect(new StreamableHTTPClientTransport(new URL(gw.url!)));
    try {
      expect(textOf(await c.callTool({ name: 'modern__ask_name', arguments: {} }))).toBe('Hello, Grace!');
    } finally {
      await c.close();
    }
  });
  it('(last: it sends an initialize) the fixture really is 2026-07-28 only: a 2025-11-25 client cannot initialize with it', async () => {
    const c = new Client({ name: 'old', version: '1' }, { capabilities: {} });
    await expect(c.connect(new StreamableHTTPClientTransport(new URL(url)))).rejects.toThrow();
  });

});
