// Continue (docs.continue.dev, "MCP"): ~/.continue/config.yaml (`mcpServers` is a LIST of
// {name, command, args, env, type, url}), block files ~/.continue/mcpServers/*.yaml (or JSON
// files in the Claude/Cursor `mcpServers` shape dropped in that folder), the same folder in a
// workspace (.continue/mcpServers/), and the legacy config.json
// `experimental.modelContextProtocolServers` list of {transport: {...}}.
import { formatOf, isRecord, parseConfigText } from '../formats/index.js';
import { pathEndsWith, readServerEntry, readServerMap, requireObject } from './common.js';
import type { Discoverer, RawServer } from './types.js';

function readServerList(list: unknown): RawServer[] {
  if (list === undefined || list === null) return [];
  if (isRecord(list)) return readServerMap(list);
  if (!Array.isArray(list)) throw new Error('`mcpServers` is not a list of servers');
  const out: RawServer[] = [];
  list.forEach((entry, i) => {
    if (!isRecord(entry)) return;
    // `uses:` entries pull a hub block by reference: keep the reference as the name
    const name = typeof entry.name === 'string' ? entry.name : typeof entry.uses === 'string' ? entry.uses : `server-${i + 1}`;
    const s = readServerEntry(name, entry);
    if (s) out.push(s);
  });
  return out;
}

function readLegacy(doc: Record<string, unknown>): RawServer[] {
  const exp = doc.experimental;
  if (!isRecord(exp) || exp.modelContextProtocolServers === undefined) return [];
  const list = exp.modelContextProtocolServers;
  if (!Array.isArray(list)) throw new Error('`experimental.modelContextProtocolServers` is not a list');
  const out: RawServer[] = [];
  list.forEach((entry, i) => {
    if (!isRecord(entry)) return;
    const transport = isRecord(entry.transport) ? entry.transport : entry;
    const name = typeof entry.name === 'string' ? entry.name : `server-${i + 1}`;
    const s = readServerEntry(name, transport);
    if (s) out.push(s);
  });
  return out;
}

export const continueDev: Discoverer = {
  id: 'continue',
  name: 'Continue',
  locations(loc) {
    const dir = loc.env.CONTINUE_GLOBAL_DIR || loc.join(loc.home, '.continue');
    return [
      { path: loc.join(dir, 'config.yaml'), scope: 'user', format: 'yaml' },
      { path: loc.join(dir, 'config.json'), scope: 'user' },
      { path: loc.join(dir, 'mcpServers'), scope: 'user', list: { suffixes: ['.yaml', '.yml', '.json'] } },
    ];
  },
  projectFiles: ['.continue/mcpServers/*.yaml', '.continue/mcpServers/*.yml', '.continue/mcpServers/*.json'],
  parse(text, ctx) {
    const doc = requireObject(parseConfigText(text, formatOf(ctx.path)));
    return [...readServerList(doc.mcpServers), ...readLegacy(doc)];
  },
  matchesPath: (p) => pathEndsWith(p, '/.continue/config.yaml', '/.continue/config.json') || /\/\.continue\/mcpservers\/[^/]+\.(?:ya?ml|json)$/i.test(p.replace(/\\/g, '/')),
  sniff: (doc) => isRecord(doc) && (Array.isArray(doc.mcpServers) || (isRecord(doc.experimental) && Array.isArray(doc.experimental.modelContextProtocolServers))),
};
