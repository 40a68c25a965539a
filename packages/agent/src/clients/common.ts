// Shapes shared by many clients: the `{"mcpServers": {name: {command, args, env, url, headers}}}`
// family written by Claude Desktop, Cursor, Windsurf, Cline, Gemini CLI and others.
import { isRecord, parseJsonc, str, strArray, strMap } from '../formats/index.js';
import type { RawServer } from './types.js';

/** Read one server entry in the common shape. Unknown keys are ignored. */
export function readServerEntry(name: string, entry: unknown): RawServer | undefined {
  if (!isRecord(entry)) return undefined;
  const server: RawServer = { name };
  const type = str(entry.type) ?? str(entry.transport) ?? str(entry.transportType);
  if (type) server.type = type;
  const command = entry.command;
  if (typeof command === 'string') server.command = command;
  else if (Array.isArray(command)) {
    // some clients write the whole argv as `command`
    const argv = strArray(command) ?? [];
    server.command = argv[0] ?? null;
    server.args = argv.slice(1);
  }
  const args = strArray(entry.args);
  // strArray's list is new: it is the args themselves unless the command was a list too
  if (args) server.args = server.args ? [...server.args, ...args] : args;
  const cwd = str(entry.cwd) ?? str(entry.workingDirectory);
  if (cwd) server.cwd = cwd;
  const url = str(entry.url) ?? str(entry.serverUrl) ?? str(entry.httpUrl) ?? str(entry.uri);
  if (url) server.url = url;
  if (!server.type && str(entry.httpUrl)) server.type = 'http';
  const env = strMap(entry.env) ?? strMap(entry.environment);
  if (env) server.env = env;
  const headers = strMap(entry.headers) ?? strMap(entry.requestInit && isRecord(entry.requestInit) ? entry.requestInit.headers : undefined);
  if (headers) server.headers = headers;
  if (entry.disabled === true || entry.enabled === false) server.disabled = true;
  const approve = strArray(entry.autoApprove) ?? strArray(entry.alwaysAllow) ?? strArray(entry.autoApprovedTools);
  if (approve) server.autoApprove = approve;
  if (entry.trust === true || entry.autoApprove === true || entry.alwaysAllow === true) server.autoApprove = ['*'];
  return server;
}

/** Read a `{name: entry}` map of servers. */
export function readServerMap(map: unknown): RawServer[] {
  if (map === undefined || map === null) return [];
  if (!isRecord(map)) throw new Error('the server list is not an object of named servers');
  const out: RawServer[] = [];
  for (const [name, entry] of Object.entries(map)) {
    const s = readServerEntry(name, entry);
    if (s) out.push(s);
  }
  return out;
}

/** The root of a JSON config must be an object. */
export function requireObject(doc: unknown, what = 'config'): Record<string, unknown> {
  if (!isRecord(doc)) throw new Error(`the ${what} is not a JSON object`);
  return doc;
}

/** `{"mcpServers": {...}}` in JSON with comments: the most common file of all. */
export function parseMcpServersJson(text: string): RawServer[] {
  return readServerMap(requireObject(parseJsonc(text)).mcpServers);
}

/** For --config sniffing: a document whose `key` is an object of named servers. */
export function hasServerMap(doc: unknown, key = 'mcpServers'): boolean {
  return isRecord(doc) && isRecord(doc[key]);
}

/** Does any server entry in the map carry this key? (e.g. Windsurf's `serverUrl`) */
export function anyEntryHas(doc: unknown, key: string, mapKey = 'mcpServers'): boolean {
  if (!isRecord(doc) || !isRecord(doc[mapKey])) return false;
  return Object.values(doc[mapKey]).some((e) => isRecord(e) && key in e);
}

/** Path test for --config: forward slashes, case-insensitive. */
export function pathEndsWith(path: string, ...suffixes: string[]): boolean {
  const p = path.replace(/\\/g, '/').toLowerCase();
  return suffixes.some((s) => p.endsWith(s.toLowerCase()));
}
