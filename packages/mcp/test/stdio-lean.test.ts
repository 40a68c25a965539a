// The lean path of tools/call to a stdio server (UpstreamClient.callTool over
// ProcessGroupStdioTransport.request): the behaviour the SDK client's path had, against a real
// server process written without the SDK (test/fixtures/raw-stdio-server.mjs) that misbehaves
// on purpose. What the server received is read back from its log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallCancel } from '../src/cancel.js';
import { isTimeoutError } from '../src/client.js';
import { UpstreamClient, type ListKind } from '../src/upstream.js';

const fixture = fileURLToPath(new URL('./fixtures/raw-stdio-server.mjs', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('tools/call to a stdio server on the lean path', () => {
  let dir: string;
  let log: string;
  let client: UpstreamClient;
  const listChanged: ListKind[] = [];
  let closes = 0;

  /** every message the server received, parsed */
  const received = (): Record<string, unknown>[] =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'palisade-lean-'));
    log = path.join(dir, 'received.log');
    listChanged.length = 0;
    closes = 0;
    client = new UpstreamClient(
      'raw',
      { transport: 'stdio', command: process.execPath, args: [fixture], env: { RAW_SERVER_LOG: log } },
      {
        clientInfo: { name: 'lean-test', version: '1.0.0' },
        timeoutMs: 5000,
        onListChanged: (k) => listChanged.push(k),
        onClose: () => closes++,
      },
    );
    await client.connect();
  });

  afterEach(async () => {
    const pid = client.pid;
    await client.close();
    if (pid) expect(alive(pid)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers plain results, with ids in one numeric sequence with the SDK client requests', async () => {
    expect(client.leanCalls).toBe(true);
    expect((await client.listTools()).map((t) => t.name)).toContain('echo');
    const results = await Promise.all([1, 2, 3].map((i) => client.callTool('echo', { text: `hello ${i}` })));
    expect(results).toEqual([1, 2, 3].map((i) => ({ content: [{ type: 'text', text: `hello ${i}` }] })));
    expect((await client.listTools()).length).toBe(12);
    const requests = received().filter((m) => 'id' in m);
    expect(requests.map((m) => m.method)).toEqual(['initialize', 'tools/list', 'tools/call', 'tools/call', 'tools/call', 'tools/list']);
    const ids = requests.map((m) => m.id);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => (a as number) - (b as number))).toEqual(ids);
  });

  it('checks other result shapes with the SDK schema: an image passes, a malformed result is refused', async () => {
    expect(await client.callTool('image', {})).toEqual({ content: [{ type: 'image', data: 'AAAA', mimeType: 'image/png' }] });
    await expect(client.callTool('odd', {})).rejects.toThrow(/content|expected/i);
    expect((await client.callTool('echo', { text: 'still fine' })).content).toEqual([{ type: 'text', text: 'still fine' }]);
  });

  it('raises an error response as the SDK does (McpError with code, message and data)', async () => {
    const err = await client.callTool('fails', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32010);
    expect((err as McpError).message).toBe('MCP error -32010: the tool failed');
    expect((err as McpError).data).toEqual({ why: 'on purpose' });
  });

  it('times out a call, tells the server, and drops its late answer', async () => {
    const err = await client.callTool('late', {}, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(isTimeoutError(err)).toBe(true);
    await until(() => received().some((m) => m.method === 'notifications/cancelled'));
    const call = received().find((m) => m.method === 'tools/call')!;
    const cancelled = received().find((m) => m.method === 'notifications/cancelled');
    expect(cancelled?.params).toEqual({ requestId: call.id, reason: 'McpError: MCP error -32001: Request timed out' });
    // the answer arrives after the timeout: nothing breaks, the connection carries on
    await new Promise((r) => setTimeout(r, 400));
    expect((await client.callTool('echo', { text: 'after late' })).content).toEqual([{ type: 'text', text: 'after late' }]);
    expect(closes).toBe(0);
  });

  it('cancels a call when its signal aborts, and tells the server why', async () => {
    const controller = new AbortController();
    const pending = client.callTool('hang', {}, { signal: controller.signal });
    setTimeout(() => controller.abort('the client went away'), 50);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect(String((err as Error).message)).toMatch(/the client went away/);
    await until(() => received().some((m) => m.method === 'notifications/cancelled'));
    const call = received().find((m) => m.method === 'tools/call')!;
    expect(received().find((m) => m.method === 'notifications/cancelled')?.params).toEqual({ requestId: call.id, reason: 'the client went away' });
    // an already aborted signal never reaches the server
    await expect(client.callTool('echo', {}, { signal: AbortSignal.abort('no') })).rejects.toBe('no');
    expect(received().filter((m) => m.method === 'tools/call')).toHaveLength(1);
  });

  it('cancels a call when its CallCancel aborts (the gateway lean path, no signal), and tells the server why', async () => {
    const cancel = new CallCancel();
    const pending = client.callTool('hang', {}, { cancel });
    setTimeout(() => cancel.abort('the client went away'), 50);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.RequestTimeout);
    expect(String((err as Error).message)).toMatch(/the client went away/);
    await until(() => received().some((m) => m.method === 'notifications/cancelled'));
    const call = received().find((m) => m.method === 'tools/call')!;
    expect(received().find((m) => m.method === 'notifications/cancelled')?.params).toEqual({ requestId: call.id, reason: 'the client went away' });
    // an already cancelled call never reaches the server
    const done = new CallCancel();
    done.abort('no');
    await expect(client.callTool('echo', {}, { cancel: done })).rejects.toBe('no');
    expect(received().filter((m) => m.method === 'tools/call')).toHaveLength(1);
    // a call that ends normally leaves nothing watching: a later abort tells the server nothing
    const finished = new CallCancel();
    expect((await client.callTool('echo', { text: 'done' }, { cancel: finished })).content).toEqual([{ type: 'text', text: 'done' }]);
    finished.abort('too late');
    await new Promise((r) => setTimeout(r, 100));
    expect(received().filter((m) => m.method === 'notifications/cancelled')).toHaveLength(1);
  });

  it('one CallCancel shared by two calls in flight cancels both (the second listens to its signal)', async () => {
    const cancel = new CallCancel();
    const a = client.callTool('hang', {}, { cancel }).catch((e: unknown) => e);
    const b = client.callTool('hang', {}, { cancel }).catch((e: unknown) => e);
    setTimeout(() => cancel.abort('both'), 50);
    for (const err of await Promise.all([a, b])) expect(String((err as Error).message)).toMatch(/both/);
    await until(() => received().filter((m) => m.method === 'notifications/cancelled').length === 2);
    const ids = received()
      .filter((m) => m.method === 'tools/call')
      .map((m) => m.id);
    expect(
      received()
        .filter((m) => m.method === 'notifications/cancelled')
        .map((m) => m.params),
    ).toEqual(expect.arrayContaining(ids.map((id) => ({ requestId: id, reason: 'both' }))));
    // the connection carries on
    expect((await client.callTool('echo', { text: 'still here' })).content).toEqual([{ type: 'text', text: 'still here' }]);
  });

  it('skips lines that are not JSON and answers meant for other ids', async () => {
    expect((await client.callTool('garbage', {})).content).toEqual([{ type: 'text', text: 'after garbage' }]);
    expect((await client.callTool('wrongid', {})).content).toEqual([{ type: 'text', text: 'right id' }]);
  });

  it('passes progress (the last one before the answer) and list_changed notifications on', async () => {
    const progress: unknown[] = [];
    const r = await client.callTool('progress', {}, { onprogress: (p) => progress.push(p) });
    expect(r.content).toEqual([{ type: 'text', text: 'progressed' }]);
    expect(progress).toEqual([
      { progress: 1, total: 2 },
      { progress: 2, total: 2, message: 'done' },
    ]);
    await client.callTool('changed', {});
    await until(() => listChanged.includes('tools'));
  });

  it('fails the calls in flight when the server crashes, and the next call starts it again', async () => {
    const first = client.pid!;
    const hanging = client.callTool('hang', {}).catch((e: unknown) => e);
    const crashing = client.callTool('crash', {}).catch((e: unknown) => e);
    for (const err of [await hanging, await crashing]) {
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).code).toBe(ErrorCode.ConnectionClosed);
    }
    await until(() => closes === 1);
    expect(alive(first)).toBe(false);
    expect((await client.callTool('echo', { text: 'again' })).content).toEqual([{ type: 'text', text: 'again' }]);
    expect(client.pid).not.toBe(first);
  });

  it('stops a server that writes a frame over 10 MiB without a line break, and fails its calls', async () => {
    const first = client.pid!;
    const err = await client.callTool('flood', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.ConnectionClosed);
    await until(() => !alive(first) && closes === 1);
    expect((await client.callTool('echo', { text: 'after flood' })).content).toEqual([{ type: 'text', text: 'after flood' }]);
  });
});
