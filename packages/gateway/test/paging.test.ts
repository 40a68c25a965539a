import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connect, NODE, startFromYaml } from './helpers.js';

const PAGED = fileURLToPath(new URL('./fixtures/paged-server.mjs', import.meta.url));


describe('pagination: upstream pages read to the end, the gateway serves its own pages', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;
  let client: Client;

  beforeAll(async () => {
    // the fixture serves every list two items a page; the gateway serves three a page
    gw = await startFromYaml(`
upstreams:
  pg:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(PAGED)}]
    timeoutMs: 20000
policy: { blockLevel: critical }
limits: { pageSize: 3 }
`);
    client = await connect(gw.url!);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gw?.close();
  });

  it('reads every upstream page and serves tools three a page with cursors', async () => {
    const { ListToolsResultSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const names: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema);
      names.push(...res.tools.map((t) => t.name));
      sizes.push(res.tools.length);
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    // 8 tools over 4 upstream pages of 2, served as pages of 3, 3, 2
    expect(sizes).toEqual([3, 3, 2]);
    expect(names.sort()).toEqual(['pg__levels', 'pg__log_later', 'pg__log_now', 'pg__tool1', 'pg__tool2', 'pg__tool3', 'pg__tool4', 'pg__tool5']);
  });

  it('pages prompts, resources and resource templates too', async () => {
    const { ListPromptsResultSchema, ListResourcesResultSchema, ListResourceTemplatesResultSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const collect = async (method: string, schema: never, key: string) => {
      const out: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const res = (await client.request({ method, params: cursor ? { cursor } : {} } as never, schema)) as Record<string, unknown>;
        const items = res[key] as { name: string }[];
        out.push(...items.map((x) => x.name));
        sizes.push(items.length);
        cursor = res.nextCursor as string | undefined;
        if (!cursor) break;
      }
      return { out, sizes };
    };
    const prompts = await collect('prompts/list', ListPromptsResultSchema as never, 'prompts');
    expect(prompts.sizes).toEqual([3, 2]);
    expect(prompts.out.sort()).toEqual(['pg__prompt1', 'pg__prompt2', 'pg__prompt3', 'pg__prompt4', 'pg__prompt5']);
    const resources = await collect('resources/list', ListResourcesResultSchema as never, 'resources');
    expect(resources.sizes).toEqual([3, 2]);
    expect(resources.out).toHaveLength(5);
    const templates = await collect('resources/templates/list', ListResourceTemplatesResultSchema as never, 'resourceTemplates');
    expect(templates.sizes).toEqual([3]);
    expect(templates.out).toHaveLength(3);
    // an item from the upstream's last page works end to end
    const read = await client.readResource({ uri: 'paged://res/5' });
    expect(JSON.stringify(read.contents)).toContain('content of paged://res/5');
  });

  it('refuses a bad cursor with invalid params (-32602), and a cursor of another list', async () => {
    const { ListToolsResultSchema, ListPromptsResultSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const first = await client.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
    expect(first.nextCursor).toBeTruthy();
    const forged = [
      'not a cursor!',
      'AAAA',
      Buffer.from(JSON.stringify({ k: 'tools', o: -3 })).toString('base64url'),
      Buffer.from(JSON.stringify({ k: 'tools', o: 1.5 })).toString('base64url'),
      Buffer.from(JSON.stringify({ k: 'tools', o: '3' })).toString('base64url'),
      Buffer.from('x'.repeat(300)).toString('base64url'),
    ];
    for (const cursor of forged) {
      await expect(client.request({ method: 'tools/list', params: { cursor } }, ListToolsResultSchema), cursor).rejects.toMatchObject({ code: -32602 });
    }
    await expect(client.request({ method: 'prompts/list', params: { cursor: first.nextCursor } }, ListPromptsResultSchema)).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/Invalid cursor for prompts\/list/),
    });
    // an offset past the end (the list shrank between pages) is an empty last page, not an error
    const past = Buffer.from(JSON.stringify({ k: 'tools', o: 999 })).toString('base64url');
    const res = await client.request({ method: 'tools/list', params: { cursor: past } }, ListToolsResultSchema);
    expect(res.tools).toEqual([]);
    expect(res.nextCursor).toBeUndefined();
    // the session still works
    expect((await client.callTool({ name: 'pg__tool1', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran tool1' }]);
  });

  it('a 2026-07-28 client pages the same lists (stateless requests)', async () => {
    const modern = new ClientV2({ name: 'modern-client', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await modern.connect(new HttpV2(new URL(gw.url!)));
    try {
      // without a cursor the v2 client walks every page itself and returns the whole list
      const all = await modern.listTools();
      expect(all.tools).toHaveLength(8);
      // with a cursor it gets that page (cursors carry no session: one from the 2025 client works)
      const { ListToolsResultSchema } = await import('@modelcontextprotocol/sdk/types.js');
      const first = await client.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
      const p2 = await modern.listTools({ cursor: first.nextCursor });
      expect(p2.tools).toHaveLength(3);
      const p3 = await modern.listTools({ cursor: p2.nextCursor });
      expect(p3.tools).toHaveLength(2);
      expect(p3.nextCursor).toBeUndefined();
      expect([...first.tools, ...p2.tools, ...p3.tools].map((t) => t.name).sort()).toEqual(all.tools.map((t) => t.name).sort());
      await expect(modern.listTools({ cursor: 'garbage' })).rejects.toThrow(/Invalid cursor/);
    } finally {
      await modern.close();
    }
  });
});
