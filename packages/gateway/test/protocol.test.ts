import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { connect, EVERYTHING, FIXTURE, fixtureUpstream, NODE, startFromYaml, textOf, tmpDir, writeConfig } from './helpers.js';

const BIN = fileURLToPath(new URL('../../cli/bin/palisade.js', import.meta.url));

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(port: number, ms = 20000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

describe('client protocol versions and transports', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;
  const children: ReturnType<typeof spawn>[] = [];

  beforeAll(async () => {
    // server-everything as a real upstream over Streamable HTTP and over SSE (its own processes)
    const httpPort = await freePort();
    const ssePort = await freePort();
    children.push(spawn(NODE, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(httpPort) }, stdio: 'ignore' }));
    children.push(spawn(NODE, [EVERYTHING, 'sse'], { env: { ...process.env, PORT: String(ssePort) }, stdio: 'ignore' }));
    await Promise.all([waitForPort(httpPort), waitForPort(ssePort)]);
    gw = await startFromYaml(`
upstreams:
${fixtureUpstream('fx', 'basic', '    timeoutMs: 20000\n')}
  evhttp:
    url: http://127.0.0.1:${httpPort}/mcp
    allowPrivateAddress: true
  evsse:
    url: http://127.0.0.1:${ssePort}/sse
    transport: sse
    allowPrivateAddress: true
policy: { blockLevel: critical }
limits: { callTimeoutMs: 1500 }
`);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    for (const c of children) c.kill('SIGKILL');
  });

  it('federates server-everything over Streamable HTTP and over SSE', async () => {
    expect(gw.gateway.upstreams.get('evhttp')!.up).toBe(true);
    expect(gw.gateway.upstreams.get('evsse')!.up).toBe(true);
    const client = await connect(gw.url!);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('evhttp__echo');
    expect(names).toContain('evsse__echo');
    expect(textOf(await client.callTool({ name: 'evhttp__echo', arguments: { message: 'over http' } }))).toContain('over http');
    expect(textOf(await client.callTool({ name: 'evsse__get-sum', arguments: { a: 2, b: 40 } }))).toContain('42');
    // prompts and resources are federated too
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toContain('fx__greet');
    expect(prompts.some((p) => p.startsWith('evhttp__'))).toBe(true);
    const greet = await client.getPrompt({ name: 'fx__greet', arguments: { who: 'Ada' } });
    expect(JSON.stringify(greet.messages)).toContain('Hello Ada');
    expect(JSON.stringify(greet.messages)).not.toMatch(/[\u{E0000}-\u{E007F}]/u);
    const resources = (await client.listResources()).resources;
    expect(resources.length).toBeGreaterThan(0);
    const read = await client.readResource({ uri: resources[0]!.uri });
    expect(read.contents.length).toBeGreaterThan(0);
    await client.close();
  });

  it('serves a 2025-11-25 client with a session and a 2026-07-28 client statelessly (negotiated per client)', async () => {
    const old = await connect(gw.url!);
    expect((old.transport as unknown as { sessionId?: string }).sessionId).toBeTruthy();
    expect(textOf(await old.callTool({ name: 'fx__add', arguments: { a: 1, b: 1 } }))).toBe('2');
    await old.close();

    const modern = new ClientV2({ name: 'modern-client', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await modern.connect(new HttpV2(new URL(gw.url!)));
    expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const tools = (await modern.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('fx__echo');
    expect(textOf(await modern.callTool({ name: 'fx__add', arguments: { a: 20, b: 22 } }))).toBe('42');
    await expect(modern.callTool({ name: 'fx__add', arguments: { a: 'x' } })).rejects.toThrow(/Invalid arguments/);
    await modern.close();

    const auto = new ClientV2({ name: 'auto-client', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await auto.connect(new HttpV2(new URL(gw.url!)));
    expect(auto.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    await auto.close();
  });

  it('serves legacy HTTP+SSE clients (2024-11-05) on /sse + /messages', async () => {
    const client = new Client({ name: 'sse-client', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(gw.url!.replace(/\/mcp$/, '/sse'))));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('fx__echo');
    expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: 'legacy' } }))).toBe('legacy');
    await client.close();
  });

  it('passes progress through and cancels calls that run past the timeout', async () => {
    const client = await connect(gw.url!);
    const progress: number[] = [];
    const r = await client.callTool({ name: 'fx__slow', arguments: { ms: 400 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(textOf(r)).toBe('slept 400');
    // all four, the last one included (sent by the upstream just before its result)
    expect(progress).toEqual([1, 2, 3, 4]);
    await expect(client.callTool({ name: 'fx__slow', arguments: { ms: 8000 } })).rejects.toThrow(/fx failed the call.*(timed out|Request timed out)/i);
    await client.close();
  });

  it('survives a crashing upstream: the call fails with a clear error and the next call restarts it', async () => {
    const client = await connect(gw.url!);
    const pid = gw.gateway.upstreams.get('fx')!.client.pid;
    await client.callTool({ name: 'fx__crash', arguments: {} }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: 'back' } }))).toBe('back');
    expect(gw.gateway.upstreams.get('fx')!.client.pid).not.toBe(pid);
    await client.close();
  });

  it('runs as a stdio server (palisade gateway --stdio) for clients that launch commands', async () => {
    const dir = tmpDir();
    const file = writeConfig(dir, `upstreams:\n${fixtureUpstream('fx', 'basic')}`);
    const client = new Client({ name: 'stdio-client', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: NODE,
        args: ['--conditions=source', '--import', 'tsx', BIN, 'gateway', '--stdio', '--config', file],
        stderr: 'ignore',
      }),
    );
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('fx__echo');
    expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: 'via stdio' } }))).toBe('via stdio');
    await client.close();
  });

  it('guards one stdio server (palisade guard -- CMD): original tool names, policy applied', async () => {
    const home = tmpDir();
    const client = new Client({ name: 'guard-client', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: NODE,
        args: ['--conditions=source', '--import', 'tsx', BIN, 'guard', '--', NODE, FIXTURE, '--mode', 'poisoned'],
        env: { PATH: process.env.PATH ?? '', HOME: home },
        stderr: 'ignore',
      }),
    );
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo');
    expect(names).not.toContain('notes');
    await expect(client.callTool({ name: 'notes', arguments: { note: 'x' } })).rejects.toThrow(/blocked the tool notes/);
    await expect(client.callTool({ name: 'fetch_url', arguments: { url: 'javascript:alert(1)' } })).rejects.toThrow(/refuses/);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'guarded' } }))).toBe('guarded');
    await client.close();
  });
});
