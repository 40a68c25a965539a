// --config FILE: one config file of any known format. The content decides: the text is read as
// JSON (with comments), TOML or YAML by what it looks like, then every known client's reader
// tries it; the client whose reader explains the file best (the most servers with a command,
// URL or kind) wins; when several explain it equally, the file's name and place break the tie,
// then a shape only that client writes (Windsurf's serverUrl, Gemini's httpUrl, ...). A file that no client's shape explains is refused with a sentence naming what was found.
import path from 'node:path';
import { genericMcpJson } from './clients/generic.js';
import type { ConfigLocation, Discoverer, LocationContext, RawServer } from './clients/types.js';
import { errMessage, readConfigFile } from './formats/file.js';
import { isRecord, parseConfigText, withParseMemo } from './formats/index.js';
import { contentFormat } from './formats/lines.js';
import { toHostPath } from './paths.js';
import type { ConfigFormat } from './clients/types.js';

export type ConfigFilePlan = { d: Discoverer; location: ConfigLocation; text: string } | { error: string; path: string; clientId: string; clientName: string };

function fail(file: string, error: string, d: Discoverer = genericMcpJson): ConfigFilePlan {
  return { error, path: file, clientId: d.id, clientName: d.name };
}

/** Scope of a --config file: project when it sits where a client's project file goes. */
function locationOf(d: Discoverer, file: string, home: string): ConfigLocation {
  const fwd = file.replace(/\\/g, '/');
  if (/(?:^|\/)managed-mcp\.json$/i.test(fwd) || /\/(?:etc|ProgramData|Library\/Application Support)\/gemini-?cli\/(?:settings|system-defaults)\.json$/i.test(fwd)) return { path: file, scope: 'managed' };
  for (const pf of d.projectFiles ?? []) {
    if (pf.includes('*')) continue;
    if (fwd.toLowerCase().endsWith(`/${pf.toLowerCase()}`)) {
      const root = file.slice(0, file.length - pf.length - 1);
      // ~/.cursor/mcp.json, ~/.gemini/settings.json ... are user files, not projects of the home folder
      if (path.resolve(root) !== home) return { path: file, scope: 'project', projectPath: root };
    }
  }
  return { path: file, scope: 'user' };
}

const FORMAT_NAME: Record<ConfigFormat, string> = { json: 'JSON', toml: 'TOML', yaml: 'YAML' };

/** Read the text as the format it looks like; when that fails, any other format that reads it. */
export function sniffDocument(text: string, fileName: string): { format: ConfigFormat; doc: unknown } | { error: string } {
  const first = contentFormat(text, fileName);
  // a document that starts like JSON is JSON, broken or not (YAML would read some broken JSON)
  const order: ConfigFormat[] = first === 'json' ? ['json'] : first === 'toml' ? ['toml', 'yaml'] : ['yaml', 'toml'];
  let firstError = '';
  for (const format of order) {
    try {
      return { format, doc: parseConfigText(text, format) };
    } catch (err) {
      if (!firstError) firstError = errMessage(err);
    }
  }
  return { error: firstError };
}

interface Candidate {
  d: Discoverer;
  servers: RawServer[];
  /** servers with something to judge: a command, a URL or a kind of their own */
  explained: number;
  shape: boolean;
  byName: boolean;
  order: number;
}

function explainedCount(servers: readonly RawServer[]): number {
  return servers.filter((s) => s.command || s.url || s.type === 'builtin' || s.type === 'extension').length;
}

/** A short account of what the file holds, for the error when no client explains it. */
function describeFound(format: ConfigFormat, doc: unknown): string {
  if (!isRecord(doc)) return `a ${FORMAT_NAME[format]} ${Array.isArray(doc) ? 'list' : 'value'}, not a map of settings`;
  const keys = Object.keys(doc);
  if (keys.length === 0) return `an empty ${FORMAT_NAME[format]} document`;
  const shown = keys.slice(0, 8).map((k) => `\`${k}\``).join(', ');
  return `a ${FORMAT_NAME[format]} document with the top-level key${keys.length === 1 ? '' : 's'} ${shown}${keys.length > 8 ? ` and ${keys.length - 8} more` : ''}`;
}

const KNOWN_KEYS = '`mcpServers`, `servers`, `mcp.servers`, `mcp`, `context_servers`, `[mcp_servers.*]`, `extensions` or `amp.mcpServers`';

export async function planConfigFile(file: string, discoverers: readonly Discoverer[], loc: LocationContext): Promise<ConfigFilePlan> {
  const abs = path.resolve(file);
  let text: string | undefined;
  try {
    text = await readConfigFile(abs);
  } catch (err) {
    return fail(abs, errMessage(err));
  }
  if (text === undefined) return fail(abs, 'the file does not exist or is not a regular file; check the --config value');
  return planConfigText(abs, text, discoverers, loc);
}

/** Choose the client for already-read text (exported for tests). */
export function planConfigText(abs: string, text: string, discoverers: readonly Discoverer[], loc: LocationContext): ConfigFilePlan {
  return withParseMemo(() => chooseClient(abs, text, discoverers, loc));
}

function chooseClient(abs: string, text: string, discoverers: readonly Discoverer[], loc: LocationContext): ConfigFilePlan {
  const fwd = abs.replace(/\\/g, '/');
  const home = path.resolve(toHostPath(loc.home, loc.platform));
  const sniffed = sniffDocument(text, abs);
  if ('error' in sniffed) return fail(abs, sniffed.error);
  const { format, doc } = sniffed;

  const candidates: Candidate[] = [];
  [...discoverers, genericMcpJson].forEach((d, order) => {
    const location = locationOf(d, abs, home);
    let servers: RawServer[];
    try {
      servers = d.parse(text, { path: abs, scope: location.scope, loc, ...(location.projectPath ? { projectPath: location.projectPath } : {}) });
    } catch {
      return; // this client's reader does not read this file
    }
    let shape = false;
    try {
      shape = Boolean(d.sniff?.(doc, fwd));
    } catch {
      // a sniff that trips on an odd document simply does not claim it
    }
    const byName = Boolean(d.matchesPath?.(fwd));
    // an empty server list explains the file only when the shape or the name is this client's
    if (servers.length === 0 && !shape && !byName) return;
    candidates.push({ d, servers, explained: explainedCount(servers), shape, byName, order: d === genericMcpJson ? Number.MAX_SAFE_INTEGER : order });
  });

  // a reader that found nothing is a candidate only when nothing better exists
  candidates.sort((a, b) => b.explained - a.explained || Number(b.byName) - Number(a.byName) || Number(b.shape) - Number(a.shape) || b.servers.length - a.servers.length || a.order - b.order);
  let best = candidates[0];
  // the plain `mcpServers` map that many clients share, with nothing in the name or shape to
  // tell them apart: a generic MCP config, not a guess at one of them
  if (best && !best.shape && !best.byName) best = candidates.find((c) => c.d === genericMcpJson && c.explained === best!.explained) ?? best;
  if (best && (best.explained > 0 || best.byName || best.shape)) return { d: best.d, location: locationOf(best.d, abs, home), text };
  return fail(abs, `no known AI client writes a file like this: found ${describeFound(format, doc)}, but no MCP servers under ${KNOWN_KEYS}. Check that this is an MCP config file.`);
}
