// Roo Code (docs.roocode.com, "Using MCP in Roo Code"): global
// globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json (older releases:
// cline_mcp_settings.json) and <project>/.roo/mcp.json; `alwaysAllow` lists auto-approved tools.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';
import { globalStoragePaths } from './vscode-hosts.js';

export const rooCode: Discoverer = {
  id: 'roo-code',
  name: 'Roo Code',
  locations(loc) {
    return ['mcp_settings.json', 'cline_mcp_settings.json'].flatMap((file) =>
      globalStoragePaths(loc, 'rooveterinaryinc.roo-cline', 'settings', file).map((path) => ({ path, scope: 'user' as const })),
    );
  },
  projectFiles: ['.roo/mcp.json'],
  parse(text) {
    return parseMcpServersJson(text);
  },
  matchesPath: (p) => pathEndsWith(p, '/rooveterinaryinc.roo-cline/settings/cline_mcp_settings.json', '/mcp_settings.json', '/.roo/mcp.json'),
};
