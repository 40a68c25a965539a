// Goose (block.github.io/goose, "Configuration Files"): ~/.config/goose/config.yaml on macOS and
// Linux, %APPDATA%\Block\goose\config\config.yaml on Windows. `extensions` is a map of
// {name, type: stdio|sse|streamable_http|builtin|platform|frontend, cmd, args, envs, env_keys, uri,
// headers, enabled}; some versions nest the settings under `config`.
import { isRecord, parseYaml, str, strArray, strMap } from '../formats/index.js';
import { pathEndsWith, requireObject } from './common.js';
import type { Discoverer, RawServer } from './types.js';

function readGooseExtension(key: string, value: unknown): RawServer | undefined {
  if (!isRecord(value)) return undefined;
  const e = isRecord(value.config) ? { ...value.config, enabled: value.enabled ?? value.config.enabled } : value;
  const s: RawServer = { name: str(e.name) ?? key };
  const type = str(e.type);
  // builtin and platform extensions run inside goose itself, frontend ones in its desktop UI:
  // no command or URL to judge, so they get their own transport kind
  if (type) s.type = /^(?:builtin|platform|frontend)$/i.test(type) ? 'builtin' : type;
  const cmd = str(e.cmd) ?? str(e.command);
  if (cmd) s.command = cmd;
  const args = strArray(e.args);
  if (args) s.args = args;
  const url = str(e.uri) ?? str(e.url);
  if (url) s.url = url;
  const env: Record<string, string> = { ...(strMap(e.envs) ?? strMap(e.env) ?? {}) };
  // env_keys: names whose values goose keeps in its secret store, not in this file
  for (const k of strArray(e.env_keys) ?? []) if (!(k in env)) env[k] = '';
  if (Object.keys(env).length) s.env = env;
  const headers = strMap(e.headers);
  if (headers) s.headers = headers;
  if (e.enabled === false) s.disabled = true;
  const cwd = str(e.cwd);
  if (cwd) s.cwd = cwd;
  return s;
}

export const goose: Discoverer = {
  id: 'goose',
  name: 'Goose',
  locations(loc) {
    const dir = loc.platform === 'win32' ? loc.join(loc.appData, 'Block', 'goose', 'config') : loc.join(loc.xdgConfig, 'goose');
    return [{ path: loc.join(dir, 'config.yaml'), scope: 'user', format: 'yaml' }];
  },
  parse(text) {
    const doc = requireObject(parseYaml(text), 'YAML config');
    const map = doc.extensions;
    if (map === undefined || map === null) return [];
    if (!isRecord(map)) throw new Error('`extensions` is not a map of named extensions');
    const out: RawServer[] = [];
    for (const [key, value] of Object.entries(map)) {
      const s = readGooseExtension(key, value);
      if (s) out.push(s);
    }
    return out;
  },
  matchesPath: (p) => pathEndsWith(p, '/goose/config.yaml', '/goose/config/config.yaml'),
  sniff: (doc) => isRecord(doc) && isRecord(doc.extensions) && Object.values(doc.extensions).some((e) => isRecord(e) && ('cmd' in e || 'uri' in e || 'type' in e)),
};
