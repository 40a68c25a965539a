// Windsurf (docs.windsurf.com, "Cascade MCP"): ~/.codeium/windsurf/mcp_config.json on every OS;
// remote servers use `serverUrl`. Windsurf Next keeps its own file beside it.
import { anyEntryHas, parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';

export const windsurf: Discoverer = {
  id: 'windsurf',
  name: 'Windsurf',
  locations(loc) {
    return [
      { path: loc.join(loc.home, '.codeium', 'windsurf', 'mcp_config.json'), scope: 'user' },
      { path: loc.join(loc.home, '.codeium', 'windsurf-next', 'mcp_config.json'), scope: 'user' },
    ];
  },
  projectFiles: ['.windsurf/mcp.json'],
  parse(text) {
    return parseMcpServersJson(text);
  },
  matchesPath: (p) => pathEndsWith(p, '/windsurf/mcp_config.json', '/windsurf-next/mcp_config.json', '/.windsurf/mcp.json'),
  sniff: (doc) => anyEntryHas(doc, 'serverUrl'),
};
