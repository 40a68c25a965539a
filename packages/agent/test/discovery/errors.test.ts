// Broken, wrong-shaped, unreadable and oversized files: each is a clear client error, the
// rest of the scan goes on.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover, MAX_CONFIG_BYTES } from '../../src/discover.js';
import { locationContext } from '../../src/paths.js';
import { appData, place, tempDir, write } from './helpers.js';

let tmp: string;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('broken config files', () => {
  it('each broken file is an error with a place in it; good files beside them still count', async () => {
    const home = path.join(tmp, 'broken');
    await place(home, '.cursor/mcp.json', 'broken/bad.json');
    await place(home, '.codex/config.toml', 'broken/bad.toml');
    await place(home, '.config/goose/config.yaml', 'broken/bad.yaml');
    await place(home, '.kiro/settings/mcp.json', 'broken/array-servers.json');
    await place(home, `${appData('linux')}/Claude/claude_desktop_config.json`, 'claude-desktop/claude_desktop_config.json');
    await write(home, '.lmstudio/mcp.json', '');
    await write(home, '.gemini/settings.json', '[1, 2, 3]');
    const r = await discover({ loc: locationContext({ home, platform: 'linux' }), resolveVersions: false });
    const err = (id: string) => r.clients.find((c) => c.id === id)?.error;
    expect(err('cursor')).toMatch(/^invalid JSON at line 5, column 1: /);
    expect(err('codex')).toMatch(/^invalid TOML: .*line 2/);
    expect(err('goose')).toMatch(/^invalid YAML: .*line \d+, column \d+/);
    expect(err('kiro')).toBe('the server list is not an object of named servers');
    expect(err('gemini-cli')).toBe('the config is not a JSON object');
    // an empty file is an empty config, not an error
    expect(r.clients.find((c) => c.id === 'lmstudio')).toMatchObject({ serverCount: 0 });
    expect(err('lmstudio')).toBeUndefined();
    expect(r.clients.find((c) => c.id === 'claude-desktop')).toMatchObject({ serverCount: 4 });
    expect(r.servers.filter((s) => s.client === 'claude-desktop')).toHaveLength(4);
  });

  it('refuses a file over 20 MiB without reading it', async () => {
    const home = path.join(tmp, 'big');
    const file = path.join(home, '.cursor', 'mcp.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    // sparse: the size is there, the bytes are not, so the test stays quick
    const fh = await fs.open(file, 'w');
    await fh.truncate(MAX_CONFIG_BYTES + 1);
    await fh.close();
    const r = await discover({ loc: locationContext({ home, platform: 'linux' }), resolveVersions: false });
    expect(r.clients).toEqual([{ id: 'cursor', name: 'Cursor', configPath: file, serverCount: 0, error: 'the file is 20 MiB, over the 20 MiB limit; it was not read' }]);
  });

  it('a file exactly at the limit is still read', async () => {
    const home = path.join(tmp, 'edge');
    const body = '{"mcpServers": {"a": {"command": "x"}}}';
    await write(home, '.cursor/mcp.json', body + ' '.repeat(MAX_CONFIG_BYTES - body.length));
    const r = await discover({ loc: locationContext({ home, platform: 'linux' }), resolveVersions: false });
    expect(r.clients[0]).toMatchObject({ id: 'cursor', serverCount: 1 });
  });

  it('an unreadable file or a folder where a file should be is an error or skipped, never a crash', async () => {
    const home = path.join(tmp, 'perm');
    const file = await write(home, '.cursor/mcp.json', '{"mcpServers": {}}');
    await fs.chmod(file, 0o000);
    await fs.mkdir(path.join(home, '.lmstudio', 'mcp.json'), { recursive: true });
    const r = await discover({ loc: locationContext({ home, platform: 'linux' }), resolveVersions: false });
    await fs.chmod(file, 0o600);
    const cursor = r.clients.find((c) => c.id === 'cursor')!;
    // root can read anything: then the file is simply read
    if (process.getuid?.() === 0) expect(cursor.error).toBeUndefined();
    else expect(cursor.error).toMatch(/permission denied/);
    expect(r.clients.find((c) => c.id === 'lmstudio')).toBeUndefined();
  });

  it('a home that does not exist gives an empty scan', async () => {
    const r = await discover({ loc: locationContext({ home: path.join(tmp, 'nope'), platform: 'darwin' }) });
    expect(r).toMatchObject({ clients: [], servers: [] });
  });

  it('keeps a report within the scan model: at most 5000 servers, and says what was left out', async () => {
    const home = path.join(tmp, 'many');
    const servers = Object.fromEntries(Array.from({ length: 5003 }, (_, i) => [`s${i}`, { command: 'node' }]));
    await write(home, '.cursor/mcp.json', JSON.stringify({ mcpServers: servers }));
    const r = await discover({ loc: locationContext({ home, platform: 'linux' }), resolveVersions: false });
    expect(r.servers).toHaveLength(5000);
    expect(r.raw.size).toBe(5000);
    expect(r.clients.at(-1)).toMatchObject({ id: 'palisade', error: 'found more than 5000 servers; 3 were left out of this report. Scan fewer --path folders at a time.' });
  });
});
