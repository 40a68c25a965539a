import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { runGatewayCommand } from '../src/index.js';
import { connect, fixtureUpstream, startFromYaml, textOf } from './helpers.js';

const quiet = { out: () => undefined, err: () => undefined, env: process.env };

describe('policy at run time', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;
  let client: Client;

  const alerts: unknown[] = [];
  let hook: Server;

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        alerts.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    process.env.PALISADE_TEST_CANARY = 'canary-value-4711';
    gw = await startFromYaml(`
upstreams:
${fixtureUpstream('fx', 'basic')}
${fixtureUpstream('poison', 'poisoned')}
${fixtureUpstream('hid', 'hidden', '    prefix: h\n')}
${fixtureUpstream('rp', 'rugpull')}
policy: { blockLevel: high, redactSecretsInResults: true, allowTools: ['h__weather'], alertWebhook: 'http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts' }
limits: { maxResultBytes: 20000, maxStringLength: 5000, maxDepth: 10, maxArrayLength: 100 }
`);
    client = await connect(gw.url!);
  });

  afterAll(async () => {
    await client?.close();
    await gw?.close();
    hook?.close();
    delete process.env.PALISADE_TEST_CANARY;
  });

  it('blocks a poisoned tool by risk: not listed, refused with a reason and the approve command', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('poison__notes');
    expect(names).toContain('poison__echo');
    const err = await client.callTool({ name: 'poison__notes', arguments: { note: 'x' } }).catch((e: Error) => e);
    expect(String(err)).toMatch(/blocked the tool poison__notes/);
    expect(String(err)).toMatch(/palisade gateway approve --config .* poison__notes/);
  });

  it('releases a blocked tool after `palisade gateway approve` (another process, same store)', async () => {
    expect(await runGatewayCommand(['gateway', 'approve', '--config', gw.file, 'poison__notes'], quiet)).toBe(0);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('poison__notes');
    expect(textOf(await client.callTool({ name: 'poison__notes', arguments: { note: 'x' } }))).toBe('noted x');
  });

  it('strips hidden Unicode and ANSI from descriptions and sends the decoded text to the audit log', async () => {
    const tools = (await client.listTools()).tools;
    const weather = tools.find((t) => t.name === 'h__weather');
    expect(weather, 'hidden-text tool listed (risk below block?)').toBeDefined();
    expect(weather!.description).toBe('Get the weather. hidden ansi');
    expect(JSON.stringify(weather!.inputSchema)).not.toMatch(/\u202e/);
    const audit = gw.gateway.store.recentAudit(500).filter((a) => a.kind === 'hidden-text' && a.tool === 'h__weather');
    expect(JSON.stringify(audit)).toContain('ignore all previous instructions');
  });

  it('strips hidden text from results too', async () => {
    const r = await client.callTool({ name: 'fx__hidden_result', arguments: {} });
    expect(textOf(r)).toBe('visible red');
  });

  it('redacts secrets in results when configured', async () => {
    const r = await client.callTool({ name: 'fx__leak', arguments: {} });
    expect(textOf(r)).not.toContain('ghp_');
    expect(textOf(r)).toContain('<redacted:github-token>');
  });

  it('caps the result size', async () => {
    await expect(client.callTool({ name: 'fx__big', arguments: { bytes: 50000 } })).rejects.toThrow(/over the gateway's limit/);
    expect(textOf(await client.callTool({ name: 'fx__big', arguments: { bytes: 100 } }))).toHaveLength(100);
  });

  it('refuses oversized strings, deep nesting, long arrays and dangerous URL schemes', async () => {
    await expect(client.callTool({ name: 'fx__echo', arguments: { text: 'y'.repeat(6000) } })).rejects.toThrow(/over the limit of 5000/);
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 12; i++) deep = (deep.a = {}) as Record<string, unknown>;
    await expect(client.callTool({ name: 'fx__nested', arguments: root })).rejects.toThrow(/nest(s)? deeper than/);
    await expect(client.callTool({ name: 'fx__nested', arguments: { list: Array.from({ length: 101 }, () => 1) } })).rejects.toThrow(/101 items/);
    for (const url of ['javascript:alert(1)', ' JaVa\tScript:alert(1)', 'data:text/html;base64,PHNjcmlwdD4=', 'vbscript:msgbox', 'file:///etc/passwd']) {
      await expect(client.callTool({ name: 'fx__fetch_url', arguments: { url } }), url).rejects.toThrow(/scheme the gateway refuses/);
    }
    expect(textOf(await client.callTool({ name: 'fx__fetch_url', arguments: { url: 'https://example.com/' } }))).toBe('fetched https://example.com/');
    expect(textOf(await client.callTool({ name: 'fx__echo', arguments: { text: 'data: 3 rows' } }))).toBe('data: 3 rows');
  });

  it('gives stdio upstreams only an allowlisted environment (the gateway’s env canary is not visible)', async () => {
    const r = JSON.parse(textOf(await client.callTool({ name: 'fx__env_probe', arguments: { name: 'PALISADE_TEST_CANARY' } }))) as {
      visible: boolean;
      keys: string[];
    };
    expect(r.visible).toBe(false);
    expect(r.keys).toContain('PATH');
    expect(
      r.keys.filter(
        (k) =>
          ![
            'HOME',
            'LOGNAME',
            'PATH',
            'SHELL',
            'TERM',
            'USER',
            'TMPDIR',
            'TEMP',
            'TMP',
            'LANG',
            'LC_ALL',
            'XDG_CACHE_HOME',
            'XDG_CONFIG_HOME',
            'XDG_DATA_HOME',
            'NODE_EXTRA_CA_CERTS',
            'USERPROFILE',
          ].includes(k),
      ),
    ).toEqual([]);
  });

  it('quarantines a tool whose definition changes mid-session within 1 s, tells the client, and audits it', async () => {
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('rp__rug');
    expect(textOf(await client.callTool({ name: 'rp__rug', arguments: { q: 'a' } }))).toBe('results for a');
    let notified = false;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notified = true;
    });
    const t0 = performance.now();
    await client.callTool({ name: 'rp__pull_rug', arguments: {} });
    let quarantinedAt = 0;
    while (performance.now() - t0 < 3000) {
      const row = gw.gateway.catalog().find((t) => t.federated === 'rp__rug');
      if (row?.status === 'quarantined') {
        quarantinedAt = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(quarantinedAt).toBeGreaterThan(0);
    expect(quarantinedAt).toBeLessThan(1000);
    console.log(`rug pull quarantined ${quarantinedAt.toFixed(1)} ms after the upstream's change`);
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('rp__rug');
    const err = await client.callTool({ name: 'rp__rug', arguments: { q: 'a' } }).catch((e: Error) => e);
    expect(String(err)).toMatch(/quarantined the tool rp__rug: its definition changed/);
    expect(String(err)).toMatch(/palisade gateway approve --config/);
    const audit = gw.gateway.store.recentAudit(200).find((a) => a.decision === 'quarantined' && a.tool === 'rp__rug');
    expect(audit).toBeDefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(notified).toBe(true);
    expect(alerts).toContainEqual(expect.objectContaining({ event: 'tool.quarantined', tool: 'rp__rug', upstream: 'rp' }));
    // approving pins the new definition and releases it
    expect(await runGatewayCommand(['gateway', 'approve', '--config', gw.file, 'rp__rug'], quiet)).toBe(0);
    expect(textOf(await client.callTool({ name: 'rp__rug', arguments: { q: 'b' } }))).toBe('results for b');
  });

  it('audits every call with principal, upstream, tool, argument hash, decision, latency and size, never the payload', async () => {
    await client.callTool({ name: 'fx__echo', arguments: { text: 'secret-payload-123' } });
    const rec = gw.gateway.store.recentAudit(50).find((a) => a.kind === 'call' && a.tool === 'fx__echo' && a.decision === 'allowed');
    expect(rec).toMatchObject({ principal: 'local', upstream: 'fx', decision: 'allowed' });
    expect(rec!.argHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rec!.latencyMs).toBeGreaterThan(0);
    expect(rec!.resultBytes).toBeGreaterThan(0);
    expect(JSON.stringify(gw.gateway.store.recentAudit(500))).not.toContain('secret-payload-123');
  });
});
