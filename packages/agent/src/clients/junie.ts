// JetBrains Junie (jetbrains.com/help/junie/model-context-protocol-mcp.html): the user file
// ~/.junie/mcp/mcp.json (%USERPROFILE%\.junie on Windows) and <project>/.junie/mcp/mcp.json,
// both in the common `mcpServers` shape.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';

export const junie: Discoverer = {
  id: 'junie',
  name: 'JetBrains Junie',
  locations(loc) {
    return [{ path: loc.join(loc.home, '.junie', 'mcp', 'mcp.json'), scope: 'user' }];
  },
  projectFiles: ['.junie/mcp/mcp.json'],
  parse: (text) => parseMcpServersJson(text),
  matchesPath: (p) => pathEndsWith(p, '/.junie/mcp/mcp.json'),
};
