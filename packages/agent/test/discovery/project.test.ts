// --path: project folders walked for project-level config files, bounded in depth, skipping
// heavy folders, surviving symlink loops.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '../../src/discover.js';
import { locationContext } from '../../src/paths.js';
import { MAX_PROJECT_DEPTH } from '../../src/project.js';
import { place, tempDir, write } from './helpers.js';

let tmp: string;
let home: string;
beforeAll(async () => {
  tmp = await tempDir();
  home = path.join(tmp, 'empty-home');
  await fs.mkdir(home);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const one = (name: string) => JSON.stringify({ mcpServers: { [name]: { command: 'node' } } });
const scan = (paths: string[]) => discover({ loc: locationContext({ home, platform: 'linux' }), paths, resolveVersions: false });

describe('--path walk', () => {
  it('finds every client project file, with scope project and the project folder', async () => {
    const root = path.join(tmp, 'work');
    const api = path.join(root, 'api');
    await place(api, '.mcp.json', 'claude-code/project.mcp.json');
    await write(api, '.cursor/mcp.json', one('cursor-proj'));
    await write(api, '.vscode/mcp.json', JSON.stringify({ servers: { 'vscode-proj': { command: 'node' } } }));
    await write(api, '.windsurf/mcp.json', one('windsurf-proj'));
    await write(api, '.kiro/settings/mcp.json', one('kiro-proj'));
    await place(api, '.roo/mcp.json', 'roo-code/project-mcp.json');
    await write(api, '.codex/config.toml', '[mcp_servers.codex-proj]\ncommand = "node"\n');
    await write(api, '.zed/settings.json', '{"context_servers": {"zed-proj": {"command": {"path": "node", "args": []}}}}');
    await write(api, '.gemini/settings.json', one('gemini-proj'));
    await write(api, '.amazonq/mcp.json', one('q-proj'));
    await write(api, 'opencode.json', JSON.stringify({ mcp: { 'opencode-proj': { type: 'local', command: ['node'] } } }));
    await place(api, '.continue/mcpServers/pw.yaml', 'continue/block.yaml');
    const r = await scan([root]);
    expect(r.clients.filter((c) => c.error)).toEqual([]);
    const got = Object.fromEntries(r.servers.map((s) => [s.name, s.client]));
    expect(got).toEqual({
      context7: 'claude-code',
      puppeteer: 'claude-code',
      'cursor-proj': 'cursor',
      'vscode-proj': 'vscode',
      'windsurf-proj': 'windsurf',
      'kiro-proj': 'kiro',
      'local-db': 'roo-code',
      'codex-proj': 'codex',
      'zed-proj': 'zed',
      'gemini-proj': 'gemini-cli',
      'q-proj': 'amazon-q',
      'opencode-proj': 'opencode',
      'Browser search': 'continue',
    });
    for (const s of r.servers) expect(s).toMatchObject({ scope: 'project', projectPath: api });
    expect(r.servers.find((s) => s.name === 'local-db')!.autoApprove).toEqual(['read_query']);
  });

  it(`goes ${MAX_PROJECT_DEPTH} levels deep and no deeper`, async () => {
    const root = path.join(tmp, 'deep');
    let dir = root;
    for (let depth = 0; depth <= MAX_PROJECT_DEPTH + 1; depth++) {
      await write(dir, '.mcp.json', one(`depth-${depth}`));
      dir = path.join(dir, `d${depth + 1}`);
    }
    const r = await scan([root]);
    const names = r.servers.map((s) => s.name).sort();
    expect(names).toContain(`depth-${MAX_PROJECT_DEPTH}`);
    expect(names).not.toContain(`depth-${MAX_PROJECT_DEPTH + 1}`);
    expect(names).toHaveLength(MAX_PROJECT_DEPTH + 1);
  });

  it('skips node_modules, .git and hidden folders; follows a symlinked project once; survives a loop', async () => {
    const root = path.join(tmp, 'loops');
    await write(root, 'app/.mcp.json', one('app'));
    await write(root, 'app/node_modules/pkg/.mcp.json', one('in-node-modules'));
    await write(root, '.git/sub/.mcp.json', one('in-git'));
    await write(root, '.hidden/proj/.mcp.json', one('in-hidden'));
    await write(path.join(tmp, 'outside'), 'linked/.mcp.json', one('linked'));
    await fs.symlink(path.join(tmp, 'outside', 'linked'), path.join(root, 'link-to-linked'));
    await fs.symlink(root, path.join(root, 'app', 'loop-back'));
    await fs.symlink(path.join(root, 'missing'), path.join(root, 'dangling'));
    const r = await scan([root]);
    expect(r.servers.map((s) => s.name).sort()).toEqual(['app', 'linked']);
  });

  it('a --path that is missing or a file is a clear error; the scan goes on', async () => {
    const file = await write(tmp, 'just-a-file.json', '{}');
    const r = await scan([path.join(tmp, 'nope'), file]);
    expect(r.clients).toEqual([
      { id: 'project-folder', name: 'Project folder (--path)', configPath: path.join(tmp, 'nope'), serverCount: 0, error: expect.stringMatching(/^cannot open the folder: .*check the --path value$/) },
      { id: 'project-folder', name: 'Project folder (--path)', configPath: file, serverCount: 0, error: expect.stringMatching(/^not a folder/) },
    ]);
  });

  it('a --path that contains the home reports each user file once', async () => {
    const h = path.join(tmp, 'home-as-project');
    await write(h, '.cursor/mcp.json', one('once'));
    const r = await discover({ loc: locationContext({ home: h, platform: 'linux' }), paths: [h], resolveVersions: false });
    expect(r.servers.filter((s) => s.name === 'once')).toHaveLength(1);
    expect(r.servers[0]!.scope).toBe('user');
  });
});
