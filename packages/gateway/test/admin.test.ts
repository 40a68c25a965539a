import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ConfigError, parseConfig } from '../src/index.js';
import { connect, fixtureUpstream, rawRequest, startFromYaml, textOf } from './helpers.js';

const TOKEN = 'adm_' + 'k3y'.repeat(12);
const ENV = { ...process.env, PALISADE_ADMIN_TOKEN: TOKEN };

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('admin API: config', () => {
  const problem = (text: string, env: Record<string, string> = {}): ConfigError => {
    try {
      parseConfig(`upstreams: {}\n${text}`, '/tmp/gateway.yaml', env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('is off by default and, when enabled, needs a loopback host and a token given by reference', () => {
    const cfg = parseConfig('upstreams: {}\n', '/tmp/gateway.yaml', {});
    expect(cfg.admin.enabled).toBe(false);
    expect(problem('admin: { enabled: true }\n').message).toMatch(/needs a token/);
    expect(problem('admin: { enabled: true, host: 0.0.0.0, token: "${T}" }\n', { T: TOKEN }).message).toMatch(/loopback address only/);
    expect(problem('admin: { enabled: true, host: 192.168.1.5, token: "${T}" }\n', { T: TOKEN }).message).toMatch(/loopback/);
    expect(problem(`admin: { enabled: true, token: "${TOKEN}" }\n`).message).toMatch(/environment reference/);
    expect(problem('admin: { enabled: true, token: "${T}" }\n', { T: 'short' }).message).toMatch(/too short/);
    expect(problem('admin: { enabled: true, tokenSha256: "abc" }\n').message).toMatch(/tokenSha256/);
    const ok = parseConfig('upstreams: {}\nadmin: { enabled: true, host: "::1", port: 9999, token: "${T}" }\n', '/tmp/gateway.yaml', { T: TOKEN });
    expect(ok.admin).toMatchObject({ enabled: true, host: '::1', port: 9999, token: TOKEN });
  });

  it('a gateway without admin.enabled has no admin listener', async () => {
    const gw = await startFromYaml(`upstreams:\n${fixtureUpstream('fx')}`);
    try {
      expect(gw.adminUrl).toBeUndefined();
    } finally {
      await gw.close();
    }
  });
});

describe('admin API: pins, quarantine, approvals, status', () => {
  let gw: Awaited<ReturnType<typeof startFromYaml>>;
  let client: Client;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const call = async (method: string, path: string, headers: Record<string, string> = auth) => {
    const u = new URL(gw.adminUrl!);
    const r = await rawRequest(`${u.origin}${path}`, { method, headers: { host: u.host, ...headers } });
    return { status: r.status, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} };
  };

  beforeAll(async () => {
    gw = await startFromYaml(
      `
upstreams:
${fixtureUpstream('rp', 'rugpull')}
${fixtureUpstream('px', 'poisoned')}
policy: { blockLevel: high }
admin: { enabled: true, port: 0, token: "\${PALISADE_ADMIN_TOKEN}" }
`,
      { env: ENV },
    );
    client = await connect(gw.url!);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gw?.close();
  });

  it('listens on loopback on its own port, and refuses requests without the token, with an Origin, or for another Host', async () => {
    const u = new URL(gw.adminUrl!);
    expect(u.hostname).toBe('127.0.0.1');
    expect(u.port).not.toBe(new URL(gw.url!).port);
    expect((await call('GET', '/admin/status', {})).status).toBe(401);
    expect((await call('GET', '/admin/status', { authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect((await call('GET', '/admin/status', { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect((await call('GET', '/admin/status', { ...auth, origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('GET', '/admin/status', { ...auth, host: `evil.example:${u.port}` })).status).toBe(403);
    // the MCP endpoint does not serve the admin API, nor does the admin port serve MCP
    const mcp = new URL(gw.url!);
    expect((await rawRequest(`${mcp.origin}/admin/status`, { headers: { host: mcp.host, ...auth } })).status).not.toBe(200);
    expect((await call('POST', '/mcp')).status).toBe(404);
    expect((await call('POST', '/admin/status')).status).toBe(405);
    expect((await call('GET', '/admin/tools/rp__rug/approve')).status).toBe(405);
  });

  it('lists status, tools, pins, quarantine and approvals', async () => {
    const status = await call('GET', '/admin/status');
    expect(status.status).toBe(200);
    const ups = status.body.upstreams as { name: string; up: boolean }[];
    expect(ups.map((x) => [x.name, x.up]).sort()).toEqual([
      ['px', true],
      ['rp', true],
    ]);
    expect((status.body.tools as { blocked: number }).blocked).toBeGreaterThanOrEqual(1);
    const tools = (await call('GET', '/admin/tools')).body.tools as { federated: string; status: string }[];
    expect(tools.find((t) => t.federated === 'px__notes')?.status).toBe('blocked');
    expect(tools.find((t) => t.federated === 'rp__rug')?.status).toBe('ok');
    const pins = (await call('GET', '/admin/pins')).body.pins as { upstream: string; tool: string; hash: string }[];
    expect(pins.find((p) => p.upstream === 'rp' && p.tool === 'rug')?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('GET', '/admin/quarantine')).body.quarantined).toEqual([]);
    expect((await call('GET', '/admin/approvals')).body.approvals).toEqual([]);
  });

  it('shows a rug pull as quarantined and releases it, visible to MCP clients at once; approves a risk-blocked tool', async () => {
    await client.callTool({ name: 'rp__pull_rug', arguments: {} });
    const q = await waitFor(async () => {
      const list = (await call('GET', '/admin/quarantine')).body.quarantined as { federated: string; currentHash: string; pinnedHash: string }[];
      return list.length ? list : undefined;
    }, 'the quarantine');
    expect(q[0]!.federated).toBe('rp__rug');
    expect(q[0]!.currentHash).not.toBe(q[0]!.pinnedHash);
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('rp__rug');

    const released = await call('POST', '/admin/tools/rp__rug/release');
    expect(released.status).toBe(200);
    // the new definition is pinned, but it asks for ~/.ssh/id_rsa: the risk policy still blocks it
    expect(released.body).toMatchObject({ tool: 'rp__rug', done: 'pinned the changed definition', status: 'blocked' });
    expect((await call('GET', '/admin/quarantine')).body.quarantined).toEqual([]);
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('rp__rug');
    const allowed = await call('POST', '/admin/tools/rp__rug/approve');
    expect(allowed.body).toMatchObject({ done: 'allowed despite its risk (at this definition)', status: 'ok' });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('rp__rug');
    expect(textOf(await client.callTool({ name: 'rp__rug', arguments: { q: 'x' } }))).toBe('results for x');

    const approved = await call('POST', '/admin/tools/px__notes/approve');
    expect(approved.body).toMatchObject({ done: 'allowed despite its risk (at this definition)', status: 'ok' });
    const approvals = (await call('GET', '/admin/approvals')).body.approvals as { upstream: string; tool: string }[];
    expect(approvals.map((a) => `${a.upstream}/${a.tool}`)).toEqual(['px/notes', 'rp/rug']);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('px__notes');

    expect((await call('POST', '/admin/tools/nope__nothing/approve')).status).toBe(404);
    expect((await call('GET', '/admin/secrets')).status).toBe(404);
  });

  it('audits every admin request, refused ones included, without the token', async () => {
    const audit = gw.gateway.store.recentAudit(500).filter((r) => r.kind === 'admin');
    const decisions = new Set(audit.map((r) => r.decision));
    for (const d of ['unauthorized', 'forbidden', 'allowed', 'approved', 'not-found']) expect(decisions, d).toContain(d);
    const rug = audit.filter((r) => r.decision === 'approved' && r.tool === 'rp__rug').map((r) => r.reason);
    expect(rug.some((x) => /release: pinned the changed definition/.test(String(x)))).toBe(true);
    expect(rug.some((x) => /approve: allowed despite its risk/.test(String(x)))).toBe(true);
    expect(JSON.stringify(gw.gateway.store.recentAudit(1000))).not.toContain(TOKEN);
    expect(JSON.stringify(gw.gateway.store.recentAudit(1000))).not.toContain(createHash('sha256').update(TOKEN).digest('hex'));
  });
});
