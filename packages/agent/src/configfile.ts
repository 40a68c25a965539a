// --config FILE: one config file of any known format. The client is picked by where the file
// is (its path matches a client's known location), then by its content's shape; a file with
// the common `mcpServers` map that no client claims is read as a generic MCP config.
import path from 'node:path';
import { genericMcpJson } from './clients/generic.js';
import type { ConfigLocation, Discoverer, LocationContext } from './clients/types.js';
import { errMessage, readConfigFile } from './formats/file.js';
import { formatOf, isRecord, parseConfigText } from './formats/index.js';
import { toHostPath } from './paths.js';

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

export async function planConfigFile(file: string, discoverers: readonly Discoverer[], loc: LocationContext): Promise<ConfigFilePlan> {
  const abs = path.resolve(file);
  let text: string | undefined;
  try {
    text = await readConfigFile(abs);
  } catch (err) {
    return fail(abs, errMessage(err));
  }
  if (text === undefined) return fail(abs, 'the file does not exist or is not a regular file; check the --config value');
  const fwd = abs.replace(/\\/g, '/');
  const home = path.resolve(toHostPath(loc.home, loc.platform));
  const byPath = discoverers.find((d) => d.matchesPath?.(fwd));
  if (byPath) return { d: byPath, location: locationOf(byPath, abs, home), text };
  let doc: unknown;
  try {
    doc = parseConfigText(text, formatOf(abs));
  } catch (err) {
    return fail(abs, errMessage(err));
  }
  const byShape = discoverers.find((d) => d.sniff?.(doc, fwd));
  if (byShape) return { d: byShape, location: locationOf(byShape, abs, home), text };
  if (isRecord(doc) && isRecord(doc.mcpServers)) return { d: genericMcpJson, location: { path: abs, scope: 'user' }, text };
  return fail(
    abs,
    'no known AI client writes a file like this: expected MCP servers under `mcpServers`, `servers`, `mcp.servers`, `context_servers`, `[mcp_servers.*]`, `extensions` or `mcp`; check that this is an MCP config file',
  );
}
