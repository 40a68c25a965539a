// LM Studio (lmstudio.ai/docs, "Use MCP servers"): ~/.lmstudio/mcp.json on every OS, Cursor's shape.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';

export const lmStudio: Discoverer = {
  id: 'lmstudio',
  name: 'LM Studio',
  locations(loc) {
    return [{ path: loc.join(loc.home, '.lmstudio', 'mcp.json'), scope: 'user' }];
  },
  parse(text) {
    return parseMcpServersJson(text);
  },
  matchesPath: (p) => pathEndsWith(p, '/.lmstudio/mcp.json'),
};
