// VS Code and VS Code Insiders (code.visualstudio.com, "MCP servers in VS Code"): the user
// mcp.json beside settings.json (`servers`, plus `inputs` whose values are prompted for, so
// `${input:id}` is a reference), the older `mcp.servers` block in settings.json, profile
// folders, and <workspace>/.vscode/mcp.json.
import { isRecord, parseJsonc } from '../formats/index.js';
import { readServerMap, requireObject } from './common.js';
import type { ConfigLocation, Discoverer, LocationContext, RawServer } from './types.js';

export function parseVsCodeMcp(text: string): RawServer[] {
  const doc = requireObject(parseJsonc(text));
  // mcp.json: {"servers": {...}, "inputs": [...]}
  if (doc.servers !== undefined) return readServerMap(doc.servers);
  // settings.json: "mcp": {"servers": {...}} or the flat key "mcp.servers"
  if (isRecord(doc.mcp) && doc.mcp.servers !== undefined) return readServerMap(doc.mcp.servers);
  if (doc['mcp.servers'] !== undefined) return readServerMap(doc['mcp.servers']);
  return [];
}

export function vsCodeUserLocations(loc: LocationContext, product: string, serverDir?: string): ConfigLocation[] {
  const user = loc.join(loc.appData, product, 'User');
  const out: ConfigLocation[] = [
    { path: loc.join(user, 'mcp.json'), scope: 'user' },
    { path: loc.join(user, 'settings.json'), scope: 'user' },
    { path: loc.join(user, 'profiles'), scope: 'user', list: { childFile: 'mcp.json' } },
    { path: loc.join(user, 'profiles'), scope: 'user', list: { childFile: 'settings.json' } },
  ];
  // VS Code Server (Remote-SSH, WSL) keeps the remote user's data in the home folder
  if (serverDir && loc.platform === 'linux') out.push({ path: loc.join(loc.home, serverDir, 'data', 'User', 'mcp.json'), scope: 'user' });
  return out;
}

export function makeVsCode(id: string, name: string, product: string, serverDir: string, projectFiles?: string[]): Discoverer {
  const folder = product.toLowerCase();
  return {
    id,
    name,
    locations: (loc) => vsCodeUserLocations(loc, product, serverDir),
    ...(projectFiles ? { projectFiles } : {}),
    parse: (text) => parseVsCodeMcp(text),
    matchesPath: (p) => {
      const q = p.replace(/\\/g, '/').toLowerCase();
      if (projectFiles && q.endsWith('/.vscode/mcp.json')) return true;
      return new RegExp(`/${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/user/(?:profiles/[^/]+/)?(?:mcp|settings)\\.json$`).test(q) || q.endsWith(`/${serverDir}/data/user/mcp.json`);
    },
    // shape alone cannot tell Insiders from VS Code: such a file goes to VS Code
    ...(projectFiles ? { sniff: (doc: unknown) => isRecord(doc) && (isRecord(doc.servers) || isRecord(doc['mcp.servers']) || (isRecord(doc.mcp) && isRecord(doc.mcp.servers))) } : {}),
  };
}
