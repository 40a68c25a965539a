// --home / --platform and the real environment: which folders decide, how win32 paths are
// spelled, and how they are read from a fixture home on this (POSIX) machine.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeCode } from '../../src/clients/claude-code.js';
import { claudeDesktop } from '../../src/clients/claude-desktop.js';
import { codex } from '../../src/clients/codex.js';
import { discover } from '../../src/discover.js';
import { imageRoot, locationContext, toHostPath } from '../../src/paths.js';
import { tempDir, write } from './helpers.js';

let tmp: string;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const SERVERS = (name: string) => JSON.stringify({ mcpServers: { [name]: { command: 'node', args: ['x.js'] } } });

describe('--home and --platform', () => {
  it('win32 under --home: %APPDATA% is HOME\\AppData\\Roaming, spelled with path.win32, read from the POSIX folder', async () => {
    const home = path.join(tmp, 'x');
    const file = await write(home, 'AppData/Roaming/Claude/claude_desktop_config.json', SERVERS('win'));
    const loc = locationContext({ home, platform: 'win32' });
    expect(loc.appData).toBe(`${home.replace(/\//g, '\\')}\\AppData\\Roaming`);
    expect(loc.localAppData).toBe(`${home.replace(/\//g, '\\')}\\AppData\\Local`);
    expect(toHostPath(claudeDesktop.locations(loc)[0]!.path, 'win32')).toBe(file);
    const r = await discover({ loc, resolveVersions: false });
    expect(r.clients).toEqual([{ id: 'claude-desktop', name: 'Claude Desktop', configPath: file, serverCount: 1 }]);
  });

  it('linux under --home: XDG_CONFIG_HOME is HOME/.config; darwin: ~/Library/Application Support', () => {
    expect(locationContext({ home: '/h', platform: 'linux' })).toMatchObject({ home: '/h', xdgConfig: '/h/.config', appData: '/h/.config' });
    expect(locationContext({ home: '/h', platform: 'darwin' })).toMatchObject({ appData: '/h/Library/Application Support', xdgConfig: '/h/.config' });
  });

  it('ignores environment overrides under --home', () => {
    const loc = locationContext({ home: '/h', platform: 'linux', env: { CLAUDE_CONFIG_DIR: '/elsewhere', CODEX_HOME: '/elsewhere', XDG_CONFIG_HOME: '/elsewhere' } });
    expect(loc.env).toEqual({});
    expect(loc.xdgConfig).toBe('/h/.config');
    expect(claudeCode.locations(loc)[0]!.path).toBe('/h/.claude.json');
    expect(codex.locations(loc)[0]!.path).toBe('/h/.codex/config.toml');
  });

  it('without --home the real environment decides (CLAUDE_CONFIG_DIR, CODEX_HOME, XDG_CONFIG_HOME)', async () => {
    const home = path.join(tmp, 'envhome');
    const ccDir = path.join(tmp, 'cc-profile');
    const codexHome = path.join(tmp, 'codex-home');
    await write(ccDir, '.claude.json', SERVERS('from-profile'));
    await write(home, '.claude.json', SERVERS('from-home'));
    await write(codexHome, 'config.toml', '[mcp_servers.from-codex-home]\ncommand = "node"\n');
    await write(path.join(tmp, 'xdg'), 'zed/settings.json', '{"context_servers": {"from-xdg": {"command": "node"}}}');
    const loc = locationContext({ platform: 'linux', env: { HOME: home, CLAUDE_CONFIG_DIR: ccDir, CODEX_HOME: codexHome, XDG_CONFIG_HOME: path.join(tmp, 'xdg') } });
    const r = await discover({ loc, resolveVersions: false });
    expect(r.servers.map((s) => s.name).sort()).toEqual(['from-codex-home', 'from-profile', 'from-xdg']);
  });

  it('win32 from a real Windows environment: paths spelled as Windows spells them', () => {
    const loc = locationContext({ platform: 'win32', env: { USERPROFILE: 'C:\\Users\\bob', APPDATA: 'C:\\Users\\bob\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\bob\\AppData\\Local' } });
    expect(claudeDesktop.locations(loc).filter((l) => !l.list).map((l) => l.path)).toEqual([
      'C:\\Users\\bob\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
      'C:\\Users\\bob\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json',
    ]);
    expect(claudeCode.locations(loc).map((l) => l.path)).toContain('C:\\ProgramData\\ClaudeCode\\managed-mcp.json');
  });

  it('finds the image root from where the home sits, or skips system-wide files', () => {
    expect(imageRoot('linux', '/mnt/img/home/alice')).toBe('/mnt/img');
    expect(imageRoot('linux', '/home/alice')).toBe('/');
    expect(imageRoot('linux', '/mnt/img/root')).toBe('/mnt/img');
    expect(imageRoot('darwin', '/Volumes/disk/Users/alice/')).toBe('/Volumes/disk');
    expect(imageRoot('win32', '/mnt/c/Users/alice')).toBe('/mnt/c');
    expect(imageRoot('linux', '/tmp/fixture')).toBeUndefined();
    const managed = claudeCode.locations(locationContext({ home: '/tmp/fixture', platform: 'linux' })).filter((l) => l.scope === 'managed');
    expect(managed).toEqual([]);
  });

  it('a win32-spelled path under a POSIX home maps back to the same POSIX path (property)', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,12}$/).filter((x) => x !== '.' && x !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.array(segment, { minLength: 1, maxLength: 5 }), (homeParts, rest) => {
        const home = path.posix.join('/', ...homeParts);
        const loc = locationContext({ home, platform: 'win32' });
        expect(toHostPath(loc.join(loc.appData, ...rest), 'win32')).toBe(path.posix.join(home, 'AppData', 'Roaming', ...rest));
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
