// Claude Code keeps MCP servers in several places (docs.anthropic.com, "Claude Code MCP"):
// - ~/.claude.json (or $CLAUDE_CONFIG_DIR/.claude.json): top-level `mcpServers` are the user
//   scope; `projects[<folder>].mcpServers` are what Claude Code calls the "local" scope, private
//   to you in that folder. We report those with scope 'project' and projectPath = the folder,
//   since they apply only there (the scan model has no separate 'local' scope).
// - <project>/.mcp.json: the shared project scope (found by --path).
// - the managed file written by administrators (scope 'managed'); see managedPath().
// - plugins: installed plugins listed in <config dir>/plugins/installed_plugins.json, each with
//   `.mcp.json` at the plugin root or `mcpServers` inline in `.claude-plugin/plugin.json`.
import { isRecord, parseJsonc, str } from '../formats/index.js';
import { hasServerMap, pathEndsWith, readServerEntry, readServerMap, requireObject } from './common.js';
import type { ConfigLocation, Discoverer, LocationContext, RawServer } from './types.js';

/** $CLAUDE_CONFIG_DIR (ignored under --home, where env is empty) or ~/.claude */
function configDir(loc: LocationContext): string {
  return loc.env.CLAUDE_CONFIG_DIR || loc.join(loc.home, '.claude');
}

/** System-wide managed MCP file (from Claude Code's enterprise settings docs). Skipped when the system root is unknown. */
export function managedPath(loc: LocationContext): string | undefined {
  if (loc.systemRoot === undefined) return undefined;
  if (loc.platform === 'darwin') return loc.join(loc.systemRoot, 'Library', 'Application Support', 'ClaudeCode', 'managed-mcp.json');
  if (loc.platform === 'win32') return loc.join(loc.systemRoot, 'ProgramData', 'ClaudeCode', 'managed-mcp.json');
  return loc.join(loc.systemRoot, 'etc', 'claude-code', 'managed-mcp.json');
}

function parseClaudeJson(doc: Record<string, unknown>): RawServer[] {
  const out = readServerMap(doc.mcpServers);
  if (doc.projects !== undefined) {
    if (!isRecord(doc.projects)) throw new Error('`projects` is not an object of project folders');
    for (const [projectPath, project] of Object.entries(doc.projects)) {
      if (!isRecord(project) || project.mcpServers === undefined) continue;
      let servers: RawServer[];
      try {
        servers = readServerMap(project.mcpServers);
      } catch {
        throw new Error(`the servers of project ${projectPath} are not an object of named servers`);
      }
      // per-project switches for servers of .mcp.json and of the user scope
      const disabledNames = new Set([...(Array.isArray(project.disabledMcpServers) ? project.disabledMcpServers : []), ...(Array.isArray(project.disabledMcpjsonServers) ? project.disabledMcpjsonServers : [])]);
      for (const s of servers) {
        s.scope = 'project';
        s.projectPath = projectPath;
        if (disabledNames.has(s.name)) s.disabled = true;
        out.push(s);
      }
    }
  }
  return out;
}

/** A plugin's .mcp.json: either `{"mcpServers": {...}}` or the server map itself. */
function parsePluginMcp(doc: Record<string, unknown>): RawServer[] {
  if (doc.mcpServers !== undefined) {
    // plugin.json may point at a file instead (`"mcpServers": "./mcp.json"`): nothing inline then
    if (typeof doc.mcpServers === 'string') return [];
    return readServerMap(doc.mcpServers);
  }
  const out: RawServer[] = [];
  for (const [name, entry] of Object.entries(doc)) {
    if (!isRecord(entry) || !('command' in entry || 'url' in entry)) continue;
    const s = readServerEntry(name, entry);
    if (s) out.push(s);
  }
  return out;
}

/**
 * Plugins install to <config dir>/plugins/cache/<marketplace>/<plugin>/<version>; the index
 * records absolute install paths as written on the machine that installed them. Under --home
 * (or a moved config dir) those paths are rebased onto this config dir's plugins folder.
 */
function pluginRoots(doc: unknown, pluginsDir: string, loc: LocationContext): Array<{ root: string; projectPath?: string }> {
  if (!isRecord(doc) || !isRecord(doc.plugins)) return [];
  const out: Array<{ root: string; projectPath?: string }> = [];
  for (const value of Object.values(doc.plugins)) {
    // version 1: one entry per plugin; version 2: a list of installs per plugin
    for (const install of Array.isArray(value) ? value : [value]) {
      if (!isRecord(install)) continue;
      const installPath = str(install.installPath);
      if (!installPath) continue;
      const m = /[\\/]plugins[\\/]((?:cache|marketplaces|repos)[\\/].*)$/.exec(installPath);
      const root = m ? loc.join(pluginsDir, ...m[1]!.split(/[\\/]+/)) : installPath;
      const projectPath = str(install.projectPath);
      out.push(projectPath ? { root, projectPath } : { root });
      if (out.length >= 500) return out;
    }
  }
  return out;
}

export const claudeCode: Discoverer = {
  id: 'claude-code',
  name: 'Claude Code',
  locations(loc) {
    const dir = configDir(loc);
    const claudeJson = loc.env.CLAUDE_CONFIG_DIR ? loc.join(dir, '.claude.json') : loc.join(loc.home, '.claude.json');
    const out: ConfigLocation[] = [
      { path: claudeJson, scope: 'user', kind: 'claude-json' },
      { path: loc.join(dir, 'plugins', 'installed_plugins.json'), scope: 'user', index: true },
    ];
    const managed = managedPath(loc);
    if (managed) out.push({ path: managed, scope: 'managed' });
    return out;
  },
  projectFiles: ['.mcp.json'],
  parse(text, ctx) {
    const doc = requireObject(parseJsonc(text));
    // a plugin's .mcp.json may be the bare server map (no `mcpServers` key)
    const bareMcpJson = /(?:^|[\\/])\.mcp\.json$/.test(ctx.path) && doc.mcpServers === undefined;
    if (ctx.kind === 'plugin' || bareMcpJson) return parsePluginMcp(doc);
    return parseClaudeJson(doc);
  },
  follow(text, ctx) {
    const pluginsDir = ctx.loc.join(configDir(ctx.loc), 'plugins');
    const out: ConfigLocation[] = [];
    for (const { root, projectPath } of pluginRoots(parseJsonc(text), pluginsDir, ctx.loc)) {
      const base = { scope: projectPath ? ('project' as const) : ('user' as const), kind: 'plugin', ...(projectPath ? { projectPath } : {}) };
      out.push({ path: ctx.loc.join(root, '.mcp.json'), ...base });
      out.push({ path: ctx.loc.join(root, '.claude-plugin', 'plugin.json'), ...base });
    }
    return out;
  },
  matchesPath: (p) => pathEndsWith(p, '/.claude.json', '/.mcp.json', '/managed-mcp.json') || /^\.(?:claude|mcp)\.json$/i.test(p),
  sniff: (doc) => isRecord(doc) && (isRecord(doc.projects) || (hasServerMap(doc) && 'numStartups' in doc)),
};
