// --config FILE: one file of any known format, its client picked by location then by shape.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '../../src/discover.js';
import { locationContext } from '../../src/paths.js';
import { FIXTURES, PLANTED_SECRETS, tempDir, write } from './helpers.js';

let tmp: string;
let home: string;
beforeAll(async () => {
  tmp = await tempDir();
  home = path.join(tmp, 'home');
  await fs.mkdir(home);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const scan = (configFiles: string[]) => discover({ loc: locationContext({ home, platform: 'linux' }), configFiles, resolveVersions: false });

describe('--config', () => {
  it('picks the client from where the file is', async () => {
    const cases: Array<[string, string]> = [
      ['claude-desktop/claude_desktop_config.json', 'claude-desktop'],
      ['cline/cline_mcp_settings.json', 'cline'],
      ['codex/config.toml', 'codex'],
      ['zed/settings.json', 'zed'],
      ['antigravity/mcp_config.json', 'antigravity'],
      ['windsurf/mcp_config.json', 'windsurf'],
    ];
    for (const [fixture, client] of cases) {
      const r = await scan([path.join(FIXTURES, fixture)]);
      expect(r.clients, fixture).toEqual([expect.objectContaining({ id: client, configPath: path.join(FIXTURES, fixture) })]);
      expect(r.clients[0]!.error, fixture).toBeUndefined();
      expect(r.clients[0]!.serverCount, fixture).toBeGreaterThan(0);
    }
  });

  it('picks the client from the content shape when the name says nothing', async () => {
    const shapes: Array<[string, string, string]> = [
      ['a.toml', '[mcp_servers.x]\ncommand = "node"\n', 'codex'],
      ['b.json', '{"context_servers": {"x": {"command": "node"}}}', 'zed'],
      ['c.yaml', 'extensions:\n  x:\n    cmd: node\n    type: stdio\n', 'goose'],
      ['d.json', '{"mcp": {"x": {"type": "local", "command": ["node"]}}}', 'opencode'],
      ['d2.jsonc', '{"mcp": {"servers": {"x": {"type": "remote", "url": "https://example.com/mcp"}}}}', 'opencode'],
      ['e.json', '{"servers": {"x": {"command": "node"}}}', 'vscode'],
      ['f.yaml', 'mcpServers:\n  - name: x\n    command: node\n', 'continue'],
      ['g.json', '{"mcpServers": {"x": {"httpUrl": "https://example.com/mcp"}}}', 'gemini-cli'],
      ['h.json', '{"mcpServers": {"x": {"serverUrl": "https://example.com/mcp"}}}', 'windsurf'],
      ['i.json', '{"mcpServers": {"x": {"command": "node"}}, "allowedTools": ["@x"]}', 'amazon-q'],
      ['j.json', '{"mcpServers": {"x": {"command": "node"}}}', 'mcp-config'],
    ];
    for (const [name, text, client] of shapes) {
      const file = await write(tmp, `shapes/${name}`, text);
      const r = await scan([file]);
      expect(r.clients, name).toEqual([{ id: client, name: expect.any(String), configPath: file, serverCount: 1 }]);
    }
  });

  it('a project file given directly keeps its project scope', async () => {
    const file = await write(tmp, 'proj/.cursor/mcp.json', '{"mcpServers": {"x": {"command": "node"}}}');
    const r = await scan([file]);
    expect(r.servers[0]).toMatchObject({ client: 'cursor', scope: 'project', projectPath: path.join(tmp, 'proj') });
  });

  it('drops env and header values from a given file too', async () => {
    const r = await scan([path.join(FIXTURES, 'opencode', 'opencode.jsonc'), path.join(FIXTURES, 'goose', 'config.yaml')]);
    const text = JSON.stringify(r);
    for (const s of PLANTED_SECRETS) expect(text).not.toContain(s);
    expect(r.servers.length).toBe(6);
  });

  it('unknown shapes, broken files and missing files are clear errors', async () => {
    const unknown = await write(tmp, 'unknown.json', '{"hello": "world"}');
    const broken = await write(tmp, 'broken.yaml', 'a: [1\nb: 2\n');
    const missing = path.join(tmp, 'missing.json');
    const r = await scan([unknown, broken, missing]);
    expect(r.clients.map((c) => [c.configPath, c.error?.slice(0, 40)])).toEqual([
      [unknown, 'no known AI client writes a file like th'],
      [broken, 'invalid YAML: Flow sequence in block col'],
      [missing, 'the file does not exist or is not a regu'],
    ]);
    expect(r.servers).toEqual([]);
  });

  it('reads the content, not the name: Codex TOML with [projects] tables, YAML in a .json file, another client\'s `mcp` map', async () => {
    const codex = await write(tmp, 'sniff/codex/config.toml', 'model = "o3"\n\n[projects."/home/alice/work/api"]\ntrust_level = "trusted"\n\n[mcp_servers.github]\ncommand = "npx"\nargs = ["-y", "@modelcontextprotocol/server-github"]\n');
    const yamlAsJson = await write(tmp, 'sniff/servers.json', '# servers\nmcpServers:\n  fs:\n    command: npx\n    args: [-y, "@modelcontextprotocol/server-filesystem", /tmp]\n');
    const crushMap = await write(tmp, 'sniff/team-mcp.json', '{"mcp": {"fs": {"type": "stdio", "command": "node", "args": ["server.js"]}, "gh": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}}}');
    const noExt = await write(tmp, 'sniff/mcp-settings', '[mcp_servers.x]\ncommand = "node"\n');
    const r = await scan([codex, yamlAsJson, crushMap, noExt]);
    expect(r.clients.map((c) => [c.id, c.serverCount, c.error])).toEqual([
      ['codex', 1, undefined],
      // a YAML `mcpServers` map is LibreChat's shape (Continue's is a list)
      ['librechat', 1, undefined],
      ['crush', 2, undefined],
      ['codex', 1, undefined],
    ]);
    expect(r.servers.find((x) => x.name === 'github')).toMatchObject({ client: 'codex', configLine: 6 });
    expect(r.servers.find((x) => x.name === 'fs' && x.client === 'librechat')).toMatchObject({ command: 'npx', configLine: 3 });
  });

  it('when several clients explain a file equally, its name decides', async () => {
    const body = '{"mcpServers": {"x": {"command": "node"}}}';
    const cases: Array<[string, string]> = [
      ['tie/proj/.junie/mcp/mcp.json', 'junie'],
      ['tie/Claude/claude_desktop_config.json', 'claude-desktop'],
      ['tie/home/.copilot/mcp-config.json', 'copilot-cli'],
      ['tie/home/.gemini/antigravity/mcp_config.json', 'antigravity'],
      ['tie/proj/.qwen/settings.json', 'qwen-code'],
      ['tie/LibreChat/librechat.yaml', 'librechat'],
    ];
    for (const [rel, client] of cases) {
      const file = await write(tmp, rel, rel.endsWith('.yaml') ? 'mcpServers:\n  x:\n    command: node\n' : body);
      const r = await scan([file]);
      expect(r.clients.map((c) => c.id), rel).toEqual([client]);
    }
  });

  it('a file no client explains names what was found', async () => {
    const json = await write(tmp, 'found/settings.json', '{"theme": "dark", "fontSize": 14}');
    const toml = await write(tmp, 'found/config.toml', 'model = "o3"\n[projects."/x"]\ntrust_level = "trusted"\n');
    const list = await write(tmp, 'found/list.yaml', '- a\n- b\n');
    const r = await scan([json, toml, list]);
    expect(r.clients[0]!.error).toMatch(/found a JSON document with the top-level keys `theme`, `fontSize`, but no MCP servers under/);
    expect(r.clients[1]!.error).toMatch(/found a TOML document with the top-level keys `model`, `projects`/);
    expect(r.clients[2]!.error).toMatch(/found a YAML list, not a map of settings/);
  });
});

