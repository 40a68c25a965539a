// Installed versions of unpinned npx/uvx packages, found in local caches. The npx cache is
// made by a real `npx --offline` run from a local tarball; uv's folders (no uv on this
// machine) are laid out as uv lays them out.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/clients/types.js';
import { discover } from '../../src/discover.js';
import { locationContext } from '../../src/paths.js';
import { compareLoose, newest } from '../../src/resolve/version.js';
import { tempDir, write } from './helpers.js';

const run = promisify(execFile);
let tmp: string;
let tarball: string;

beforeAll(async () => {
  tmp = await tempDir();
  const pkg = path.join(tmp, 'pkg');
  await write(pkg, 'package.json', JSON.stringify({ name: 'palisade-fixture-mcp', version: '1.5.0', bin: { 'palisade-fixture-mcp': 'bin.js' } }));
  await write(pkg, 'bin.js', '#!/usr/bin/env node\n');
  await fs.chmod(path.join(pkg, 'bin.js'), 0o755);
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: pkg });
  tarball = path.join(tmp, stdout.trim().split('\n').pop()!);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const config = (servers: Record<string, { command: string; args: string[] }>) => JSON.stringify({ mcpServers: servers });

async function scan(home: string, platform: Platform) {
  return discover({ loc: locationContext({ home, platform }) });
}

describe('installed versions', () => {
  it('finds the newest npx-installed version of an unpinned package (real npx cache)', async () => {
    const home = path.join(tmp, 'npx-home');
    // a real npx run fills <cache>/_npx/<hash>/ ...
    // a relative ./x.tgz spec: an absolute path would be taken for a command to run
    await run('npx', ['--yes', '--offline', '--cache', path.join(home, '.npm'), `./${path.basename(tarball)}`], { cwd: tmp });
    // ... and an older copy from an earlier run sits in another hash folder
    await write(home, '.npm/_npx/0123456789abcdef/package.json', JSON.stringify({ dependencies: { 'palisade-fixture-mcp': '^1.4.0' } }));
    await write(home, '.npm/_npx/0123456789abcdef/node_modules/palisade-fixture-mcp/package.json', JSON.stringify({ name: 'palisade-fixture-mcp', version: '1.4.2' }));
    await write(
      home,
      '.cursor/mcp.json',
      config({
        open: { command: 'npx', args: ['-y', 'palisade-fixture-mcp'] },
        latest: { command: 'npx', args: ['-y', 'palisade-fixture-mcp@latest'] },
        pinned: { command: 'npx', args: ['-y', 'palisade-fixture-mcp@1.4.2'] },
        absent: { command: 'npx', args: ['-y', 'not-in-cache'] },
      }),
    );
    const r = await scan(home, 'linux');
    const pkg = (n: string) => r.servers.find((s) => s.name === n)!.package!;
    expect(pkg('open')).toMatchObject({ name: 'palisade-fixture-mcp', pinned: false, resolvedVersion: '1.5.0' });
    expect(pkg('latest')).toMatchObject({ version: 'latest', resolvedVersion: '1.5.0' });
    expect(pkg('pinned').resolvedVersion).toBeUndefined();
    expect(pkg('absent').resolvedVersion).toBeUndefined();
  }, 60_000);

  it('finds uv tool installs and uv cache archives (linux and darwin layouts)', async () => {
    for (const platform of ['linux', 'darwin'] as const) {
      const home = path.join(tmp, `uv-${platform}`);
      await fs.mkdir(path.join(home, '.local/share/uv/tools/mcp-server-fetch/lib/python3.12/site-packages/mcp_server_fetch-2025.4.7.dist-info'), { recursive: true });
      const cache = platform === 'darwin' ? 'Library/Caches/uv' : '.cache/uv';
      await fs.mkdir(path.join(home, cache, 'archive-v0/Xy12abc/mcp_server_fetch-2025.1.17.dist-info'), { recursive: true });
      await fs.mkdir(path.join(home, cache, 'archive-v0/Zz98def/mcp_server_git-0.6.2.dist-info'), { recursive: true });
      await fs.mkdir(path.join(home, cache, 'archive-v0/Zz98def/mcp_server_git'), { recursive: true });
      await write(
        home,
        '.cursor/mcp.json',
        config({
          fetch: { command: 'uvx', args: ['mcp-server-fetch'] },
          git: { command: 'uvx', args: ['--from', 'mcp-server-git', 'mcp-server-git', '--repository', '.'] },
          pinned: { command: 'uvx', args: ['mcp-server-git==0.5.0'] },
        }),
      );
      const r = await scan(home, platform);
      const pkg = (n: string) => r.servers.find((s) => s.name === n)!.package!;
      expect(pkg('fetch').resolvedVersion, platform).toBe('2025.4.7');
      expect(pkg('git').resolvedVersion, platform).toBe('0.6.2');
      expect(pkg('pinned').resolvedVersion, platform).toBeUndefined();
    }
  });

  it('Windows layouts: %LOCALAPPDATA%\\npm-cache, %APPDATA%\\uv\\data\\tools, %LOCALAPPDATA%\\uv\\cache; cmd /c wrappers', async () => {
    const home = path.join(tmp, 'win');
    await write(home, 'AppData/Local/npm-cache/_npx/aa11/package.json', JSON.stringify({ dependencies: { '@modelcontextprotocol/server-memory': '*' } }));
    await write(home, 'AppData/Local/npm-cache/_npx/aa11/node_modules/@modelcontextprotocol/server-memory/package.json', JSON.stringify({ version: '2025.8.4' }));
    await fs.mkdir(path.join(home, 'AppData/Roaming/uv/data/tools/mcp-server-time/Lib/site-packages/mcp_server_time-2025.7.1.dist-info'), { recursive: true });
    await fs.mkdir(path.join(home, 'AppData/Local/uv/cache/archive-v0/q1/mcp_server_time-2024.1.1.dist-info'), { recursive: true });
    await write(
      home,
      '.cursor/mcp.json',
      config({
        memory: { command: 'cmd', args: ['/c', 'npx', '-y', '@modelcontextprotocol/server-memory'] },
        time: { command: 'uvx.exe', args: ['mcp-server-time'] },
      }),
    );
    const r = await scan(home, 'win32');
    expect(r.servers.find((s) => s.name === 'memory')!.package).toMatchObject({ name: '@modelcontextprotocol/server-memory', resolvedVersion: '2025.8.4' });
    expect(r.servers.find((s) => s.name === 'time')!.package).toMatchObject({ name: 'mcp-server-time', resolvedVersion: '2025.7.1' });
  });

  it('odd cache contents are ignored, never fatal', async () => {
    const home = path.join(tmp, 'odd');
    await write(home, '.npm/_npx/x1/package.json', '{not json');
    await write(home, '.npm/_npx/x2/package.json', JSON.stringify({ dependencies: { pkg: '*' } }));
    await write(home, '.npm/_npx/x2/node_modules/pkg/package.json', JSON.stringify({ version: { evil: true } }));
    await write(home, '.npm/_npx/file-not-dir', 'x');
    await write(home, '.cache/uv/archive-v0', 'a file where a folder should be');
    await write(home, '.cursor/mcp.json', config({ a: { command: 'npx', args: ['pkg'] }, b: { command: 'uvx', args: ['pkg'] } }));
    const r = await scan(home, 'linux');
    expect(r.servers.map((s) => s.package?.resolvedVersion)).toEqual([undefined, undefined]);
  });

  it('orders versions loosely but sensibly', () => {
    expect(newest(['1.2.0', '1.10.0', '1.9.9'])).toBe('1.10.0');
    expect(newest(['2025.4.7', '2025.1.17'])).toBe('2025.4.7');
    expect(compareLoose('1.0.0-beta.1', '1.0.0')).toBe(-1);
    expect(compareLoose('v2.0.0', '2.0.0')).toBe(0);
  });
});
