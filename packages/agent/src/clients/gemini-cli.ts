// Gemini CLI (github.com/google-gemini/gemini-cli, docs/tools/mcp-server.md):
// ~/.gemini/settings.json and <project>/.gemini/settings.json, `mcpServers` where `url` is an
// SSE endpoint and `httpUrl` a streamable HTTP one; `trust: true` skips every confirmation.
// Extensions (~/.gemini/extensions/<name>/gemini-extension.json) bring their own `mcpServers`.
// System settings (docs/cli/configuration.md) are read as the managed scope.
import { isRecord, parseJsonc, str } from '../formats/index.js';
import { anyEntryHas, pathEndsWith, readServerEntry, requireObject } from './common.js';
import type { ConfigLocation, Discoverer, LocationContext, RawServer } from './types.js';

/** System-wide files (Gemini CLI's configuration docs): settings.json overrides everyone, system-defaults.json underlies everyone. */
function systemFiles(loc: LocationContext): string[] {
  const out: string[] = [];
  const dir = (): string | undefined => {
    if (loc.systemRoot === undefined) return undefined;
    if (loc.platform === 'darwin') return loc.join(loc.systemRoot, 'Library', 'Application Support', 'GeminiCli');
    if (loc.platform === 'win32') return loc.join(loc.systemRoot, 'ProgramData', 'gemini-cli');
    return loc.join(loc.systemRoot, 'etc', 'gemini-cli');
  };
  const d = dir();
  out.push(loc.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH || (d ? loc.join(d, 'settings.json') : ''));
  out.push(loc.env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH || (d ? loc.join(d, 'system-defaults.json') : ''));
  return out.filter(Boolean);
}

export function parseGeminiServers(map: unknown): RawServer[] {
  if (map === undefined || map === null) return [];
  if (!isRecord(map)) throw new Error('`mcpServers` is not an object of named servers');
  const out: RawServer[] = [];
  for (const [name, entry] of Object.entries(map)) {
    const s = readServerEntry(name, entry);
    if (!s || !isRecord(entry)) continue;
    // `url` without `httpUrl` or a type is SSE in Gemini CLI
    if (!s.type && str(entry.url) && !str(entry.httpUrl)) s.type = 'sse';
    out.push(s);
  }
  return out;
}

export const geminiCli: Discoverer = {
  id: 'gemini-cli',
  name: 'Gemini CLI',
  locations(loc) {
    const out: ConfigLocation[] = [
      { path: loc.join(loc.home, '.gemini', 'settings.json'), scope: 'user' },
      { path: loc.join(loc.home, '.gemini', 'extensions'), scope: 'user', list: { childFile: 'gemini-extension.json' } },
    ];
    for (const path of systemFiles(loc)) out.push({ path, scope: 'managed' });
    return out;
  },
  projectFiles: ['.gemini/settings.json'],
  parse(text) {
    return parseGeminiServers(requireObject(parseJsonc(text)).mcpServers);
  },
  matchesPath: (p) => pathEndsWith(p, '/.gemini/settings.json', '/gemini-extension.json', '/gemini-cli/settings.json', '/geminicli/settings.json', '/gemini-cli/system-defaults.json', '/geminicli/system-defaults.json'),
  sniff: (doc) => anyEntryHas(doc, 'httpUrl'),
};
