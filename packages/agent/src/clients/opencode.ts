// OpenCode (opencode.ai/docs/config, /docs/mcp-servers): ~/.config/opencode/opencode.json or
// .jsonc ($XDG_CONFIG_HOME/opencode; OpenCode uses ~/.config on every OS), $OPENCODE_CONFIG,
// $OPENCODE_CONFIG_DIR,
// and opencode.json(c) at a project root. `mcp` maps names to {type: local, command: [argv],
// environment} or {type: remote, url, headers}; `enabled: false` turns one off.
import { isRecord, parseJsonc } from '../formats/index.js';
import { readServerMap, requireObject } from './common.js';
import type { ConfigLocation, Discoverer } from './types.js';

export const openCode: Discoverer = {
  id: 'opencode',
  name: 'OpenCode',
  locations(loc) {
    const dir = loc.join(loc.xdgConfig, 'opencode');
    const out: ConfigLocation[] = ['opencode.json', 'opencode.jsonc', 'config.json'].map((f) => ({ path: loc.join(dir, f), scope: 'user' as const }));
    if (loc.env.OPENCODE_CONFIG) out.push({ path: loc.env.OPENCODE_CONFIG, scope: 'user' });
    if (loc.env.OPENCODE_CONFIG_DIR) out.push({ path: loc.join(loc.env.OPENCODE_CONFIG_DIR, 'opencode.json'), scope: 'user' }, { path: loc.join(loc.env.OPENCODE_CONFIG_DIR, 'opencode.jsonc'), scope: 'user' });
    return out;
  },
  projectFiles: ['opencode.json', 'opencode.jsonc', '.opencode/opencode.json', '.opencode/opencode.jsonc'],
  parse(text) {
    const doc = requireObject(parseJsonc(text));
    if (doc.mcp === undefined) return [];
    if (!isRecord(doc.mcp)) throw new Error('`mcp` is not an object of named servers');
    // newer releases nest the map one level down: "mcp": {"servers": {...}}
    const nested = doc.mcp.servers;
    if (isRecord(nested) && !('type' in nested) && !('command' in nested) && !('url' in nested)) return readServerMap(nested);
    return readServerMap(doc.mcp);
  },
  matchesPath: (p) => /\/opencode(?:\/[^/]+)?\.jsonc?$|\/opencode\/config\.json$/i.test(p.replace(/\\/g, '/')),
  sniff: (doc) => {
    if (!isRecord(doc) || !isRecord(doc.mcp)) return false;
    const map = isRecord(doc.mcp.servers) && !('type' in doc.mcp.servers) ? doc.mcp.servers : doc.mcp;
    return Object.values(map).some((e) => isRecord(e) && (e.type === 'local' || e.type === 'remote'));
  },
};
