import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connect, NODE, startFromYaml, textOf } from './helpers.js';

const PAGED = fileURLToPath(new URL('./fixtures/paged-server.mjs', import.meta.url));

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** End the session on the gateway (DELETE), as a client that is done does. */
async function end(c: Client): Promise<void> {
  await (c.transport as StreamableHTTPClientTransport | undefined)?.terminateSession().catch(() => undefined);
  await c.close();
}

function listen(client: Client): string[] {
  const got: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void got.push(String(n.params.data)));
  return got;
}

describe('logging: setLevel per session forwarded upstream, upstream logs to the session that asked', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;

  beforeAll(async () => {
    gw = await startFromYaml(`
upstreams:
  pg:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(PAGED)}]
    timeoutMs: 20000
policy: { blockLevel: critical }
`);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
  });

  const levelsSet = async (c: Client) => JSON.parse(textOf(await c.callTool({ name: 'pg__levels', arguments: {} }))) as string[];

  it('forwards the most verbose level asked, filters per session, routes call logs to the caller only', async () => {
    const a = await connect(gw.url!);
    const b = await connect(gw.url!);
    const gotA = listen(a);
    const gotB = listen(b);
    try {
      await a.setLoggingLevel('warning');
      expect(await levelsSet(a)).toEqual(['warning']);
      await b.setLoggingLevel('info');
      // one shared upstream connection: set to the most verbose level any session asked for
      expect(await levelsSet(b)).toEqual(['warning', 'info']);

      // logs sent during A's call go to A only, filtered by A's level
      expect(textOf(await a.callTool({ name: 'pg__log_now', arguments: { tag: 'a-call' } }))).toBe('logged');
      await waitFor(() => gotA.includes('a-call error'), "A's call logs");
      expect(gotA.filter((x) => x.startsWith('a-call'))).toEqual(['a-call warning', 'a-call error']);

      // logs the upstream sends with no call in flight go to every session by its own level
      expect(textOf(await b.callTool({ name: 'pg__log_later', arguments: { tag: 'bg', ms: 200 } }))).toBe('will log');
      await waitFor(() => gotB.includes('bg error') && gotA.includes('bg error'), 'background logs');
      expect(gotB.filter((x) => x.startsWith('bg'))).toEqual(['bg info', 'bg warning', 'bg error']);
      expect(gotA.filter((x) => x.startsWith('bg'))).toEqual(['bg warning', 'bg error']);
      // debug never reached the gateway (the upstream is at info) and A never saw B's call
      expect(gotB.some((x) => x.startsWith('a-call'))).toBe(false);
      expect(gotA.concat(gotB).some((x) => x.endsWith('debug'))).toBe(false);
    } finally {
      await end(a);
      await end(b);
    }
  });

  it('a session that set no level gets no background logs; a closed session is forgotten', async () => {
    const quiet = await connect(gw.url!);
    const loud = await connect(gw.url!);
    const gotQuiet = listen(quiet);
    const gotLoud = listen(loud);
    try {
      await loud.setLoggingLevel('error');
      await loud.callTool({ name: 'pg__log_later', arguments: { tag: 'bg2', ms: 100 } });
      await waitFor(() => gotLoud.includes('bg2 error'), 'background error log');
      expect(gotLoud.filter((x) => x.startsWith('bg2'))).toEqual(['bg2 error']);
      expect(gotQuiet.some((x) => x.startsWith('bg2'))).toBe(false);
      // the sessions of the previous test ended: the only one left (error) sets the upstream
      expect((await levelsSet(loud)).at(-1)).toBe('error');
    } finally {
      await end(quiet);
      await end(loud);
    }
  });

  it('refuses an unknown level with a clear error and changes nothing', async () => {
    const c = await connect(gw.url!);
    try {
      const before = await levelsSet(c);
      const err = await c.request({ method: 'logging/setLevel', params: { level: 'loud' } } as never, undefined as never).catch((e: unknown) => e);
      // the SDK validates the level against the spec's enum before the gateway sees it (its code is -32603)
      expect(String((err as Error).message)).toMatch(/expected one of .*debug/);
      expect(await levelsSet(c)).toEqual(before);
    } finally {
      await c.close();
    }
  });
});
