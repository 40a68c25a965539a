// input_required rounds across two real gateway processes: the upstream call waiting for the
// client's input lives in the process that started it. A retry that lands on the other process
// (a load balancer without affinity) gets a clear error naming sticky routing, not a silent
// failure; the same retry on the owning process continues the call.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { NODE, textOf, tmpDir, writeConfig } from './helpers.js';
import { startGatewayProc, type GatewayProc } from './scale/procs.js';

const UPSTREAM = fileURLToPath(new URL('./conformance/conformance-server.mjs', import.meta.url));

type Raw = {
  resultType?: string;
  inputRequests?: Record<string, { method: string; params: Record<string, unknown> }>;
  requestState?: string;
  content?: unknown[];
};

async function modernClient(url: string): Promise<ClientV2> {
  const c = new ClientV2(
    { name: 'modern-client', version: '1.0.0' },
    { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } }, inputRequired: { autoFulfill: false } },
  );
  await c.connect(new HttpV2(new URL(url)));
  return c;
}

describe('input_required rounds and several gateway processes', () => {
  const procs: GatewayProc[] = [];

  beforeAll(async () => {
    const dir = tmpDir();
    for (const name of ['a', 'b']) {
      const file = writeConfig(
        dir,
        `store: ${dir}/${name}.db
upstreams:
  conf:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(UPSTREAM)}]
    prefix: ""
    timeoutMs: 20000
policy: { blockLevel: critical }
`,
        `${name}.yaml`,
      );
      procs.push(await startGatewayProc(file, {}));
    }
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
  });

  it('a round answered on the other process is refused with a sticky-routing error; on its own process it completes', async () => {
    const [a, b] = [await modernClient(procs[0]!.url), await modernClient(procs[1]!.url)];
    try {
      const call = (c: ClientV2, params: Record<string, unknown>) =>
        c.request(
          { method: 'tools/call', params: { name: 'test_elicitation', arguments: { message: 'Name?' }, ...params } } as never,
          { allowInputRequired: true } as never,
        ) as Promise<Raw>;
      const first = await call(a, {});
      expect(first.resultType).toBe('input_required');
      const [key] = Object.keys(first.inputRequests ?? {});
      const answer = { [key!]: { action: 'accept', content: { username: 'Ada', email: 'ada@example.com' } } };

      const elsewhere = call(b, { requestState: first.requestState, inputResponses: answer });
      await expect(elsewhere).rejects.toMatchObject({ code: -32602 });
      await expect(elsewhere).rejects.toThrow(/another Palisade gateway process[\s\S]*sticky routing/);

      // the call is still waiting on its own process, which completes it
      const done = await call(a, { requestState: first.requestState, inputResponses: answer });
      expect(done.resultType ?? 'complete').toBe('complete');
      expect(textOf(done)).toContain('Ada');
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);
});
