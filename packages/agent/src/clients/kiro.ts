// Kiro (kiro.dev/docs/mcp/configuration): ~/.kiro/settings/mcp.json and
// <project>/.kiro/settings/mcp.json, `mcpServers` with `disabled` and `autoApprove`.
import { parseMcpServersJson, pathEndsWith } from './common.js';
import type { Discoverer } from './types.js';

export const kiro: Discoverer = {
  id: 'kiro',
  name: 'Kiro',
  locations(loc) {
    return [{ path: loc.join(loc.home, '.kiro', 'settings', 'mcp.json'), scope: 'user' }];
  },
  projectFiles: ['.kiro/settings/mcp.json'],
  parse(text) {
    return parseMcpServersJson(text);
  },
  matchesPath: (p) => pathEndsWith(p, '/.kiro/settings/mcp.json'),
};
