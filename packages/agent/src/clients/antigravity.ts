// Google Antigravity (antigravity.google/docs/mcp): ~/.gemini/antigravity/mcp_config.json on
// every OS, the `mcpServers` shape with `serverUrl` for remote servers.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';

export const antigravity: Discoverer = {
  id: 'antigravity',
  name: 'Antigravity',
  locations(loc) {
    return [{ path: loc.join(loc.home, '.gemini', 'antigravity', 'mcp_config.json'), scope: 'user' }];
  },
  parse(text) {
    return parseMcpServersJson(text);
  },
  matchesPath: (p) => pathEndsWith(p, '/antigravity/mcp_config.json'),
};
