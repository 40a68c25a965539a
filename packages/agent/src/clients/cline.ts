// Cline (docs.cline.bot, "MCP"): the extension's global storage in each VS Code-based editor,
// settings/cline_mcp_settings.json (`mcpServers`, `disabled`, `autoApprove`); the Cline CLI and
// the JetBrains plugin keep the same file under ~/.cline/data/settings (cline/cline#7081, #9385),
// or where $CLINE_MCP_SETTINGS_PATH points.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';
import { globalStoragePaths } from './vscode-hosts.js';

export const cline: Discoverer = {
  id: 'cline',
  name: 'Cline',
  locations(loc) {
    return [
      ...globalStoragePaths(loc, 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json').map((path) => ({ path, scope: 'user' as const })),
      { path: loc.env.CLINE_MCP_SETTINGS_PATH || loc.join(loc.home, '.cline', 'data', 'settings', 'cline_mcp_settings.json'), scope: 'user' as const },
    ];
  },
  parse(text) {
    return parseMcpServersJson(text);
  },
  // Roo Code's older file has the same name: the registry puts Roo's more specific pattern first
  matchesPath: (p) => pathEndsWith(p, '/cline_mcp_settings.json'),
};
