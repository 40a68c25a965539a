import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { NODE, startFromYaml, textOf } from './helpers.js';

// an upstream (SDK v1, spec 2025-11-25) whose tools ask the client in the 2025 way: an
// elicitation/create or sampling/createMessage request while the call runs
const UPSTREAM = fileURLToPath(new URL('./conformance/conformance-server.mjs', import.meta.url));

function modernClient(opts: { autoFulfill: boolean }): ClientV2 {
  const c = new ClientV2(
    { name: 'modern-client', version: '1.0.0' },
    { capabilities: { elicitation: {}, sampling: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } }, inputRequired: { autoFulfill: opts.autoFulfill } },
  );
  c.setRequestHandler('elicitation/create', async (req) => ({ action: 'accept', content: { username: `user for "${String(req.params.message)}"`, email: 'a@example.com' } }));
  c.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'test-model', stopReason: 'endTurn' }));
  return c;
}

type Raw = { resultType?: string; inputRequests?: Record<string, { method: string; params: Record<string, unknown> }>; requestState?: string; content?: unknown[] };

describe('input_required: an upstream asking the 2025 way, relayed to a 2026-07-28 client as rounds', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;

  beforeAll(async () => {
    gw = await startFromYaml(`
upstreams:
  conf:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(UPSTREAM)}]
    prefix: ""
    timeoutMs: 20000
policy: { blockLevel: critical }
`);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
  });

  it('a 2026-07-28 client that fulfils input automatically gets the upstream elicitation and sampling answered', async () => {
    const c = modernClient({ autoFulfill: true });
    await c.connect(new HttpV2(new URL(gw.url!)));
    try {
      const r = await c.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
      expect(textOf(r)).toContain('user for \\"Who are you?\\"');
      const s = await c.callTool({ name: 'test_sampling', arguments: { prompt: 'Capital of France?' } });
      expect(textOf(s)).toBe('LLM response: Paris');
    } finally {
      await c.close();
    }
  });

  it('manual rounds: input_required with a signed requestState; tampered, foreign or replayed states are refused', async () => {
    const c = modernClient({ autoFulfill: false });
    await c.connect(new HttpV2(new URL(gw.url!)));
    try {
      const call = (params: Record<string, unknown>) => c.request({ method: 'tools/call', params: { name: 'test_elicitation', arguments: { message: 'Name?' }, ...params } } as never, { allowInputRequired: true } as never) as Promise<Raw>;
      const first = await call({});
      expect(first.resultType).toBe('input_required');
      const [key, req] = Object.entries(first.inputRequests ?? {})[0]!;
      expect(req.method).toBe('elicitation/create');
      expect(req.params.message).toBe('Name?');
      expect(first.requestState).toMatch(/^[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]+$/);

      // tampered (one character of the signature or the round changed): -32602
      const st = first.requestState!;
      // every one-character change of the signature's last character (its padding bits included)
      for (const ch of ['A', 'B', 'C', 'D', 'Q', 'g', 'w', '_']) {
        if (st.endsWith(ch)) continue;
        await expect(call({ requestState: st.slice(0, -1) + ch, inputResponses: { [key]: { action: 'accept', content: { username: 'x' } } } }), ch).rejects.toMatchObject({ code: -32602 });
      }
      const otherRound = st.replace(/\.(\d+)\./, (_m, n: string) => `.${Number(n) + 1}.`);
      await expect(call({ requestState: otherRound, inputResponses: {} })).rejects.toMatchObject({ code: -32602 });
      await expect(call({ requestState: 'garbage', inputResponses: {} })).rejects.toMatchObject({ code: -32602 });

      // a retry without the answer asks again (a new state), not an error
      const again = await call({ requestState: st, inputResponses: { unrelated: { action: 'accept', content: {} } } });
      expect(again.resultType).toBe('input_required');
      expect(Object.keys(again.inputRequests ?? {})).toEqual([key]);
      expect(again.requestState).not.toBe(st);
      // the earlier state is spent
      await expect(call({ requestState: st, inputResponses: { [key]: { action: 'accept', content: { username: 'x' } } } })).rejects.toMatchObject({ code: -32602 });

      // the answer completes the upstream call
      const done = await call({ requestState: again.requestState, inputResponses: { [key]: { action: 'accept', content: { username: 'Alice', email: 'a@b.c' } } } });
      expect(done.resultType ?? 'complete').toBe('complete');
      expect(JSON.stringify(done.content)).toContain('Alice');
      // and its state is gone
      await expect(call({ requestState: again.requestState, inputResponses: {} })).rejects.toMatchObject({ code: -32602 });
    } finally {
      await c.close();
    }
  });

  it('prompts/get: an upstream asking while it builds the prompt, for 2026-07-28 (rounds) and 2025-11-25 (pushed) clients', async () => {
    const c = modernClient({ autoFulfill: false });
    await c.connect(new HttpV2(new URL(gw.url!)));
    try {
      const get = (extra: Record<string, unknown>) => c.request({ method: 'prompts/get', params: { name: 'test_input_required_result_prompt', ...extra } } as never, { allowInputRequired: true } as never) as Promise<Raw & { messages?: unknown[] }>;
      const first = await get({});
      expect(first.resultType).toBe('input_required');
      const [key, req] = Object.entries(first.inputRequests ?? {})[0]!;
      expect(req.method).toBe('elicitation/create');
      // a state for this prompt is not good for a tool call of the same caller
      await expect(
        c.request({ method: 'tools/call', params: { name: 'test_elicitation', arguments: { message: 'x' }, requestState: first.requestState, inputResponses: {} } } as never, { allowInputRequired: true } as never),
      ).rejects.toMatchObject({ code: -32602 });
      const done = await get({ requestState: first.requestState, inputResponses: { [key]: { action: 'accept', content: { context: 'the docs' } } } });
      expect(JSON.stringify(done.messages)).toContain('Use this context: the docs');
    } finally {
      await c.close();
    }
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const old = new Client({ name: 'old-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    old.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { context: 'pushed' } }));
    await old.connect(new StreamableHTTPClientTransport(new URL(gw.url!)));
    try {
      expect(JSON.stringify((await old.getPrompt({ name: 'test_input_required_result_prompt' })).messages)).toContain('Use this context: pushed');
    } finally {
      await old.close();
    }
  });

  it('resources/read: an upstream asking while it reads, answered through rounds (2026-07-28)', async () => {
    const c = modernClient({ autoFulfill: false });
    await c.connect(new HttpV2(new URL(gw.url!)));
    try {
      const read = (extra: Record<string, unknown>) => c.request({ method: 'resources/read', params: { uri: 'test://ask-resource', ...extra } } as never, { allowInputRequired: true } as never) as Promise<Raw & { contents?: unknown[] }>;
      const first = await read({});
      expect(first.resultType).toBe('input_required');
      const [key] = Object.keys(first.inputRequests ?? {});
      const done = await read({ requestState: first.requestState, inputResponses: { [key!]: { action: 'accept', content: { name: 'Lin' } } } });
      expect(JSON.stringify(done.contents)).toContain('read by Lin');
    } finally {
      await c.close();
    }
  });

  it('asks a 2026-07-28 client only what its request declares it can answer', async () => {
    const c = new ClientV2({ name: 'sampling-only', version: '1.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    c.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'test-model', stopReason: 'endTurn' }));
    await c.connect(new HttpV2(new URL(gw.url!)));
    try {
      // the upstream asks for both at once: the elicitation is refused to it, the sampling reaches the client
      expect(textOf(await c.callTool({ name: 'test_input_required_result_capabilities', arguments: {} }))).toBe('elicitation rejected, sampling fulfilled');
    } finally {
      await c.close();
    }
  });

  it('an abandoned round does not stop later calls from having their input routed', async () => {
    const quitter = modernClient({ autoFulfill: false });
    await quitter.connect(new HttpV2(new URL(gw.url!)));
    const parked = (await quitter.request({ method: 'tools/call', params: { name: 'test_elicitation', arguments: { message: 'Never answered' } } } as never, { allowInputRequired: true } as never)) as Raw;
    expect(parked.resultType).toBe('input_required');
    await quitter.close();
    // the abandoned call stays in flight upstream, but it is known to be waiting for its client
    // (its input_required went out): it is not a candidate source of new upstream requests, so
    // another client's call has its input routed at once
    const c = modernClient({ autoFulfill: true });
    await c.connect(new HttpV2(new URL(gw.url!)));
    try {
      expect(textOf(await c.callTool({ name: 'test_elicitation', arguments: { message: 'Later' } }))).toContain('user for \\"Later\\"');
    } finally {
      await c.close();
    }
  });

  it("another principal's requestState is refused", async () => {
    const g2 = await startFromYaml(`
upstreams:
  conf:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(UPSTREAM)}]
    prefix: ""
    timeoutMs: 20000
auth:
  tokens:
    - { name: alice, sha256: "${(await import('node:crypto')).createHash('sha256').update('plgw_alice_token_for_tests_only_0001').digest('hex')}" }
    - { name: bob, sha256: "${(await import('node:crypto')).createHash('sha256').update('plgw_bob_token_for_tests_only_00002').digest('hex')}" }
policy: { blockLevel: critical }
`);
    const as = (token: string) => {
      const c = modernClient({ autoFulfill: false });
      return { c, t: new HttpV2(new URL(g2.url!), { requestInit: { headers: { authorization: `Bearer ${token}` } } }) };
    };
    const alice = as('plgw_alice_token_for_tests_only_0001');
    const bob = as('plgw_bob_token_for_tests_only_00002');
    await alice.c.connect(alice.t);
    await bob.c.connect(bob.t);
    try {
      const first = (await alice.c.request({ method: 'tools/call', params: { name: 'test_elicitation', arguments: { message: 'Name?' } } } as never, { allowInputRequired: true } as never)) as Raw;
      const key = Object.keys(first.inputRequests ?? {})[0]!;
      await expect(
        bob.c.request(
          { method: 'tools/call', params: { name: 'test_elicitation', arguments: { message: 'Name?' }, requestState: first.requestState, inputResponses: { [key]: { action: 'accept', content: { username: 'bob' } } } } } as never,
          { allowInputRequired: true } as never,
        ),
      ).rejects.toMatchObject({ code: -32602 });
    } finally {
      await alice.c.close();
      await bob.c.close();
      await g2.close();
    }
  });

  it('a 2025-11-25 client still gets the upstream request pushed to it (no rounds)', async () => {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const c = new Client({ name: 'old-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { username: 'Pushed', email: 'p@example.com' } }));
    await c.connect(new StreamableHTTPClientTransport(new URL(gw.url!)));
    try {
      const r = await c.callTool({ name: 'test_elicitation', arguments: { message: 'Name?' } });
      expect(textOf(r)).toContain('Pushed');
    } finally {
      await c.close();
    }
  });
});
