// input_required key names: a 2026-07-28 upstream asks with its own key (ask_name: "user_name");
// a 2026-07-28 client of the gateway gets that key, not one the gateway made, and its answer
// under that key reaches the upstream. Real processes: the SDK v2 fixture upstream over HTTP,
// the gateway, an SDK v2 client.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { NODE, startFromYaml, textOf } from './helpers.js';
import { inputKeyFor } from '../src/tasks.js';

const MODERN = fileURLToPath(new URL('./fixtures/modern-server.mjs', import.meta.url));

type Raw = {
  resultType?: string;
  inputRequests?: Record<string, { method: string; params: Record<string, unknown> }>;
  requestState?: string;
  content?: unknown[];
};

describe("input_required: the upstream's own key names", () => {
  let child: ChildProcess;
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
    gw = await startFromYaml(`
upstreams:
  modern:
    url: http://127.0.0.1:${port}/mcp
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

  it('a 2026-07-28 client sees and answers the upstream key', async () => {
    const c = new ClientV2(
      { name: 'modern-client', version: '1.0.0' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } }, inputRequired: { autoFulfill: false } },
    );
    await c.connect(new HttpV2(new URL(gw.url!)));
    try {
      const call = (params: Record<string, unknown>) =>
        c.request(
          { method: 'tools/call', params: { name: 'modern__ask_name', arguments: {}, ...params } } as never,
          { allowInputRequired: true } as never,
        ) as Promise<Raw>;
      const first = await call({});
      expect(first.resultType).toBe('input_required');
      expect(Object.keys(first.inputRequests ?? {})).toEqual(['user_name']);
      expect(first.inputRequests!.user_name!.method).toBe('elicitation/create');
      const done = await call({ requestState: first.requestState, inputResponses: { user_name: { action: 'accept', content: { name: 'Grace' } } } });
      expect(textOf(done)).toBe('Hello, Grace!');
    } finally {
      await c.close();
    }
  });

  it("the gateway's key only where the upstream's is missing, invalid, taken or looks like the gateway's own", () => {
    const inUse = new Map<string, unknown>([['user_name', 1]]);
    let n = 0;
    const make = () => `elicitation-${++n}`;
    expect(inputKeyFor('confirm', inUse, make)).toBe('confirm');
    expect(inputKeyFor(undefined, inUse, make)).toBe('elicitation-1');
    expect(inputKeyFor('user_name', inUse, make)).toBe('elicitation-2');
    expect(inputKeyFor('has space', inUse, make)).toBe('elicitation-3');
    expect(inputKeyFor('x'.repeat(65), inUse, make)).toBe('elicitation-4');
    expect(inputKeyFor('sampling-7', inUse, make)).toBe('elicitation-5');
    inUse.set('elicitation-6', 1);
    expect(inputKeyFor(undefined, inUse, make)).toBe('elicitation-7');
  });
});
