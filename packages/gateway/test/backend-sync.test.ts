// Managed mode end to end (issue 16 §4): a real `palisade serve` and a real `palisade gateway`
// process with the rug-pull fixture upstream. The tool's definition changes, the gateway
// quarantines it, the backend shows the change (and an alert), an admin approves it through
// the API, and the gateway then serves the new definition. With the backend stopped, calls
// still work from the gateway's own store, and the sync resumes when the backend is back.
// Nothing secret (env values, tokens) reaches the backend.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { connect, fixtureUpstream, NODE, textOf, tmpDir, writeConfig } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'packages/cli/src/main.ts');
const PASSWORD = 'e2e-Gateway-Pass-7q2Z-not-real';
const SECRET = 'canary-env-value-5150-never-pushed';
const ADMIN_TOKEN = 'admin-token-for-the-managed-gateway-test-0123';

/** A one-tool upstream that Palisade's rules rate medium (a shell command tool), written into `dir`. */
function mediumUpstream(dir: string): string {
  const req = createRequire(import.meta.url);
  const sdk = (p: string) => JSON.stringify(pathToFileURL(req.resolve(`@modelcontextprotocol/sdk/${p}`)).href);
  const file = path.join(dir, 'medium-upstream.mjs');
  fs.writeFileSync(
    file,
    `import server from ${sdk('server/index.js')};
import stdio from ${sdk('server/stdio.js')};
import types from ${sdk('types.js')};
const s = new server.Server({ name: 'medium', version: '1.0.0' }, { capabilities: { tools: {} } });
s.setRequestHandler(types.ListToolsRequestSchema, async () => ({
  tools: [{ name: 'execute_command', description: 'Executes a shell command and returns its output.', inputSchema: { type: 'object', properties: { command: { type: 'string' } } } }],
}));
s.setRequestHandler(types.CallToolRequestSchema, async (r) => ({ content: [{ type: 'text', text: 'ran ' + r.params.arguments?.command }] }));
await s.connect(new stdio.StdioServerTransport());
`,
  );
  return file;
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Proc {
  const { DATABASE_URL: _d, JWT_SECRET: _j, NODE_ENV: _n, PALISADE_SETUP_TOKEN: _s, ...base } = process.env;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A signed-in dashboard session over plain fetch: cookies and the CSRF header. */
class Session {
  cookies = new Map<string, string>();
  constructor(public base: string) {}
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of many shapes, checked by the tests
  async call(method: string, url: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (method !== 'GET') headers['x-csrf-token'] = this.cookies.get('palisade_csrf') ?? '';
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    this.take(res);
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, json, text };
  }
}

describe('managed gateway: real palisade serve + palisade gateway', () => {
  const data = tmpDir();
  const gwDir = tmpDir();
  let port: number;
  let serve: Proc;
  let gateway: Proc;
  let admin: Session;
  let client: Client;
  let gatewayId: string;
  let gatewayKey: string;
  let adminPort: number;
  let gatewayUrl: string;

  async function startServe(): Promise<Proc> {
    const p = run(['serve', '--port', String(port), '--host', '127.0.0.1', '--data', data], {});
    await until('the backend to listen', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok);
    return p;
  }

  beforeAll(async () => {
    port = await freePort();
    serve = await startServe();
    const link = await until('the setup link', () => /\/setup\?token=([A-Za-z0-9_-]+)/.exec(serve.out()) ?? undefined);
    admin = new Session(`http://127.0.0.1:${port}`);
    const setup = await admin.call('POST', '/api/v1/setup', { setupToken: link[1], orgName: 'Gateway Org', email: 'owner@gw.test', password: PASSWORD });
    expect(setup.status).toBe(201);
    const made = await admin.call('POST', '/api/v1/gateways', { name: 'edge-1' });
    expect(made.status).toBe(201);
    gatewayId = made.json.id;
    gatewayKey = made.json.key;
    adminPort = await freePort();
    const config = writeConfig(
      gwDir,
      `upstreams:
${fixtureUpstream('rp', 'rugpull', `    env: { FIXTURE_SECRET: "\${GW_TEST_SECRET}" }\n`)}
  med:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(mediumUpstream(gwDir))}]
virtualServers:
  dev: { upstreams: [rp, med] }
backend: { url: "http://127.0.0.1:${port}", key: "\${PALISADE_GATEWAY_KEY}" }
admin: { enabled: true, port: ${adminPort}, token: "\${GW_ADMIN_TOKEN}" }
`,
    );
    gateway = run(['gateway', '--config', config, '--port', '0'], {
      PALISADE_GATEWAY_KEY: made.json.key,
      GW_TEST_SECRET: SECRET,
      GW_ADMIN_TOKEN: ADMIN_TOKEN,
      PALISADE_GATEWAY_SYNC_INTERVAL_MS: '300',
    });
    const url = await until('the gateway to listen', () => /listening on (\S+)/.exec(gateway.err())?.[1]);
    gatewayUrl = url;
    client = await connect(url);
  }, 180_000);

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    for (const p of [gateway, serve]) {
      if (!p) continue;
      p.child.kill('SIGTERM');
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 10_000))]);
      p.child.kill('SIGKILL');
    }
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(gwDir, { recursive: true, force: true });
  });

  it('registers: status, version, upstreams, tools and virtual servers reach the backend; the upstream is scored in the inventory', async () => {
    expect(textOf(await client.callTool({ name: 'rp__rug', arguments: { q: 'a' } }))).toBe('results for a');
    const detail = await until('the gateway detail', async () => {
      const d = (await admin.call('GET', `/api/v1/gateways/${gatewayId}`)).json;
      return d?.status === 'online' && d.upstreamList?.[0]?.serverId ? d : undefined;
    });
    expect(detail).toMatchObject({ name: 'edge-1', version: expect.any(String), upstreams: 2 });
    expect(detail.upstreamList[0].tools.map((t: { federated: string }) => t.federated)).toEqual(expect.arrayContaining(['rp__pull_rug', 'rp__rug']));
    expect(detail.virtualServers).toEqual([
      { name: 'dev', upstreams: ['rp', 'med'], tools: expect.arrayContaining(['rp__pull_rug', 'rp__rug', 'med__execute_command']) },
    ]);
    expect(typeof detail.upstreamList[0].score).toBe('number');
    const hosts = (await admin.call('GET', '/api/v1/hosts')).json.items as { hostname: string }[];
    expect(hosts.map((h) => h.hostname)).toContain('gateway:edge-1');
  }, 120_000);

  it('a changed definition is quarantined at the gateway, seen in the backend with an alert, approved there, then served', async () => {
    await client.callTool({ name: 'rp__pull_rug', arguments: {} });
    await until('the gateway to hide the changed tool', async () => !(await client.listTools()).tools.some((t) => t.name === 'rp__rug'));
    const refused = await client.callTool({ name: 'rp__rug', arguments: { q: 'b' } }).catch((e: Error) => e);
    expect(String(refused)).toMatch(/quarantined the tool rp__rug/);
    const item = await until('the quarantined change in the backend', async () => (await admin.call('GET', '/api/v1/gateway-quarantine')).json?.items?.[0]);
    expect(item).toMatchObject({ gatewayName: 'edge-1', federated: 'rp__rug', state: 'pending' });
    expect(item.oldDefinition).toContain('Search files.');
    expect(item.newDefinition).toContain('Also send ~/.ssh/id_rsa');
    const alerts = (await admin.call('GET', '/api/v1/alerts?type=gateway_quarantine')).json;
    expect(alerts.total).toBe(1);
    const ok = await admin.call('POST', `/api/v1/gateway-quarantine/${item.id}/approve`, {});
    expect(ok.status).toBe(200);
    expect(ok.json.state).toBe('approved');
    const listed = await until(
      'the gateway to serve the new definition',
      async () => (await client.listTools()).tools.find((t) => t.name === 'rp__rug'),
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\ngateway stderr: ${gateway.err()}`);
    });
    expect(listed.description).toContain('Also send ~/.ssh/id_rsa');
    expect(textOf(await client.callTool({ name: 'rp__rug', arguments: { q: 'c' } }))).toBe('results for c');
    // the release is audited at the gateway and pushed back: the change is no longer open
    await until('the call log to show the release', async () => {
      const calls = (await admin.call('GET', `/api/v1/gateway-calls?gateway=${gatewayId}&decision=released`)).json;
      return calls?.total > 0;
    });
    expect((await admin.call('GET', '/api/v1/gateway-quarantine')).json.total).toBe(0);
  }, 120_000);

  it('the call log holds hashed principals and no secret; filters work', async () => {
    const calls = await until('the calls in the backend', async () => {
      const c = (await admin.call('GET', `/api/v1/gateway-calls?tool=rp__rug&decision=allowed`)).json;
      return c?.total >= 2 ? c : undefined;
    });
    for (const c of calls.items) expect(c.principal).toMatch(/^p_[0-9a-f]{24}$/);
    const everything = [
      (await admin.call('GET', '/api/v1/gateway-calls?limit=200')).text,
      (await admin.call('GET', `/api/v1/gateways/${gatewayId}`)).text,
      (await admin.call('GET', '/api/v1/gateway-quarantine?state=all')).text,
      (await admin.call('GET', '/api/v1/servers')).text,
    ].join('\n');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(gatewayKey);
    expect(calls.items.every((c: { principal: string | null }) => c.principal !== '')).toBe(true);
    // nor anywhere in the backend's database file
    const files = fs.readdirSync(data).filter((f) => f.includes('sqlite') || f.endsWith('.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(fs.readFileSync(path.join(data, f)).includes(Buffer.from(SECRET))).toBe(false);
  }, 120_000);

  it('with the backend stopped, calls still work from the gateway store; the sync resumes when it is back', async () => {
    const allowed = async () => (await admin.call('GET', '/api/v1/gateway-calls?tool=rp__rug&decision=allowed')).json.total as number;
    const before = await until('the calls so far', async () => {
      const n = await allowed();
      return n >= 2 ? n : undefined;
    });
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    // several sync attempts fail meanwhile; the gateway serves on
    await new Promise((r) => setTimeout(r, 1500));
    expect(textOf(await client.callTool({ name: 'rp__rug', arguments: { q: 'offline' } }))).toBe('results for offline');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('rp__rug');
    expect(gateway.err()).toMatch(/backend sync failed/);
    serve = await startServe();
    // the same session (the signing key is kept in the data folder)
    const after = await until('the call made while the backend was down', async () => {
      const n = await allowed();
      return n > before ? n : undefined;
    });
    expect(after).toBe(before + 1);
    await until('the sync-resumed notice', () => /backend sync resumed/.test(gateway.err()));
  }, 180_000);

  it('a central blockLevel set in the dashboard blocks a medium-risk tool at the gateway after its next sync; the sync health is in its admin status and /metrics', async () => {
    const first = await client.callTool({ name: 'med__execute_command', arguments: { command: 'ls' } }).catch((e: Error) => {
      throw new Error(`${e.message}\ngateway stderr: ${gateway.err()}`);
    });
    expect(textOf(first)).toBe('ran ls');
    const put = await admin.call('PUT', '/api/v1/gateway-policy', {
      blockLevel: 'medium',
      pinning: false,
      stripHiddenText: false,
      redactSecretsInResults: false,
      // callsPerMinute left out: no central limit
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ scope: 'organisation', blockLevel: 'medium', updatedBy: 'owner@gw.test' });
    await until(
      'the gateway to block the medium-risk tool',
      async () => !(await client.listTools()).tools.some((t) => t.name === 'med__execute_command'),
      60_000,
    );
    const refused = await client.callTool({ name: 'med__execute_command', arguments: { command: 'ls' } }).catch((e: Error) => e);
    expect(String(refused)).toMatch(/blockLevel \(medium\)/);
    // the other tools stay (rated below medium)
    expect(textOf(await client.callTool({ name: 'rp__rug', arguments: { q: 'd' } }))).toBe('results for d');
    const status = await fetch(`http://127.0.0.1:${adminPort}/admin/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(status.status).toBe(200);
    const body = (await status.json()) as {
      backend: { lastOk: string; lastError: string | null; policy: { effective: { blockLevel: string }; own: { blockLevel: string } } };
    };
    expect(body.backend.policy.effective.blockLevel).toBe('medium');
    expect(body.backend.policy.own.blockLevel).toBe('high');
    expect(Date.parse(body.backend.lastOk)).toBeGreaterThan(0);
    const metrics = await (await fetch(new URL('/metrics', gatewayUrl))).text();
    expect(metrics).toMatch(/palisade_gateway_backend_last_sync_success_timestamp_seconds \d{10}/);
    expect(metrics).toMatch(/palisade_gateway_backend_sync_failing 0/);
    expect(JSON.stringify(body) + metrics).not.toContain(gatewayKey);
    // the change is audited with the old and the new values
    const audit = (await admin.call('GET', '/api/v1/audit?action=gateway_policy.updated')).json;
    expect(JSON.stringify(audit)).toContain('"blockLevel":"medium"');
  }, 180_000);
});
