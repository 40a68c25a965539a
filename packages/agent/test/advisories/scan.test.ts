// "Done means": `palisade scan` on a home whose Claude Desktop config runs
// `npx -y mcp-remote@0.1.15 ...` reports CVE-2025-6514 as critical with the fixed version,
// with the network made unusable for the process (any socket connect throws).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
// Loaded before the CLI: a connection attempt of any kind fails loudly, so passing proves no network was used.
const NO_NETWORK = `data:text/javascript,${encodeURIComponent("import net from 'node:net'; const no = () => { throw new Error('network used during scan'); }; net.Socket.prototype.connect = no; net.connect = no; net.createConnection = no; globalThis.fetch = no;")}`;

let tmp: string;
let home: string;
let nmEntry: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pal-scan-adv-'));
  home = path.join(tmp, 'home');
  // a package installed in node_modules and run by path (test fixture)
  const pkgRoot = path.join(tmp, 'tools', 'node_modules', '@modelcontextprotocol', 'inspector');
  mkdirSync(path.join(pkgRoot, 'cli'), { recursive: true });
  writeFileSync(path.join(pkgRoot, 'package.json'), JSON.stringify({ name: '@modelcontextprotocol/inspector', version: '0.14.0' }));
  nmEntry = path.join(pkgRoot, 'cli', 'index.js');
  writeFileSync(nmEntry, '// test fixture\n');
  mkdirSync(path.join(home, '.config', 'Claude'), { recursive: true });
  writeFileSync(
    path.join(home, '.config', 'Claude', 'claude_desktop_config.json'),
    JSON.stringify({
      mcpServers: {
        remote: { command: 'npx', args: ['-y', 'mcp-remote@0.1.15', 'https://mcp.example.com/sse'] },
        'remote-fixed': { command: 'npx', args: ['-y', 'mcp-remote@0.1.16', 'https://mcp.example.com/sse'] },
        'remote-open': { command: 'npx', args: ['-y', 'mcp-remote', 'https://mcp.example.com/sse'] },
        inspector: { command: 'node', args: [nmEntry] },
      },
    }),
  );
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function scanJson(stateDir: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', NO_NETWORK, '--conditions=source', '--import', 'tsx', main, 'scan', '--json', '--home', home, '--platform', 'linux'], { encoding: 'utf8', env: { ...process.env, PALISADE_STATE_DIR: stateDir, NO_COLOR: '1' }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('palisade scan with advisories, offline', () => {
  it('reports CVE-2025-6514 as critical with the fixed version, and only where it applies', async () => {
    const r = await scanJson(path.join(tmp, 'state'));
    expect(r.stderr).not.toMatch(/network used/);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { servers: Array<{ name: string; level: string; package?: { resolvedVersion?: string }; findings: Array<{ ruleId: string; severity: string; message: string; evidence: string }> }> };
    const v001 = (name: string) => report.servers.find((s) => s.name === name)!.findings.filter((f) => f.ruleId === 'PAL-V001');

    const [hit] = v001('remote');
    expect(hit).toMatchObject({ severity: 'critical' });
    expect(hit!.evidence).toMatch(/CVE-2025-6514/);
    expect(hit!.evidence).toMatch(/fixed in 0\.1\.16/);
    expect(hit!.message).toMatch(/Move to 0\.1\.16 or later/);
    expect(report.servers.find((s) => s.name === 'remote')!.level).toBe('critical');

    expect(v001('remote-fixed')).toEqual([]);
    expect(v001('remote-open')[0]?.message).toMatch(/^Possibly affected: pin a fixed version\./);

    // run from node_modules: the installed version is read and matched exactly
    expect(report.servers.find((s) => s.name === 'inspector')!.package?.resolvedVersion).toBe('0.14.0');
    expect(v001('inspector')[0]?.evidence).toMatch(/CVE-2025-49596.*affected; fixed in 0\.14\.1/);
  });
});
