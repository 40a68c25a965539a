// Amazon Q Developer CLI (docs.aws.amazon.com/amazonq, "MCP configuration"): global
// ~/.aws/amazonq/mcp.json, workspace .amazonq/mcp.json, and agent files
// ~/.aws/amazonq/cli-agents/*.json (and .amazonq/cli-agents/ in a workspace; agent format in
// aws.github.io/amazon-q-developer-cli). An agent's `allowedTools` runs tools without asking:
// "@server" allows all of a server's tools, "@server/tool" one tool.
import { isRecord, parseJsonc, strArray } from '../formats/index.js';
import { hasServerMap, pathEndsWith, readServerMap, requireObject } from './common.js';
import type { Discoverer, RawServer } from './types.js';

function applyAllowedTools(servers: RawServer[], allowed: string[]): void {
  for (const s of servers) {
    const tools: string[] = [];
    for (const a of allowed) {
      if (a === `@${s.name}` || a === '*') tools.push('*');
      else if (a.startsWith(`@${s.name}/`)) tools.push(a.slice(s.name.length + 2));
    }
    if (tools.length) s.autoApprove = [...new Set([...(s.autoApprove ?? []), ...(tools.includes('*') ? ['*'] : tools)])];
  }
}

export const amazonQ: Discoverer = {
  id: 'amazon-q',
  name: 'Amazon Q Developer',
  locations(loc) {
    const dir = loc.join(loc.home, '.aws', 'amazonq');
    return [
      { path: loc.join(dir, 'mcp.json'), scope: 'user' },
      { path: loc.join(dir, 'cli-agents'), scope: 'user', list: { suffixes: ['.json'] } },
    ];
  },
  projectFiles: ['.amazonq/mcp.json', '.amazonq/cli-agents/*.json'],
  parse(text) {
    const doc = requireObject(parseJsonc(text));
    const servers = readServerMap(doc.mcpServers);
    const allowed = strArray(doc.allowedTools);
    if (allowed) applyAllowedTools(servers, allowed);
    return servers;
  },
  matchesPath: (p) => pathEndsWith(p, '/amazonq/mcp.json', '/.amazonq/mcp.json') || /\/(?:amazonq|\.amazonq)\/cli-agents\/[^/]+\.json$/i.test(p.replace(/\\/g, '/')),
  sniff: (doc) => hasServerMap(doc) && isRecord(doc) && ('allowedTools' in doc || 'useLegacyMcpJson' in doc),
};
