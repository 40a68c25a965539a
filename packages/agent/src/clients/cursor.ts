// Cursor (docs.cursor.com, "Model Context Protocol"): ~/.cursor/mcp.json on every OS
// (%USERPROFILE%\.cursor on Windows) and <project>/.cursor/mcp.json.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';

export const cursor: Discoverer = {
  id: 'cursor',
  name: 'Cursor',
  locations(loc) {
    return [{ path: loc.join(loc.home, '.cursor', 'mcp.json'), scope: 'user' }];
  },
  projectFiles: ['.cursor/mcp.json'],
  parse(text) {
    return parseMcpServersJson(text);
  },
  matchesPath: (p) => pathEndsWith(p, '/.cursor/mcp.json'),
};
