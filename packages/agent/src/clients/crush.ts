// Crush (github.com/charmbracelet/crush, README "Configuration"): .crush.json, then crush.json
// in the project, then the global $XDG_CONFIG_HOME/crush/crush.json (~/.config/crush on macOS
// and Linux, %LOCALAPPDATA%\crush on Windows). `mcp` maps names to {type: stdio|http|sse,
// command, args, env, url, headers, disabled}.
import { isRecord, parseJsonc, str } from '../formats/index.js';
import { pathEndsWith, readServerMap, requireObject } from './common.js';
import type { Discoverer } from './types.js';

export const crush: Discoverer = {
  id: 'crush',
  name: 'Crush',
  locations(loc) {
    const dir = loc.platform === 'win32' ? loc.join(loc.localAppData, 'crush') : loc.join(loc.xdgConfig, 'crush');
    return [{ path: loc.join(dir, 'crush.json'), scope: 'user' }];
  },
  projectFiles: ['.crush.json', 'crush.json'],
  parse(text) {
    const doc = requireObject(parseJsonc(text));
    if (doc.mcp === undefined || doc.mcp === null) return [];
    if (!isRecord(doc.mcp)) throw new Error('`mcp` is not an object of named servers');
    return readServerMap(doc.mcp);
  },
  matchesPath: (p) => pathEndsWith(p, '/crush.json', '/.crush.json') || /^\.?crush\.json$/i.test(p),
  sniff: (doc) => {
    if (!isRecord(doc)) return false;
    if (/charm\.land\/crush/i.test(str(doc.$schema) ?? '')) return true;
    // Crush's types are stdio/http/sse with a string command (OpenCode's are local/remote with an argv array)
    return isRecord(doc.mcp) && Object.values(doc.mcp).some((e) => isRecord(e) && /^(?:stdio|http|sse)$/.test(str(e.type) ?? '') && !Array.isArray(e.command));
  },
};
