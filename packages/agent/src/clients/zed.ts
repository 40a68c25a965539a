// Zed (zed.dev/docs, "Model Context Protocol"): `context_servers` in settings.json, at
// ~/.config/zed/settings.json on macOS and Linux ($XDG_CONFIG_HOME/zed), %APPDATA%\Zed on
// Windows, and <project>/.zed/settings.json. Two entry shapes exist: the older
// `"command": {"path", "args", "env"}` and the flat `"command": "...", "args", "env"`
// (with `"source": "custom"`); extension-provided servers carry only `settings`.
import { isRecord, parseJsonc, str, strArray, strMap } from '../formats/index.js';
import { pathEndsWith, readServerEntry, requireObject } from './common.js';
import type { ConfigLocation, Discoverer, RawServer } from './types.js';

function readZedEntry(name: string, entry: unknown): RawServer | undefined {
  if (!isRecord(entry)) return undefined;
  if (isRecord(entry.command)) {
    const cmd = entry.command;
    const s: RawServer = { name, command: str(cmd.path) ?? null, args: strArray(cmd.args) ?? [] };
    const env = strMap(cmd.env) ?? strMap(entry.env);
    if (env) s.env = env;
    if (entry.enabled === false) s.disabled = true;
    return s;
  }
  const s = readServerEntry(name, entry);
  // extension-provided: Zed's extension supplies the command, the settings only configure it
  if (s && !s.command && !s.url && entry.source === 'extension') s.type = 'extension';
  return s;
}

export const zed: Discoverer = {
  id: 'zed',
  name: 'Zed',
  locations(loc) {
    const dir = loc.platform === 'win32' ? loc.join(loc.appData, 'Zed') : loc.join(loc.xdgConfig, 'zed');
    const out: ConfigLocation[] = [{ path: loc.join(dir, 'settings.json'), scope: 'user' }];
    // the Flathub build keeps its config inside the sandbox's folder
    if (loc.platform === 'linux') out.push({ path: loc.join(loc.home, '.var', 'app', 'dev.zed.Zed', 'config', 'zed', 'settings.json'), scope: 'user' });
    return out;
  },
  projectFiles: ['.zed/settings.json'],
  parse(text) {
    const doc = requireObject(parseJsonc(text));
    const map = doc.context_servers;
    if (map === undefined || map === null) return [];
    if (!isRecord(map)) throw new Error('`context_servers` is not an object of named servers');
    const out: RawServer[] = [];
    for (const [name, entry] of Object.entries(map)) {
      const s = readZedEntry(name, entry);
      if (s) out.push(s);
    }
    return out;
  },
  matchesPath: (p) => pathEndsWith(p, '/zed/settings.json', '/.zed/settings.json'),
  sniff: (doc) => isRecord(doc) && isRecord(doc.context_servers),
};
