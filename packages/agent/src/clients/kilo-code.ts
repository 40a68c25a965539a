// Kilo Code (kilocode.ai/docs, "Using MCP in Kilo Code"), a Roo Code fork: global
// globalStorage/kilocode.kilo-code/settings/mcp_settings.json in each VS Code-based editor and
// <project>/.kilocode/mcp.json; `alwaysAllow` lists auto-approved tools, `disabled` turns one off.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';
import { globalStoragePaths } from './vscode-hosts.js';

export const kiloCode: Discoverer = {
  id: 'kilo-code',
  name: 'Kilo Code',
  locations(loc) {
    return globalStoragePaths(loc, 'kilocode.kilo-code', 'settings', 'mcp_settings.json').map((path) => ({ path, scope: 'user' as const }));
  },
  projectFiles: ['.kilocode/mcp.json'],
  parse: (text) => parseMcpServersJson(text),
  matchesPath: (p) => pathEndsWith(p, '/kilocode.kilo-code/settings/mcp_settings.json', '/.kilocode/mcp.json'),
};
