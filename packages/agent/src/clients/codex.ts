// OpenAI Codex CLI (github.com/openai/codex, docs/config.md): ~/.codex/config.toml, or
// $CODEX_HOME/config.toml, and <project>/.codex/config.toml. Servers are `[mcp_servers.<name>]`
// tables with command/args/env/cwd (stdio) or url (streamable HTTP) with bearer_token_env_var,
// http_headers and env_http_headers; `enabled = false` turns one off.
import { isRecord, parseToml, str, strArray, strMap } from '../formats/index.js';
import { pathEndsWith, readServerEntry, requireObject } from './common.js';
import type { Discoverer, RawServer } from './types.js';

function readCodexEntry(name: string, entry: unknown): RawServer | undefined {
  const s = readServerEntry(name, entry);
  if (!s || !isRecord(entry)) return s;
  const env = { ...(s.env ?? {}) };
  // env_vars: names passed through from the parent environment (no value in the file)
  for (const v of strArray(entry.env_vars) ?? []) env[v] = env[v] ?? `\${${v}}`;
  if (Object.keys(env).length) s.env = env;
  // Codex reads `http_headers`; a plain `headers` key is ignored by Codex, so it is not reported
  const headers: Record<string, string> = { ...(strMap(entry.http_headers) ?? {}) };
  // env_http_headers: header name -> env var holding its value: a reference, not a literal
  for (const [h, v] of Object.entries(strMap(entry.env_http_headers) ?? {})) headers[h] = `\${${v}}`;
  const bearer = str(entry.bearer_token_env_var);
  if (bearer) headers.Authorization = `Bearer \${${bearer}}`;
  if (Object.keys(headers).length) s.headers = headers;
  else delete s.headers;
  return s;
}

export const codex: Discoverer = {
  id: 'codex',
  name: 'Codex',
  locations(loc) {
    const dir = loc.env.CODEX_HOME || loc.join(loc.home, '.codex');
    return [{ path: loc.join(dir, 'config.toml'), scope: 'user', format: 'toml' }];
  },
  projectFiles: ['.codex/config.toml'],
  parse(text) {
    const doc = requireObject(parseToml(text), 'TOML config');
    const map = doc.mcp_servers;
    if (map === undefined) return [];
    if (!isRecord(map)) throw new Error('`mcp_servers` is not a table of named servers');
    const out: RawServer[] = [];
    for (const [name, entry] of Object.entries(map)) {
      const s = readCodexEntry(name, entry);
      if (s) out.push(s);
    }
    return out;
  },
  matchesPath: (p) => pathEndsWith(p, '/.codex/config.toml') || /\/codex[^/]*\/config\.toml$/i.test(p.replace(/\\/g, '/')),
  sniff: (doc) => isRecord(doc) && isRecord(doc.mcp_servers),
};
