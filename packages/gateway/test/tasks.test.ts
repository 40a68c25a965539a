// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663) toward 2026-07-28 clients: a
// real gateway federating a real upstream (SDK v1, 2025-11-25) whose tools declare
// execution.taskSupport; real SDK v2 clients. The gateway holds the task: tasks/get, tasks/update,
// tasks/cancel, bound to the principal.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE, startFromYaml, textOf } from './helpers.js';

const UPSTREAM = fileURLToPath(new URL('./conformance/conformance-server.mjs', import.meta.url));
const TASKS = 'io.modelcontextprotocol/tasks';
const ALICE = 'plgw_alice_token_for_tasks_tests_0001';
const BOB = 'plgw_bob_token_for_tasks_tests_000002';
const sha = (t: string) => createHash('sha256').update(t).digest('hex');

type Raw = Record<string, unknown> & {
  taskId?: string;
  status?: string;
  resultType?: string;
  result?: { content?: unknown[]; isError?: boolean };
  error?: { code: number };
};

describe('tasks extension: gateway-held tasks for 2026-07-28 clients', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;

  /**
   * A stateless 2026-07-28 client speaking raw JSON-RPC over HTTP (the SDK v2 client does not
   * accept a CreateTaskResult yet): the per-request _meta envelope and the Mcp-Method/Mcp-Name headers.
   */
  function client(token: string, tasks = true): (method: string, params: Record<string, unknown>) => Promise<Raw> {
    let id = 0;
    const capabilities = { elicitation: {}, ...(tasks ? { extensions: { [TASKS]: {} } } : {}) };
    return async (method, params) => {
      const name = method === 'tools/call' ? params.name : method.startsWith('tasks/') ? params.taskId : undefined;
      const body = {
        jsonrpc: '2.0',
        id: ++id,
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'tasks-client', version: '1.0.0' },
            'io.modelcontextprotocol/clientCapabilities': capabilities,
          },
        },
      };
      const res = await fetch(gw.url!, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': method,
          ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
        },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      const messages = res.headers.get('content-type')?.startsWith('text/event-stream')
        ? text
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>)
        : [JSON.parse(text) as Record<string, unknown>];
      const reply = messages.find((m) => m.id === body.id) as { result?: Raw; error?: { code: number; message: string; data?: unknown } } | undefined;
      if (!reply) throw new Error(`no reply to ${method}: HTTP ${res.status} ${text.slice(0, 300)}`);
      if (reply.error) throw Object.assign(new Error(reply.error.message), reply.error);
      return reply.result!;
    };
  }

  async function settled(call: (m: string, p: Record<string, unknown>) => Promise<Raw>, taskId: string, want?: string): Promise<Raw> {
    for (let i = 0; i < 300; i++) {
      const t = await call('tasks/get', { taskId });
      if (t.status === want || ['completed', 'failed', 'cancelled'].includes(String(t.status))) return t;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${taskId} did not settle`);
  }

  beforeAll(async () => {
    gw = await startFromYaml(`
upstreams:
  conf:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(UPSTREAM)}]
    prefix: ""
    timeoutMs: 20000
auth:
  tokens:
    - { name: alice, sha256: "${sha(ALICE)}" }
    - { name: bob, sha256: "${sha(BOB)}" }
policy: { blockLevel: critical }
`);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
  });

  it('a task-supporting tool runs as a task: created, polled, its result inlined; a sync tool stays sync', async () => {
    const alice = client(ALICE);
    const created = await alice('tools/call', { name: 'slow_compute', arguments: { seconds: 0.5, label: 'x' } });
    expect(created.resultType).toBe('task');
    expect(created.taskId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(created).toMatchObject({ status: 'working', ttlMs: 3_600_000, pollIntervalMs: 500 });
    expect(created).not.toHaveProperty('result');
    expect(created).not.toHaveProperty('requestState');
    const done = await settled(alice, created.taskId!);
    expect(done).toMatchObject({ status: 'completed', taskId: created.taskId });
    expect(textOf(done.result)).toBe('computed x after 0.5 s');

    const sync = await alice('tools/call', { name: 'greet', arguments: { name: 'Ada' } });
    expect(sync.taskId).toBeUndefined();
    expect(textOf(sync)).toBe('Hello, Ada!');
  });

  it('tool errors complete with isError; protocol errors fail with the error inlined', async () => {
    const alice = client(ALICE);
    const failing = await alice('tools/call', { name: 'failing_job', arguments: {} });
    expect(await settled(alice, failing.taskId!)).toMatchObject({ status: 'completed', result: { isError: true } });
    const crashing = await alice('tools/call', { name: 'protocol_error_job', arguments: {} });
    const failed = await settled(alice, crashing.taskId!);
    expect(failed.status).toBe('failed');
    expect(typeof failed.error?.code).toBe('number');
    expect(failed).not.toHaveProperty('result');
  });

  it('input inside a task: input_required with the upstream request, answered through tasks/update', async () => {
    const alice = client(ALICE);
    const created = await alice('tools/call', { name: 'confirm_delete', arguments: { filename: 'a.txt' } });
    const waiting = await settled(alice, created.taskId!, 'input_required');
    expect(waiting.status).toBe('input_required');
    const [key, req] = Object.entries(waiting.inputRequests as Record<string, { method: string; params: { message: string } }>)[0]!;
    expect(req).toMatchObject({ method: 'elicitation/create', params: { message: 'Delete a.txt?' } });
    expect(await alice('tasks/update', { taskId: created.taskId, inputResponses: { [key]: { action: 'accept', content: { confirm: true } } } })).toMatchObject({
      resultType: 'complete',
    });
    const done = await settled(alice, created.taskId!);
    expect(textOf(done.result)).toBe('delete: accept');
  });

  it('two inputs the upstream asks together still both reach the task when the second arrives after the client saw the first', async () => {
    const alice = client(ALICE);
    const created = await alice('tools/call', { name: 'staggered_input', arguments: { gapMs: 1500 } });
    const first = await settled(alice, created.taskId!, 'input_required');
    // the client has been shown one input; the second is still on its way (1.5 s behind)
    expect(Object.keys(first.inputRequests as object)).toHaveLength(1);
    let inputs: Record<string, { params: { message: string } }> = {};
    for (let i = 0; i < 50 && Object.keys(inputs).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const t = await alice('tasks/get', { taskId: created.taskId });
      expect(t.status).toBe('input_required');
      inputs = t.inputRequests as typeof inputs;
    }
    expect(Object.values(inputs).map((r) => r.params.message)).toEqual(['First name?', 'Last name?']);
    const [k1, k2] = Object.keys(inputs);
    await alice('tasks/update', { taskId: created.taskId, inputResponses: { [k1!]: { action: 'accept', content: { name: 'Ada' } } } });
    expect((await alice('tasks/get', { taskId: created.taskId })).status).toBe('input_required');
    await alice('tasks/update', { taskId: created.taskId, inputResponses: { [k2!]: { action: 'accept', content: { name: 'Lovelace' } } } });
    const done = await settled(alice, created.taskId!);
    expect(done.status).toBe('completed');
    expect(textOf(done.result)).toBe('Ada Lovelace');
  });

  it('cancel stops a running task; another principal does not see it; unknown ids are -32602', async () => {
    const alice = client(ALICE);
    const bob = client(BOB);
    const created = await alice('tools/call', { name: 'slow_compute', arguments: { seconds: 30 } });
    await expect(bob('tasks/get', { taskId: created.taskId })).rejects.toMatchObject({ code: -32602 });
    await expect(bob('tasks/cancel', { taskId: created.taskId })).rejects.toMatchObject({ code: -32602 });
    expect((await alice('tasks/get', { taskId: created.taskId })).status).toBe('working');
    expect(await alice('tasks/cancel', { taskId: created.taskId })).toMatchObject({ resultType: 'complete' });
    expect((await alice('tasks/get', { taskId: created.taskId })).status).toBe('cancelled');
    // idempotent on a finished task
    expect(await alice('tasks/cancel', { taskId: created.taskId })).toMatchObject({ resultType: 'complete' });
    await expect(alice('tasks/get', { taskId: 'no-such-task' })).rejects.toMatchObject({ code: -32602 });
  });

  it('without the extension: a required-task tool is -32021 naming it, an optional one runs synchronously, tasks/* are refused', async () => {
    const plain = client(ALICE, false);
    await expect(plain('tools/call', { name: 'failing_job', arguments: {} })).rejects.toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { extensions: { [TASKS]: {} } } },
    });
    const sync = await plain('tools/call', { name: 'slow_compute', arguments: { seconds: 0 } });
    expect(sync.taskId).toBeUndefined();
    expect(textOf(sync)).toBe('computed  after 0 s');
    await expect(plain('tasks/get', { taskId: 'x' })).rejects.toMatchObject({ code: -32021 });
  });
});
