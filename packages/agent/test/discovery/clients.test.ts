// Every discoverer against fixtures in the real shapes its client writes, on every OS where
// the client exists, in a fixture home laid out as that OS lays it out.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerConfigSchema, ClientResultSchema } from '@palisade/core';
import type { Platform } from '../../src/clients/types.js';
import { discover, type DiscoveryResult } from '../../src/discover.js';
import { locationContext } from '../../src/paths.js';
import { appData, byName, homeIn, namesOf, place, PLANTED_SECRETS, tempDir } from './helpers.js';

const PLATFORMS: Platform[] = ['linux', 'darwin', 'win32'];

/** fixture file -> path under the home, per platform (as each client documents it) */
function layout(platform: Platform): Array<[string, string]> {
  const ad = appData(platform);
  const zedDir = platform === 'win32' ? 'AppData/Roaming/Zed' : '.config/zed';
  const gooseDir = platform === 'win32' ? 'AppData/Roaming/Block/goose/config' : '.config/goose';
  const plugin = '.claude/plugins/cache/acme-marketplace/db-tools/1.2.0';
  return [
    ['claude-desktop/claude_desktop_config.json', `${ad}/Claude/claude_desktop_config.json`],
    ['claude-desktop/extension-manifest.json', `${ad}/Claude/Claude Extensions/ant.dir.ant.anthropic.filesystem/manifest.json`],
    ['claude-code/claude.json', '.claude.json'],
    ['claude-code/installed_plugins.json', '.claude/plugins/installed_plugins.json'],
    ['claude-code/plugin-mcp.json', `${plugin}/.mcp.json`],
    ['claude-code/plugin.json', `${plugin}/.claude-plugin/plugin.json`],
    ['cursor/mcp.json', '.cursor/mcp.json'],
    ['vscode/mcp.json', `${ad}/Code/User/mcp.json`],
    ['vscode/settings.json', `${ad}/Code/User/settings.json`],
    ['vscode-insiders/mcp.json', `${ad}/Code - Insiders/User/mcp.json`],
    ['vscode/profile-mcp.json', `${ad}/Code/User/profiles/-5f3a2b1c/mcp.json`],
    ['windsurf/mcp_config.json', '.codeium/windsurf/mcp_config.json'],
    ['zed/settings.json', `${zedDir}/settings.json`],
    ['codex/config.toml', '.codex/config.toml'],
    ['gemini-cli/settings.json', '.gemini/settings.json'],
    ['gemini-cli/gemini-extension.json', '.gemini/extensions/my-extension/gemini-extension.json'],
    ['cline/cline_mcp_settings.json', `${ad}/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json`],
    ['roo-code/mcp_settings.json', `${ad}/Cursor/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json`],
    ['continue/config.yaml', '.continue/config.yaml'],
    ['continue/config.json', '.continue/config.json'],
    ['continue/block.yaml', '.continue/mcpServers/playwright.yaml'],
    ['goose/config.yaml', `${gooseDir}/config.yaml`],
    ['lmstudio/mcp.json', '.lmstudio/mcp.json'],
    ['kiro/mcp.json', '.kiro/settings/mcp.json'],
    ['amazon-q/mcp.json', '.aws/amazonq/mcp.json'],
    ['amazon-q/agent.json', '.aws/amazonq/cli-agents/builder.json'],
    ['opencode/opencode.jsonc', '.config/opencode/opencode.jsonc'],
    ['antigravity/mcp_config.json', '.gemini/antigravity/mcp_config.json'],
    ['librechat/librechat.yaml', 'LibreChat/librechat.yaml'],
    ['crush/crush.json', platform === 'win32' ? 'AppData/Local/crush/crush.json' : '.config/crush/crush.json'],
    ['junie/mcp.json', '.junie/mcp/mcp.json'],
    ['copilot-cli/mcp-config.json', '.copilot/mcp-config.json'],
    ['qwen-code/settings.json', '.qwen/settings.json'],
    ['amp/settings.json', '.config/amp/settings.json'],
    ['kilo-code/mcp_settings.json', `${ad}/Code/User/globalStorage/kilocode.kilo-code/settings/mcp_settings.json`],
  ];
}

/** the managed Claude Code file, relative to the image root */
const MANAGED: Record<Platform, string> = {
  linux: 'etc/claude-code/managed-mcp.json',
  darwin: 'Library/Application Support/ClaudeCode/managed-mcp.json',
  win32: 'ProgramData/ClaudeCode/managed-mcp.json',
};
/** Gemini CLI's system settings, relative to the image root */
const GEMINI_SYSTEM: Record<Platform, string> = {
  linux: 'etc/gemini-cli/settings.json',
  darwin: 'Library/Application Support/GeminiCli/settings.json',
  win32: 'ProgramData/gemini-cli/settings.json',
};

let tmp: string;
const results = new Map<Platform, DiscoveryResult>();
const homes = new Map<Platform, string>();

beforeAll(async () => {
  tmp = await tempDir();
  for (const platform of PLATFORMS) {
    const root = path.join(tmp, platform);
    const home = homeIn(root, platform);
    homes.set(platform, home);
    for (const [fixture, rel] of layout(platform)) await place(home, rel, fixture);
    await place(root, MANAGED[platform], 'claude-code/managed-mcp.json');
    await place(root, GEMINI_SYSTEM[platform], 'gemini-cli/system-settings.json');
    // no npx/uv caches here: the resolve tests cover those
    results.set(platform, await discover({ loc: locationContext({ home, platform }), resolveVersions: false }));
  }
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe.each(PLATFORMS)('discovery on %s', (platform) => {
  const r = (): DiscoveryResult => results.get(platform)!;
  const s = (client: string, name: string) => byName(r().servers, client, name);

  it('reads every client without an error, and every result fits the scan model', () => {
    expect(r().clients.filter((c) => c.error)).toEqual([]);
    for (const c of r().clients) ClientResultSchema.parse(c);
    for (const srv of r().servers) ServerConfigSchema.parse(srv);
    const ids = new Set(r().clients.map((c) => c.id));
    for (const id of ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'vscode-insiders', 'windsurf', 'zed', 'codex', 'gemini-cli', 'cline', 'roo-code', 'continue', 'goose', 'lmstudio', 'kiro', 'amazon-q', 'opencode', 'antigravity', 'librechat', 'crush', 'junie', 'copilot-cli', 'qwen-code', 'amp', 'kilo-code']) expect(ids, id).toContain(id);
  });

  it('never lets an env value, header value or secret out', () => {
    const text = JSON.stringify({ clients: r().clients, servers: r().servers });
    for (const secret of PLANTED_SECRETS) expect(text, secret).not.toContain(secret);
  });

  it('reports host paths that exist, spelled for this machine', async () => {
    const home = homes.get(platform)!;
    for (const c of r().clients) {
      expect(c.configPath.includes('\\'), c.configPath).toBe(false);
      await expect(fs.stat(c.configPath)).resolves.toBeTruthy();
    }
    const desktop = r().clients.find((c) => c.id === 'claude-desktop')!;
    expect(desktop.configPath).toBe(path.join(home, ...appData(platform).split('/'), 'Claude', 'claude_desktop_config.json'));
  });

  it('Claude Desktop: mcpServers with comments, trailing commas, literal secrets classified; extensions', () => {
    expect(namesOf(r().servers, 'claude-desktop')).toEqual(['fetch', 'filesystem', 'filesystem', 'github', 'windows-wrapped']);
    // a Desktop Extension: the manifest's mcp_config, placeholders kept, no secret flagged
    const ext = r().servers.find((x) => x.client === 'claude-desktop' && x.configPath.endsWith('manifest.json'))!;
    expect(ext).toMatchObject({ command: 'node', args: ['${__dirname}/dist/index.js', '${user_config.allowed_directories}'], envNames: ['API_KEY'] });
    expect(ext.secrets).toBeUndefined();
    const gh = s('claude-desktop', 'github');
    expect(gh.envNames).toEqual(['GITHUB_PERSONAL_ACCESS_TOKEN']);
    expect(gh.secrets).toEqual([{ location: 'env', name: 'GITHUB_PERSONAL_ACCESS_TOKEN', type: 'github-token' }]);
    expect(gh.package).toMatchObject({ ecosystem: 'npm', name: '@modelcontextprotocol/server-github', pinned: false, runner: 'npx' });
    // `cmd /c npx ...` still names its package
    expect(s('claude-desktop', 'windows-wrapped').package).toMatchObject({ name: '@modelcontextprotocol/server-memory', version: '2025.4.25', pinned: true });
    expect(s('claude-desktop', 'fetch').package).toMatchObject({ ecosystem: 'PyPI', name: 'mcp-server-fetch', runner: 'uvx' });
  });

  it('Claude Code: user scope, per-project entries, managed file and plugins', () => {
    expect(namesOf(r().servers, 'claude-code')).toEqual(['company-tools', 'database-tools', 'old-one', 'plugin-api', 'postgres', 'sentry', 'slack']);
    expect(s('claude-code', 'slack')).toMatchObject({ scope: 'user', transport: 'stdio', envNames: ['SLACK_BOT_TOKEN', 'SLACK_TEAM_ID'] });
    expect(s('claude-code', 'slack').secrets).toEqual([{ location: 'env', name: 'SLACK_BOT_TOKEN', type: 'slack-token' }]);
    expect(s('claude-code', 'sentry')).toMatchObject({ transport: 'http', url: 'https://mcp.sentry.dev/mcp', headerNames: ['Authorization'] });
    const pg = s('claude-code', 'postgres');
    expect(pg).toMatchObject({ scope: 'project', projectPath: '/home/alice/work/api' });
    expect(pg.disabled).toBeUndefined();
    expect(s('claude-code', 'old-one')).toMatchObject({ scope: 'project', disabled: true });
    expect(s('claude-code', 'company-tools')).toMatchObject({ scope: 'managed', transport: 'http' });
    // plugin paths recorded on another machine are rebased onto this home's plugin folder
    const plugin = s('claude-code', 'database-tools');
    expect(plugin.configPath).toBe(path.join(homes.get(platform)!, '.claude', 'plugins', 'cache', 'acme-marketplace', 'db-tools', '1.2.0', '.mcp.json'));
    expect(plugin.envNames).toEqual(['DB_URL']);
    expect(plugin.secrets).toBeUndefined();
    expect(s('claude-code', 'plugin-api').args).toEqual(['--port', '8080']);
  });

  it('Cursor: url servers, @latest, trust: true approves everything', () => {
    expect(namesOf(r().servers, 'cursor')).toEqual(['browser', 'linear', 'trusted']);
    expect(s('cursor', 'linear')).toMatchObject({ transport: 'sse', url: 'https://mcp.linear.app/sse' });
    expect(s('cursor', 'browser').secrets).toEqual([{ location: 'env', name: 'AWS_ACCESS_KEY_ID', type: 'aws-access-key' }]);
    expect(s('cursor', 'browser').package).toMatchObject({ name: '@browsermcp/mcp', version: 'latest', pinned: false });
    expect(s('cursor', 'trusted').autoApprove).toEqual(['*']);
  });

  it('VS Code: mcp.json `servers` with inputs, settings.json `mcp.servers`, profiles', () => {
    expect(namesOf(r().servers, 'vscode')).toEqual(['docker-thing', 'github', 'playwright', 'profile-only', 'time']);
    const gh = s('vscode', 'github');
    expect(gh).toMatchObject({ transport: 'http', headerNames: ['Authorization'] });
    expect(gh.secrets).toBeUndefined(); // ${input:github-token} is a reference
    expect(s('vscode', 'docker-thing').package).toMatchObject({ ecosystem: 'docker', name: 'ghcr.io/github/github-mcp-server' });
    expect(s('vscode', 'time').args).toEqual(['mcp-server-time', '--local-timezone=Europe/Paris']);
    expect(namesOf(r().servers, 'vscode-insiders')).toEqual(['memory']);
  });

  it('Windsurf: serverUrl, query secrets redacted, disabled kept', () => {
    const docs = s('windsurf', 'remote-docs');
    expect(docs.transport).toBe('http');
    expect(docs.url).toBe('https://docs.example.com/mcp?api_key=<redacted>');
    expect(docs.secrets?.[0]).toMatchObject({ location: 'url' });
    expect(s('windsurf', 'brave')).toMatchObject({ disabled: true, envNames: ['BRAVE_API_KEY'] });
  });

  it('Zed: nested and flat command shapes, extension servers, remote and disabled', () => {
    expect(namesOf(r().servers, 'zed')).toEqual(['flat-style', 'old-style', 'postgres-context-server', 'remote']);
    expect(s('zed', 'old-style')).toMatchObject({ command: '/usr/local/bin/old-mcp', args: ['--stdio'], envNames: ['OLD_TOKEN'] });
    expect(s('zed', 'flat-style')).toMatchObject({ command: 'npx', args: ['-y', 'mcp-remote', 'https://example.com/mcp'] });
    expect(s('zed', 'postgres-context-server')).toMatchObject({ command: null, transport: 'extension' });
    expect(s('zed', 'remote')).toMatchObject({ transport: 'http', disabled: true, headerNames: ['Authorization'] });
  });

  it('Codex: [mcp_servers.x] tables, bearer token env var, enabled = false', () => {
    expect(namesOf(r().servers, 'codex')).toEqual(['context7', 'figma', 'github', 'off']);
    expect(s('codex', 'github').secrets).toEqual([{ location: 'env', name: 'GITHUB_PERSONAL_ACCESS_TOKEN', type: 'github-token' }]);
    const figma = s('codex', 'figma');
    expect(figma).toMatchObject({ transport: 'http', url: 'https://mcp.figma.com/mcp', headerNames: ['Authorization', 'X-Figma-Region'] });
    expect(figma.secrets).toBeUndefined();
    expect(s('codex', 'off').disabled).toBe(true);
  });

  it('Gemini CLI: url is SSE, httpUrl is HTTP, trust, $VAR references, extensions', () => {
    expect(namesOf(r().servers, 'gemini-cli')).toEqual(['ext-server', 'http-server', 'org-approved', 'python-tools', 'sse-server']);
    expect(s('gemini-cli', 'org-approved')).toMatchObject({ scope: 'managed', transport: 'http' });
    expect(s('gemini-cli', 'sse-server').transport).toBe('sse');
    expect(s('gemini-cli', 'http-server')).toMatchObject({ transport: 'http', url: 'https://api.example.com/mcp/' });
    const py = s('gemini-cli', 'python-tools');
    expect(py).toMatchObject({ autoApprove: ['*'], cwd: './mcp-servers/python', envNames: ['API_KEY', 'DATABASE_URL'] });
    expect(py.secrets).toBeUndefined();
  });

  it('Cline and Roo Code: global storage of VS Code-based editors, autoApprove/alwaysAllow, disabled', () => {
    expect(s('cline', 'weather').disabled).toBe(true);
    expect(s('cline', 'github.com/modelcontextprotocol/servers/tree/main/src/github').autoApprove).toEqual(['list_issues', 'get_issue']);
    expect(s('roo-code', 'proxy')).toMatchObject({ autoApprove: ['search_code'] });
    expect(s('roo-code', 'proxy').secrets).toBeUndefined();
    expect(s('roo-code', 'docs').transport).toBe('http');
  });

  it('Continue: YAML list, block files, legacy config.json', () => {
    expect(namesOf(r().servers, 'continue')).toEqual(['Browser search', 'Remote', 'SQLite MCP', 'With Env', 'server-1']);
    expect(s('continue', 'Remote')).toMatchObject({ transport: 'http', url: 'https://mcp.example.com/mcp?token=<redacted>' });
    expect(s('continue', 'With Env').secrets).toEqual([{ location: 'env', name: 'OPENAI_API_KEY', type: 'openai-key' }]);
    expect(s('continue', 'server-1').package).toMatchObject({ name: 'mcp-server-sqlite' });
  });

  it('Goose: extensions with cmd, envs, env_keys, uri, builtin, enabled: false', () => {
    expect(namesOf(r().servers, 'goose')).toEqual(['developer', 'github', 'remote-sse', 'streamable']);
    expect(s('goose', 'github')).toMatchObject({ command: 'npx', envNames: ['GITHUB_HOST', 'GITHUB_PERSONAL_ACCESS_TOKEN'] });
    expect(s('goose', 'github').package).toMatchObject({ name: '@modelcontextprotocol/server-github' });
    expect(s('goose', 'remote-sse')).toMatchObject({ transport: 'sse', disabled: true, url: 'http://mcp.internal.example:9000/sse' });
    expect(s('goose', 'streamable')).toMatchObject({ transport: 'http', headerNames: ['Authorization'] });
    expect(s('goose', 'developer')).toMatchObject({ command: null, transport: 'builtin' });
  });

  it('LM Studio, Kiro, Antigravity: the mcpServers family', () => {
    expect(s('lmstudio', 'hf-mcp-server')).toMatchObject({ transport: 'http', headerNames: ['Authorization'] });
    expect(s('lmstudio', 'hf-mcp-server').secrets).toBeUndefined();
    expect(s('kiro', 'aws-docs')).toMatchObject({ autoApprove: ['read_documentation'] });
    expect(s('kiro', 'aws-docs').secrets).toEqual([{ location: 'env', name: 'AWS_ACCESS_KEY_ID', type: 'aws-access-key' }]);
    expect(s('kiro', 'off').disabled).toBe(true);
    expect(s('antigravity', 'sam-mesh')).toMatchObject({ transport: 'http', url: 'http://localhost:8080/mcp' });
    expect(s('antigravity', 'firebase').package).toMatchObject({ name: 'firebase-tools', version: 'latest' });
  });

  it('Amazon Q: global mcp.json and agent files with allowedTools', () => {
    expect(namesOf(r().servers, 'amazon-q')).toEqual(['aws-cdk', 'fetch', 'find-a-domain', 'git']);
    expect(s('amazon-q', 'git').autoApprove).toEqual(['*']);
    expect(s('amazon-q', 'fetch').autoApprove).toEqual(['fetch']);
    expect(s('amazon-q', 'find-a-domain').autoApprove).toBeUndefined();
  });

  it('OpenCode: `mcp` with command arrays, environment, enabled: false', () => {
    const local = s('opencode', 'local-everything');
    expect(local).toMatchObject({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], envNames: ['MY_ENV_VAR', 'SECRET_TOKEN'] });
    expect(local.secrets).toEqual([{ location: 'env', name: 'SECRET_TOKEN', type: 'github-token' }]);
    expect(s('opencode', 'remote-context')).toMatchObject({ transport: 'http', disabled: true, headerNames: ['CONTEXT7_API_KEY'] });
    // {env:VAR} is OpenCode's reference syntax, not a literal key
    expect(s('opencode', 'remote-context').secrets).toBeUndefined();
  });

  it('LibreChat: librechat.yaml mcpServers with stdio, sse, streamable-http and headers', () => {
    expect(namesOf(r().servers, 'librechat')).toEqual(['everything', 'filesystem', 'puppeteer', 'remote-api']);
    expect(s('librechat', 'filesystem')).toMatchObject({ transport: 'stdio', command: 'npx', configLine: 9 });
    expect(s('librechat', 'everything')).toMatchObject({ transport: 'sse', url: 'http://localhost:3001/sse' });
    expect(s('librechat', 'remote-api')).toMatchObject({ transport: 'http', headerNames: ['Authorization', 'X-User-ID'] });
  });

  it('Crush: `mcp` map with stdio, http, sse, env, headers and disabled', () => {
    expect(namesOf(r().servers, 'crush')).toEqual(['filesystem', 'github', 'streaming-service']);
    expect(s('crush', 'filesystem')).toMatchObject({ transport: 'stdio', command: 'node', envNames: ['NODE_ENV'], configLine: 5 });
    expect(s('crush', 'github')).toMatchObject({ transport: 'http', headerNames: ['Authorization'] });
    expect(s('crush', 'github').secrets).toEqual([{ location: 'header', name: 'Authorization', type: expect.any(String) }]);
    expect(s('crush', 'streaming-service')).toMatchObject({ transport: 'sse', disabled: true });
  });

  it('Junie, Copilot CLI, Qwen Code, Amp', () => {
    expect(namesOf(r().servers, 'junie')).toEqual(['playwright', 'postgres']);
    expect(s('junie', 'postgres').package).toMatchObject({ ecosystem: 'docker' });
    expect(s('copilot-cli', 'context7')).toMatchObject({ transport: 'stdio', autoApprove: ['*'], envNames: ['CONTEXT7_API_KEY'] });
    expect(s('copilot-cli', 'microsoft-learn')).toMatchObject({ transport: 'http', autoApprove: ['microsoft_docs_search'] });
    expect(s('qwen-code', 'httpServer')).toMatchObject({ transport: 'http', autoApprove: ['*'] });
    expect(s('qwen-code', 'pythonTools').secrets).toBeUndefined();
    expect(namesOf(r().servers, 'amp')).toEqual(['linear', 'playwright', 'semgrep']);
    expect(s('amp', 'semgrep')).toMatchObject({ transport: 'http', url: 'https://mcp.semgrep.ai/mcp' });
    expect(s('kilo-code', 'context7')).toMatchObject({ transport: 'stdio', autoApprove: ['resolve-library-id'] });
    expect(s('kilo-code', 'remote')).toMatchObject({ transport: 'http', disabled: true });
    // Roo Code's own pattern does not take Kilo's file
    expect(namesOf(r().servers, 'roo-code')).not.toContain('context7');
  });

  it('records the line of each server entry in its file (JSON, YAML, TOML, per-project entries)', () => {
    expect(s('goose', 'github').configLine).toBe(12);
    expect(s('zed', 'flat-style').configLine).toBe(14);
    // Continue's legacy list names unnamed entries server-N: no key to point at
    for (const srv of r().servers) if (!srv.configPath.endsWith('manifest.json') && srv.name !== 'server-1') expect(srv.configLine, `${srv.client}/${srv.name}`).toBeGreaterThan(0);
  });
});
