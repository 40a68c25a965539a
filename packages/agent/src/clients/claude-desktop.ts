// Claude Desktop: claude_desktop_config.json (`mcpServers`) and Desktop Extensions (.mcpb/.dxt
// bundles), each unpacked to Claude Extensions/<bundle id>/manifest.json whose
// `server.mcp_config` is the launch command ({command, args, env}; `${__dirname}` and
// `${user_config.*}` are placeholders Claude fills in). The per-extension settings beside them
// (Claude Extensions Settings/<id>.json) hold the user's answers, API keys included: not read.
import { isRecord, parseJsonc, str } from '../formats/index.js';
import { parseMcpServersJson, pathEndsWith, readServerEntry, requireObject } from './common.js';
import type { ConfigLocation, Discoverer, LocationContext, RawServer } from './types.js';

function claudeDirs(loc: LocationContext): string[] {
  // From Anthropic's MCP quickstart: macOS ~/Library/Application Support/Claude,
  // Windows %APPDATA%\Claude. Linux has no official build; community builds use ~/.config/Claude.
  const dirs = [loc.join(loc.appData, 'Claude')];
  // the Microsoft Store (MSIX) build keeps its roaming data in a virtualised folder
  if (loc.platform === 'win32') dirs.push(loc.join(loc.localAppData, 'Packages', 'Claude_pzs8sxrjxfjjc', 'LocalCache', 'Roaming', 'Claude'));
  return dirs;
}

function parseExtensionManifest(text: string, path: string): RawServer[] {
  const manifest = requireObject(parseJsonc(text), 'extension manifest');
  const server = manifest.server;
  if (!isRecord(server) || !isRecord(server.mcp_config)) return [];
  const folder = path.split(/[\\/]/).slice(-2, -1)[0] ?? 'extension';
  const s = readServerEntry(str(manifest.name) ?? folder, server.mcp_config);
  return s ? [s] : [];
}

export const claudeDesktop: Discoverer = {
  id: 'claude-desktop',
  name: 'Claude Desktop',
  locations(loc) {
    const out: ConfigLocation[] = [];
    for (const dir of claudeDirs(loc)) {
      out.push({ path: loc.join(dir, 'claude_desktop_config.json'), scope: 'user' });
      out.push({ path: loc.join(dir, 'Claude Extensions'), scope: 'user', kind: 'extension', list: { childFile: 'manifest.json' } });
    }
    return out;
  },
  parse(text, ctx) {
    if (ctx.kind === 'extension' || /[\\/]Claude Extensions[\\/][^\\/]+[\\/]manifest\.json$/i.test(ctx.path)) return parseExtensionManifest(text, ctx.path);
    return parseMcpServersJson(text);
  },
  matchesPath: (p) => pathEndsWith(p, 'claude_desktop_config.json') || /\/claude extensions\/[^/]+\/manifest\.json$/i.test(p.replace(/\\/g, '/')),
};
