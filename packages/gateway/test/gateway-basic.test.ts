import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connect, EVERYTHING, fixtureUpstream, NODE, startFromYaml, textOf } from './helpers.js';

describe('gateway over Streamable HTTP with real stdio upstreams', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;
  let client: Client;

  beforeAll(async () => {
    gw = await startFromYaml(`
upstreams:
${fixtureUpstream('fx', 'basic')}
  everything:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
policy: { blockLevel: critical }
`);
    client = await connect(gw.url!);
  });

  afterAll(async () => {
    await client?.close();
    await gw?.close();
  });

  it('federates tools from every upstream under <upstream>__<name>', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('fx__echo');
    expect(names).toContain('everything__echo');
    for (const n of names) expect(n).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  it('calls through to the right upstream', async () => {
    expect(textOf(await client.callTool({ name: 'fx__add', arguments: { a: 2, b: 3 } }))).toBe('5');
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
    expect(textOf(r)).toContain('hi');
  });

  it('refuses invalid arguments with a JSON-RPC error before the upstream sees them', async () => {
    await expect(client.callTool({ name: 'fx__add', arguments: { a: 'two', b: 3 } })).rejects.toThrow(/Invalid arguments for fx__add/);
  });

  it('kills every upstream process tree on close', async () => {
    const pids = [...gw.gateway.upstreams.values()].map((u) => u.client.pid).filter((p): p is number => typeof p === 'number');
    expect(pids.length).toBe(2);
    await client.close();
    await gw.close();
    for (const pid of pids) expect(() => process.kill(-pid, 0), `process group ${pid}`).toThrow();
  });
});
