// Amp (ampcode.com/manual, "MCP"): ~/.config/amp/settings.json on macOS and Linux,
// %USERPROFILE%\.config\amp\settings.json on Windows, and <project>/.amp/settings.json; servers
// under the flat key `amp.mcpServers` in the common shape.
import { isRecord, parseJsonc } from '../formats/index.js';
import { pathEndsWith, readServerMap, requireObject } from './common.js';
import type { Discoverer } from './types.js';

export const amp: Discoverer = {
  id: 'amp',
  name: 'Amp',
  locations(loc) {
    return [{ path: loc.join(loc.home, '.config', 'amp', 'settings.json'), scope: 'user' }];
  },
  projectFiles: ['.amp/settings.json'],
  parse(text) {
    const doc = requireObject(parseJsonc(text));
    const map = doc['amp.mcpServers'] ?? (isRecord(doc.amp) ? doc.amp.mcpServers : undefined);
    return readServerMap(map);
  },
  matchesPath: (p) => pathEndsWith(p, '/amp/settings.json', '/.amp/settings.json'),
  sniff: (doc) => isRecord(doc) && (isRecord(doc['amp.mcpServers']) || (isRecord(doc.amp) && isRecord(doc.amp.mcpServers))),
};
