// GitHub Copilot CLI (docs.github.com, "Using GitHub Copilot CLI", adding MCP servers):
// ~/.copilot/mcp-config.json on every OS (%USERPROFILE%\.copilot on Windows; $XDG_CONFIG_HOME
// moves it to $XDG_CONFIG_HOME/.copilot). `mcpServers` maps names to {type: local|stdio|http|sse,
// command, args, env, url, headers, tools}; `tools: ["*"]` lets the agent call every tool.
import { isRecord, parseJsonc, strArray } from '../formats/index.js';
import { pathEndsWith, readServerEntry, requireObject } from './common.js';
import type { ConfigLocation, Discoverer, RawServer } from './types.js';

export const copilotCli: Discoverer = {
  id: 'copilot-cli',
  name: 'GitHub Copilot CLI',
  locations(loc) {
    const out: ConfigLocation[] = [{ path: loc.join(loc.home, '.copilot', 'mcp-config.json'), scope: 'user' }];
    if (loc.env.XDG_CONFIG_HOME) out.push({ path: loc.join(loc.env.XDG_CONFIG_HOME, '.copilot', 'mcp-config.json'), scope: 'user' });
    return out;
  },
  parse(text) {
    const map = requireObject(parseJsonc(text)).mcpServers;
    if (map === undefined || map === null) return [];
    if (!isRecord(map)) throw new Error('`mcpServers` is not an object of named servers');
    const out: RawServer[] = [];
    for (const [name, entry] of Object.entries(map)) {
      const s = readServerEntry(name, entry);
      if (!s || !isRecord(entry)) continue;
      // `tools` lists the tools the agent may call without asking
      const tools = strArray(entry.tools);
      if (tools?.length && !s.autoApprove) s.autoApprove = tools;
      out.push(s);
    }
    return out;
  },
  matchesPath: (p) => pathEndsWith(p, '/.copilot/mcp-config.json'),
  sniff: (doc) => isRecord(doc) && isRecord(doc.mcpServers) && Object.values(doc.mcpServers).some((e) => isRecord(e) && Array.isArray(e.tools) && (e.type === 'local' || e.type === 'stdio' || e.type === 'http' || e.type === 'sse')),
};
