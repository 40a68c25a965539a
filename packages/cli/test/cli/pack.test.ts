// The npm package: `node scripts/pack.mjs` makes palisade-mcp-<version>.tgz, which declares no
// dependencies (the bundle holds the cli, agent, mcp and core code and their libraries); run
// with npx from an empty folder, offline, with an empty npm cache, it scans. The backend is
// not in the package and `serve` says where to get it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

let tmp: string;
let tarball: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-pack-test-'));
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'packages/cli/scripts/pack.mjs'), '--out', path.join(tmp, 'out')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  tarball = r.stdout.trim().split('\n').pop()!;
}, 180_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function npx(args: string[]) {
  const cwd = path.join(tmp, 'empty');
  mkdirSync(cwd, { recursive: true });
  // offline and with a cache of its own: nothing is fetched, nothing of this machine's cache is used
  // a relative path, as a user types it (npx takes an absolute one for a command to run)
  const spec = path.relative(cwd, tarball);
  return spawnSync('npx', ['--yes', '--offline', '--cache', path.join(tmp, 'npm-cache'), spec, ...args], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', PALISADE_STATE_DIR: path.join(tmp, 'state') } });
}

describe('npm package palisade-mcp', () => {
  it('is named palisade-mcp, installs the palisade binary, and carries the bundle but no dependencies', () => {
    expect(path.basename(tarball)).toMatch(/^palisade-mcp-\d+\.\d+\.\d+\.tgz$/);
    const list = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
    expect(list).toEqual(expect.arrayContaining(['package/package.json', 'package/bin/palisade.js', 'package/dist/palisade.cjs', 'package/lib/agent/package.json']));
    expect(list.some((f) => /^package\/lib\/core\/advisories\/GHSA-.*\.json$/.test(f))).toBe(true);
    const manifest = JSON.parse(spawnSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }).stdout);
    expect(manifest).toMatchObject({ name: 'palisade-mcp', bin: { palisade: 'bin/palisade.js' }, dependencies: {} });
  });

  it('npx ./palisade-mcp-*.tgz scan works in an empty folder, offline', () => {
    const home = path.join(tmp, 'home');
    mkdirSync(path.join(home, '.cursor'), { recursive: true });
    writeFileSync(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@latest', '/tmp'] } } }));
    const r = npx(['scan', '--json', '--home', home, '--platform', 'linux']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.servers.map((s: { name: string; client: string }) => `${s.client}/${s.name}`)).toEqual(['cursor/files']);
    expect(report.servers[0].findings.map((f: { ruleId: string }) => f.ruleId)).toContain('PAL-C003');
    expect(readdirSync(path.join(tmp, 'empty'))).toEqual([]);
  }, 120_000);

  it('commands outside the bundle run from it too; serve says the backend is not in the package', () => {
    const rules = npx(['rules']);
    expect(rules.status, rules.stderr).toBe(0);
    expect(rules.stdout).toMatch(/^ID\s+SEVERITY/);
    const list = npx(['advisories', 'list']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/GHSA-/);
    const serve = npx(['serve']);
    expect(serve.status).toBe(2);
    expect(serve.stderr).toMatch(/^palisade: the backend \(palisade serve\) is not part of the palisade-mcp package.*Palisade repository/);
  }, 120_000);
});
