// The shipped path: bin/palisade.js running the esbuild bundle with its V8 code cache. Built
// into a temp copy (bin/ + dist/) so the shared dist/ is left alone; files the bundled code finds
// next to itself (the curated advisories, package.json) must still be found.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '@palisade/core';
import { makeFixtureHome, repoRoot, secretsIn, type FixtureHome } from './helpers.js';

let tmp: string;
let bin: string;
let fx: FixtureHome;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-test-'));
  bin = path.join(tmp, 'bin', 'palisade.js');
  mkdirSync(path.dirname(bin), { recursive: true });
  copyFileSync(path.join(repoRoot, 'packages/cli/bin/palisade.js'), bin);
  const built = spawnSync(process.execPath, [path.join(repoRoot, 'packages/cli/scripts/bundle.mjs')], {
    env: { ...process.env, PALISADE_BUNDLE_DIR: path.join(tmp, 'dist'), PALISADE_BUNDLE_BIN: bin },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(built.status, built.stderr).toBe(0);
  fx = makeFixtureHome();
  // a known-vulnerable pinned version (test fixture): matched against the curated advisories
  writeFileSync(fx.claudeConfig, JSON.stringify({ mcpServers: { 'vulnerable-remote': { command: 'npx', args: ['-y', 'mcp-remote@0.1.15', 'https://mcp.example.com/sse'] }, ...(JSON.parse(readFileSync(fx.claudeConfig, 'utf8')) as { mcpServers: object }).mcpServers } }));
}, 180_000);

afterAll(() => {
  fx?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

function run(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PALISADE_STATE_DIR: path.join(tmp, 'state') }, timeout: 60_000 });
}

describe('bin/palisade.js with the bundle', () => {
  it('writes the bundle and its code cache', () => {
    expect(existsSync(path.join(tmp, 'dist', 'palisade.cjs'))).toBe(true);
    expect(existsSync(path.join(tmp, 'dist', 'palisade.cjs.cache'))).toBe(true);
  });

  it('keeps the MCP SDK and zod out of the scan bundle, in lazily required files', () => {
    const main = readFileSync(path.join(tmp, 'dist', 'palisade.cjs'), 'utf8');
    expect(main).not.toContain('StdioClientTransport');
    expect(main).not.toContain('ZodError');
    expect(readFileSync(path.join(tmp, 'dist', 'palisade-lazy.cjs'), 'utf8')).toContain('StdioClientTransport');
    expect(readFileSync(path.join(tmp, 'dist', 'palisade-zod.cjs'), 'utf8')).toContain('ZodError');
    // the full YAML parser too: plain config YAML is read without it
    expect(main).not.toContain('Map keys must be unique');
    expect(readFileSync(path.join(tmp, 'dist', 'palisade-yaml.cjs'), 'utf8')).toContain('Map keys must be unique');
  });

  it('reads plain YAML itself and the rest with the lazily loaded yaml parser, errors included', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-yaml-'));
    try {
      // Goose: plain YAML (the small reader); Continue: an anchor and an alias (the yaml package)
      mkdirSync(path.join(home, '.config', 'goose'), { recursive: true });
      writeFileSync(path.join(home, '.config', 'goose', 'config.yaml'), 'extensions:\n  fetch:\n    name: fetch\n    enabled: true\n    type: stdio\n    cmd: uvx\n    args: [mcp-server-fetch]\n');
      mkdirSync(path.join(home, '.continue'), { recursive: true });
      writeFileSync(path.join(home, '.continue', 'config.yaml'), 'name: a\nversion: 1.0.0\nschema: v1\nx-args: &args ["-y", "@acme/mcp-tool@1.2.3"]\nmcpServers:\n  - name: tool\n    command: npx\n    args: *args\n');
      const r = run(['scan', '--json', '--home', home, '--platform', 'linux']);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ScanReport;
      expect(report.servers.find((s) => s.name === 'fetch')?.args).toEqual(['mcp-server-fetch']);
      expect(report.servers.find((s) => s.name === 'tool')?.args).toEqual(['-y', '@acme/mcp-tool@1.2.3']);
      // a broken file: the yaml package's error, as a client error
      writeFileSync(path.join(home, '.config', 'goose', 'config.yaml'), 'extensions:\n  a: 1\n  a: 2\n');
      const broken = JSON.parse(run(['scan', '--json', '--home', home, '--platform', 'linux']).stdout) as ScanReport;
      expect(broken.clients.find((c) => c.id === 'goose')?.error).toMatch(/invalid YAML/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a scan that reads imported advisory records loads zod from its own file', () => {
    // test fixture: the curated mcp-remote record under a made-up id
    const record = JSON.parse(readFileSync(path.join(repoRoot, 'packages/core/advisories/GHSA-6xpm-ggf7-wc3p.json'), 'utf8')) as { id: string; aliases?: string[] };
    const file = path.join(tmp, 'imported-osv.json');
    writeFileSync(file, JSON.stringify([{ ...record, id: 'PALTEST-0001', aliases: ['CVE-2099-0001'] }]));
    const imported = run(['advisories', 'import', file]);
    expect(imported.status, imported.stderr).toBe(0);
    const r = run(['scan', '--json', '--home', fx.home, '--platform', 'linux']);
    expect(r.status, r.stderr).toBe(0);
    const remote = (JSON.parse(r.stdout) as ScanReport).servers.find((s) => s.name === 'vulnerable-remote')!;
    expect(remote.findings.some((f) => f.ruleId === 'PAL-V001' && /PALTEST-0001/.test(f.evidence + f.message))).toBe(true);
  });

  it('scan --probe loads the lazy part and probes (a server that exits at once)', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-probe-'));
    try {
      mkdirSync(path.join(home, '.cursor'));
      writeFileSync(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { quits: { command: process.execPath, args: ['-e', 'process.exit(3)'] } } }));
      const r = run(['scan', '--json', '--probe', '--probe-timeout', '20', '--home', home, '--platform', 'linux']);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ScanReport;
      const quits = report.servers.find((s) => s.name === 'quits')!;
      expect(quits.probe?.ok).toBe(false);
      expect(quits.probe?.error).toMatch(/exited/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('scans: version from package.json, advisories found beside core, no secret printed', () => {
    const r = run(['scan', '--json', '--home', fx.home, '--platform', 'linux']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(report.agent.version).toMatch(/^\d+\.\d+\.\d+/);
    const remote = report.servers.find((s) => s.name === 'vulnerable-remote')!;
    expect(remote.findings.some((f) => f.ruleId === 'PAL-V001' && /CVE-2025-6514/.test(f.evidence + f.message))).toBe(true);
    expect(secretsIn(r.stdout + r.stderr)).toEqual([]);
  });

  // semver and the PEP 440 library are required on first use in the bundle (scripts/bundle.mjs):
  // an npm range and PyPI versions must still be matched against the advisories
  it('matches npm ranges and PyPI versions against advisories with the lazily loaded version libraries', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-versions-'));
    try {
      mkdirSync(path.join(home, '.cursor'), { recursive: true });
      const servers = {
        'remote-range': { command: 'npx', args: ['-y', 'mcp-remote@^0.1.10', 'https://mcp.example.com/sse'] },
        'remote-fixed': { command: 'npx', args: ['-y', 'mcp-remote@0.1.16', 'https://mcp.example.com/sse'] },
        'git-old': { command: 'uvx', args: ['mcp-server-git==2025.7.1'] },
        'git-new': { command: 'uvx', args: ['mcp-server-git==2026.6.1'] },
      };
      writeFileSync(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: servers }));
      const r = run(['scan', '--json', '--home', home, '--platform', 'linux']);
      expect(r.status, r.stderr).toBe(0);
      const v001 = (name: string) => (JSON.parse(r.stdout) as ScanReport).servers.find((s) => s.name === name)!.findings.filter((f) => f.ruleId === 'PAL-V001');
      expect(v001('remote-range').map((f) => f.evidence).join(' ')).toMatch(/CVE-2025-6514.*possibly affected/);
      expect(v001('remote-fixed')).toEqual([]);
      expect(v001('git-old').map((f) => f.evidence).join(' ')).toMatch(/CVE-2025-68143.*affected/);
      expect(v001('git-new')).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('writes the same JSON to a pipe whose reader falls behind as to a file (pieces held by the stream are not reused)', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-pipe-'));
    try {
      // ~2 MB of output: far more than a pipe holds, so writes queue while the reader waits
      const servers = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`srv-${i}`, { command: 'npx', args: ['-y', `@acme/mcp-tool-${i}@1.2.${i}`, `/home/user/projects/p${i}`, '--mode', 'x'.repeat(200)] }]));
      mkdirSync(path.join(home, '.cursor'), { recursive: true });
      writeFileSync(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: servers }));
      const file = path.join(home, 'report.json');
      expect(run(['scan', '--json', '--home', home, '--platform', 'linux', '--output', file]).status).toBe(0);
      const child = spawn(process.execPath, [bin, 'scan', '--json', '--home', home, '--platform', 'linux'], { env: { ...process.env, PALISADE_STATE_DIR: path.join(tmp, 'state') } });
      const chunks: Buffer[] = [];
      child.stdout.pause();
      // read nothing for a while, then slowly, so the writer meets a full pipe more than once
      await new Promise((r) => setTimeout(r, 1500));
      child.stdout.on('data', (c: Buffer) => {
        chunks.push(c);
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 2);
      });
      child.stdout.resume();
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(code).toBe(0);
      const piped = Buffer.concat(chunks).toString('utf8');
      expect(piped.length).toBeGreaterThan(1_000_000);
      const noTime = (t: string) => t.replace(/"scannedAt": "[^"]+"/, '"scannedAt": ""');
      expect(noTime(piped)).toBe(noTime(readFileSync(file, 'utf8')));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);

  // The build fills the code cache with a scan of this home (scripts/bundle.mjs) and the scan
  // bench measures one: every known client must be in it, in a shape its own parser reads.
  it('the warm-up home configures every known client, and the bundled scan reads each back', async () => {
    const { writeEveryClientHome } = await import('../../scripts/every-client-home.mjs');
    const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-every-'));
    try {
      const written = await writeEveryClientHome(home, { perFile: 6, platform: 'linux' });
      // Amp keeps its servers in a settings file whose shape none of the home's writers produce
      expect(written.missing).toEqual(['amp']);
      expect(new Set(written.targets.map((t) => t.client)).size).toBe(written.clients - 1);
      const r = run(['scan', '--json', '--home', home, '--platform', 'linux']);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ScanReport;
      expect(report.clients.filter((c) => c.error)).toEqual([]);
      for (const t of written.targets) expect(report.clients.find((c) => c.configPath === t.path)?.serverCount, t.path).toBe(t.count);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);

  // Servers copied with an object spread got a V8 hidden class each (471 for the bench's 500),
  // so every read of a server field in the rules missed the inline caches (core/src/copy.ts).
  // --log-ic records each miss; a site that has seen too many shapes ('N', megamorphic) logs
  // one per object it cannot find in V8's stub cache. Without the fix: ~30 per server here.
  it('keeps servers on shared hidden classes: few megamorphic inline-cache misses per server', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-ic-'));
    try {
      // the bench's six server shapes, 100 of each client (test fixture values only)
      const { serverSpec } = await import('../../scripts/every-client-home.mjs');
      const spec = (i: number): Record<string, unknown> => {
        const { name: _name, ...entry } = serverSpec(i, 'ghp_TestFixtureNotARealToken0123456789ab');
        return entry;
      };
      const map = (prefix: string, f: (s: Record<string, unknown>) => unknown = (s) => s) => Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${prefix}-${i}`, f(spec(i))]));
      const files: Record<string, unknown> = {
        '.config/Claude/claude_desktop_config.json': { mcpServers: map('cd') },
        '.cursor/mcp.json': { mcpServers: map('cu') },
        '.config/Code/User/mcp.json': { servers: map('vs', (s) => ({ type: s.url ? 'http' : 'stdio', ...s })) },
      };
      for (const [rel, value] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
        writeFileSync(path.join(home, rel), JSON.stringify(value, null, 2));
      }
      const log = path.join(home, 'ic.log');
      const r = spawnSync(process.execPath, ['--log-ic', `--logfile=${log}`, '--no-logfile-per-isolate', bin, 'scan', '--json', '--home', home, '--platform', 'linux'], {
        encoding: 'utf8',
        env: { ...process.env, PALISADE_STATE_DIR: path.join(tmp, 'state') },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as ScanReport).servers).toHaveLength(300);
      // LoadIC,pc,time,line,column,old state,new state,map,key,...
      const ics = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => /^\w+IC,/.test(l))
        .map((l) => l.split(','));
      // the log still has this shape (a Node that logs differently fails here, not silently below)
      expect(ics.length).toBeGreaterThan(1000);
      const megamorphicMisses = ics.filter((f) => f[5] === 'N' && f[6] === 'N').length;
      expect(megamorphicMisses).toBeLessThan(300);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps the exit codes: 1 for --fail-on, 2 for usage errors', () => {
    expect(run(['scan', '--home', fx.home, '--platform', 'linux', '--fail-on', 'high']).status).toBe(1);
    const bad = run(['scan', '--json', '--sarif']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/cannot be used with/);
    expect(run(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
