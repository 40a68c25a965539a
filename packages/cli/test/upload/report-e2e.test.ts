// `palisade configure`, `report` and `daemon` as real processes against a real backend
// (the server's app factory on 127.0.0.1:0, SQLite in a temp folder): delivered, spooled
// while the backend is down and resent in order once it is back, rejected reports kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, withOrg, type BuiltApp } from '@palisade/server';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
// test fixtures only: a signing key and a setup token that never leave this test
const JWT = 'test-fixture-jwt-key-UPLOADxL7mB4vR8nT1kW6zY3hJ5cD0sAeGu';
const SETUP = 'test-fixture-setup-token-upload-0123';
const PASSWORD = 'fixture-Pass-9x7Q-not-real';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env, PALISADE_SERVER: '', PALISADE_API_KEY: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function startBackend(dataDir: string): Promise<{ built: BuiltApp; url: string }> {
  const built = await buildApp({ host: '127.0.0.1', port: 0, dataDir, production: false, jwtSecret: JWT, signupOpen: false, setupToken: SETUP, webDir: null, logLevel: 'silent' });
  await built.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = built.app.server.address();
  return { built, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

function cookiesOf(res: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    jar.set(pair!.slice(0, i), pair!.slice(i + 1));
  }
  return jar;
}

async function writeClaudeConfig(home: string, servers: Record<string, unknown>): Promise<void> {
  const dir = path.join(home, '.config', 'Claude');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'claude_desktop_config.json'), JSON.stringify({ mcpServers: servers }));
}

describe('palisade configure / report / daemon against a real backend', () => {
  let tmp: string;
  let home: string;
  let state: string;
  let dataDir: string;
  let backend: { built: BuiltApp; url: string };
  let orgId: string;
  let key: string;
  let keyId: string;
  let jar: Map<string, string>;
  const base = () => ({ PALISADE_STATE_DIR: state });
  const scanFlags = () => ['--home', home, '--platform', 'linux'];

  const reportsStored = async () =>
    withOrg(backend.built.platform.store, { orgId }, (tx) => tx.selectFrom('reports').innerJoin('hosts', 'hosts.id', 'reports.host_id').select(['reports.server_count', 'reports.received_at']).where('reports.org_id', '=', orgId).orderBy('reports.received_at').execute());

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'palisade-upload-'));
    home = path.join(tmp, 'home');
    state = path.join(tmp, 'state');
    dataDir = path.join(tmp, 'data');
    await writeClaudeConfig(home, { files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/tmp'] } });
    backend = await startBackend(dataDir);
    const setup = await fetch(`${backend.url}/api/v1/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setupToken: SETUP, orgName: 'Upload Org', email: 'owner@upload.test', password: PASSWORD }) });
    expect(setup.status).toBe(201);
    orgId = ((await setup.json()) as { org: { id: string } }).org.id;
    jar = cookiesOf(setup);
    const created = await fetch(`${backend.url}/api/v1/agent-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': jar.get('palisade_csrf')! },
      body: JSON.stringify({ name: 'upload test' }),
    });
    expect(created.status).toBe(201);
    ({ key, id: keyId } = (await created.json()) as { key: string; id: string });
  }, 60_000);

  afterAll(async () => {
    await backend?.built.app.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('configure stores the settings 0600 and refuses plain http to another host', async () => {
    const bad = await cli(['configure', '--server', 'http://palisade.example.test', '--api-key', key], base());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/plain http/);
    // the key is checked against the backend before anything is saved
    const wrong = await cli(['configure', '--server', backend.url, '--api-key', 'pal_not_a_key_of_this_backend_0000000'], base());
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^palisade: the backend at .* does not accept this agent key \(it is unknown or revoked\)/);
    await expect(fs.stat(path.join(state, 'agent.json'))).rejects.toThrow();
    const ok = await cli(['configure', '--server', backend.url, '--api-key', key], base());
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/the key was accepted \(organisation /);
    const st = await fs.stat(path.join(state, 'agent.json'));
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('report sends a scan; the backend stores the host and its servers', async () => {
    const r = await cli(['report', ...scanFlags()], base());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/report sent/);
    const stored = await reportsStored();
    expect(stored.map((x) => x.server_count)).toEqual([1]);
  });

  it('spools while the backend is down and resends in order, once, when it is back', async () => {
    const url = backend.url;
    await backend.built.app.close();
    await writeClaudeConfig(home, { files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/tmp'] }, two: { command: 'uvx', args: ['mcp-server-two==1.0.0'] } });
    const down1 = await cli(['report', ...scanFlags()], base());
    expect(down1.code).toBe(1);
    expect(down1.stderr).toMatch(/spooled/);
    await writeClaudeConfig(home, { files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/tmp'] }, two: { command: 'uvx', args: ['mcp-server-two==1.0.0'] }, three: { url: 'https://mcp.example.test/mcp' } });
    const down2 = await cli(['report', ...scanFlags()], base());
    expect(down2.code).toBe(1);
    const spooled = (await fs.readdir(path.join(state, 'spool'))).filter((f) => f.endsWith('.json'));
    expect(spooled).toHaveLength(2);
    for (const f of spooled) expect((await fs.stat(path.join(state, 'spool', f))).mode & 0o777).toBe(0o600);

    backend = await startBackend(dataDir); // same database, new port
    void url;
    const up = await cli(['report', ...scanFlags()], { ...base(), PALISADE_SERVER: backend.url });
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/2 older spooled/);
    // in order: 2 servers, then 3; the third (identical to the second spooled one) is an unchanged re-report
    expect((await reportsStored()).map((x) => x.server_count)).toEqual([1, 2, 3]);
    expect((await fs.readdir(path.join(state, 'spool'))).filter((f) => f.endsWith('.json'))).toEqual([]);
  }, 90_000);

  it('a report the backend rejects (revoked key) is kept aside with the reason', async () => {
    const headers = { 'content-type': 'application/json', cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': jar.get('palisade_csrf')! };
    const revoked = await fetch(`${backend.url}/api/v1/agent-keys/${keyId}`, { method: 'DELETE', headers: { cookie: headers.cookie, 'x-csrf-token': headers['x-csrf-token'] } });
    expect(revoked.status).toBe(204);
    const r = await cli(['report', ...scanFlags()], { ...base(), PALISADE_SERVER: backend.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rejected the report \(401\)/);
    const kept = await fs.readdir(path.join(state, 'spool', 'rejected'));
    expect(kept.filter((f) => f.endsWith('.reason.txt'))).toHaveLength(1);
  }, 60_000);

  it('daemon reports at start and stops cleanly on SIGTERM', async () => {
    const created = await fetch(`${backend.url}/api/v1/agent-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': jar.get('palisade_csrf')! },
      body: JSON.stringify({ name: 'daemon' }),
    });
    const newKey = ((await created.json()) as { key: string }).key;
    await writeClaudeConfig(home, { only: { command: 'node', args: ['server.js'] } });
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'daemon', '--interval', '1h', ...scanFlags()], { env: { ...process.env, ...base(), PALISADE_SERVER: backend.url, PALISADE_API_KEY: newKey }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!/report sent/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toMatch(/report sent/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/daemon stopped/);
    expect((await reportsStored()).at(-1)!.server_count).toBe(1);
  }, 60_000);
});
