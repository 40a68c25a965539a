// LibreChat (librechat.ai/docs/configuration/librechat_yaml/object_structure/mcp_servers):
// a self-hosted chat app configured by librechat.yaml at the root of its install (the folder
// `git clone` made, usually ~/LibreChat), or the file named by $CONFIG_PATH. `mcpServers` maps
// names to {type: stdio|sse|streamable-http|websocket, command, args, env, url, headers,
// timeout, iconPath, chatMenu, serverInstructions, customUserVars}. The same layout on every OS.
import { isRecord, parseYaml } from '../formats/index.js';
import { pathEndsWith, readServerMap, requireObject } from './common.js';
import type { ConfigLocation, Discoverer } from './types.js';

export const libreChat: Discoverer = {
  id: 'librechat',
  name: 'LibreChat',
  locations(loc) {
    const out: ConfigLocation[] = [{ path: loc.join(loc.home, 'LibreChat', 'librechat.yaml'), scope: 'user', format: 'yaml' }];
    if (loc.env.CONFIG_PATH && /\.ya?ml$/i.test(loc.env.CONFIG_PATH)) out.push({ path: loc.env.CONFIG_PATH, scope: 'user', format: 'yaml' });
    return out;
  },
  projectFiles: ['librechat.yaml', 'librechat.yml'],
  parse(text) {
    return readServerMap(requireObject(parseYaml(text), 'YAML config').mcpServers);
  },
  matchesPath: (p) => pathEndsWith(p, '/librechat.yaml', '/librechat.yml'),
  // LibreChat's file carries its own `version` and app sections beside mcpServers
  sniff: (doc) => isRecord(doc) && isRecord(doc.mcpServers) && ('endpoints' in doc || 'interface' in doc || 'registration' in doc || ('version' in doc && 'cache' in doc)),
};
