// `palisade advisories sync` against a local fake of the OSV API, through the real CLI process.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledAdvisoriesDir, type OsvRecord } from '@palisade/core';
import { openStore, syncAdvisories, SyncError } from '../../src/advisories/index.js';
import { startFakeOsv, type FakeOsv } from './fake-osv.js';

const main = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
const rec = (id: string) => JSON.parse(readFileSync(path.join(bundledAdvisoriesDir(), `${id}.json`), 'utf8')) as OsvRecord;

// Records the fake serves: a real one with a newer `modified` than the bundled copy, and a
// made-up PyPI advisory (test fixture) for a package in the fixture home.
const served: OsvRecord[] = [
  { ...rec('GHSA-6xpm-ggf7-wc3p'), modified: '2026-02-01T00:00:00Z' },
  { id: 'TEST-SYNC-0001', modified: '2026-01-01T00:00:00Z', summary: 'test fixture advisory', affected: [{ package: { ecosystem: 'PyPI', name: 'mcp-server-git' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2099.1.1' }] }] }] },
  { id: 'TEST-SYNC-0002', modified: '2026-01-01T00:00:00Z', summary: 'for a package nobody runs', affected: [{ package: { ecosystem: 'npm', name: 'unrelated' } }] },
];

let osv: FakeOsv;
let tmp: string;
let home: string;
beforeAll(async () => {
  osv = await startFakeOsv(served);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pal-sync-'));
  home = path.join(tmp, 'home');
  mkdirSync(path.join(home, '.config', 'Claude'), { recursive: true });
  writeFileSync(
    path.join(home, '.config', 'Claude', 'claude_desktop_config.json'),
    JSON.stringify({ mcpServers: { remote: { command: 'npx', args: ['-y', 'mcp-remote@0.1.15', 'https://mcp.example.com/sse'] }, git: { command: 'uvx', args: ['mcp-server-git', '--repository', '/tmp/r'] } } }),
  );
});
afterAll(async () => {
  await osv.close();
  rmSync(tmp, { recursive: true, force: true });
});

// async on purpose: the fake API answers from this process, so it must not be blocked
function cli(args: string[], stateDir: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args], { encoding: 'utf8', env: { ...process.env, PALISADE_STATE_DIR: stateDir, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('advisories sync', () => {
  it('queries the batch API with names and versions only, fetches new records and stores them', async () => {
    const stateDir = path.join(tmp, 'state-a');
    const s = await syncAdvisories(
      [
        { ecosystem: 'npm', name: 'mcp-remote', version: '0.1.15', pinned: true },
        { ecosystem: 'PyPI', name: 'mcp-server-git', pinned: false },
        { ecosystem: 'docker', name: 'ghcr.io/x/y', version: '1', pinned: true },
      ],
      { stateDir, api: osv.url },
    );
    expect(s).toMatchObject({ queried: 2, found: 2, fetched: 2, added: 2, total: 2 });
    const batch = osv.requests.find((r) => r.path === '/v1/querybatch')!;
    expect(batch.body).toEqual({ queries: [{ package: { ecosystem: 'npm', name: 'mcp-remote' }, version: '0.1.15' }, { package: { ecosystem: 'PyPI', name: 'mcp-server-git' } }] });
    expect(openStore(stateDir)!.get('CVE-2025-6514')?.modified).toBe('2026-02-01T00:00:00Z');
    // a second sync fetches nothing: the stored records are as new as what OSV reports
    const before = osv.requests.length;
    const again = await syncAdvisories([{ ecosystem: 'npm', name: 'mcp-remote', version: '0.1.15', pinned: true }], { stateDir, api: osv.url });
    expect(again).toMatchObject({ fetched: 0, unchanged: 1, added: 0 });
    expect(osv.requests.slice(before).map((r) => r.path)).toEqual(['/v1/querybatch']);
  });

  it('says clearly when the API cannot be reached', async () => {
    const port = await closedPort();
    await expect(syncAdvisories([{ ecosystem: 'npm', name: 'mcp-remote', pinned: false }], { stateDir: path.join(tmp, 'state-b'), api: `http://127.0.0.1:${port}`, timeoutMs: 5000 })).rejects.toThrow(SyncError);
    await expect(syncAdvisories([], { stateDir: path.join(tmp, 'state-b'), api: 'ftp://x' })).rejects.toThrow(/not an http/);
  });

  it('runs from the CLI on the packages a scan of the home finds; offline exits 1 with a sentence', async () => {
    const stateDir = path.join(tmp, 'state-c');
    const ok = await cli(['advisories', 'sync', '--api', osv.url, '--home', home, '--platform', 'linux'], stateDir);
    expect(ok.stderr).not.toMatch(/Error/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/about 2 packages: 2 advisories found, 2 added/);
    const show = await cli(['advisories', 'show', 'TEST-SYNC-0001'], stateDir);
    expect(show.stdout).toMatch(/Affects PyPI mcp-server-git/);
    const port = await closedPort();
    const off = await cli(['advisories', 'sync', '--api', `http://127.0.0.1:${port}`, '--home', home, '--platform', 'linux'], stateDir);
    expect(off.status).toBe(1);
    expect(off.stderr).toMatch(/could not reach the OSV API at http:\/\/127\.0\.0\.1:\d+ .*offline/);
  });
});
