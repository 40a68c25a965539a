// Tool pins: the first definition hash seen for each tool of each server, kept in the state
// folder. A later probe that sees a different definition is a rug pull, and stays one (the
// ORIGINAL pin is kept) until the user re-pins with `palisade pins reset`.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { compareText, toolPin, type ServerConfig } from '@palisade/core';
import { writeStateFile } from './state.js';

export const PINS_FILE = 'pins.json';
const PINS_VERSION = 1;

export interface ToolPin {
  /** definitionHash of the tool when first seen */
  hash: string;
  firstSeen: string;
  /** the latest hash seen, when it differs from the pinned one */
  lastHash?: string;
  lastSeen?: string;
}

export interface ServerPins {
  name: string;
  client: string;
  configPath: string;
  projectPath?: string;
  /** by tool name; a Map so tool names like "__proto__" are plain keys */
  tools: Map<string, ToolPin>;
}

export interface PinStore {
  file: string;
  /** by server id */
  servers: Map<string, ServerPins>;
  /** problems met while loading, as sentences for the user */
  warnings: string[];
}

export interface PinRow {
  serverId: string;
  server: string;
  client: string;
  configPath: string;
  tool: string;
  hash: string;
  firstSeen: string;
  /** true when the latest probe saw a definition different from the pin */
  changed: boolean;
  lastSeen?: string;
}

export function pinsFile(stateDir: string): string {
  return path.join(stateDir, PINS_FILE);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str = (v: unknown): v is string => typeof v === 'string';

/** Parse the pins file's JSON; throws an Error saying what is wrong. */
export function parsePins(text: string): Map<string, ServerPins> {
  const data: unknown = JSON.parse(text);
  if (!isRecord(data) || data.version !== PINS_VERSION || !isRecord(data.servers)) throw new Error(`it is not a version ${PINS_VERSION} pins file`);
  const servers = new Map<string, ServerPins>();
  for (const [id, s] of Object.entries(data.servers)) {
    if (!isRecord(s) || !str(s.name) || !str(s.client) || !str(s.configPath) || !isRecord(s.tools)) throw new Error(`the entry for server ${id} is malformed`);
    const tools = new Map<string, ToolPin>();
    for (const [tool, p] of Object.entries(s.tools)) {
      if (!isRecord(p) || !str(p.hash) || !str(p.firstSeen)) throw new Error(`the pin for tool ${tool} of server ${s.name} is malformed`);
      const pin: ToolPin = { hash: p.hash, firstSeen: p.firstSeen };
      if (str(p.lastHash)) pin.lastHash = p.lastHash;
      if (str(p.lastSeen)) pin.lastSeen = p.lastSeen;
      tools.set(tool, pin);
    }
    const entry: ServerPins = { name: s.name, client: s.client, configPath: s.configPath, tools };
    if (str(s.projectPath)) entry.projectPath = s.projectPath;
    servers.set(id, entry);
  }
  return servers;
}

export function serializePins(servers: ReadonlyMap<string, ServerPins>): string {
  const out = {
    version: PINS_VERSION,
    servers: Object.fromEntries(
      [...servers].map(([id, s]) => [id, { name: s.name, client: s.client, configPath: s.configPath, projectPath: s.projectPath, tools: Object.fromEntries(s.tools) }]),
    ),
  };
  return JSON.stringify(out, null, 2) + '\n';
}

/**
 * Load the pins of a state folder. A missing file is an empty store; a corrupt one is moved
 * to pins.json.bak with a warning, and pinning starts fresh. Never throws for bad content.
 */
export async function loadPins(stateDir: string): Promise<PinStore> {
  const file = pinsFile(stateDir);
  const store: PinStore = { file, servers: new Map(), warnings: [] };
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return store;
    store.warnings.push(`the pins file ${file} could not be read (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : String((err as Error).message)}); tools are compared against no pins this time. Check the file's permissions.`);
    return store;
  }
  try {
    store.servers = parsePins(text);
  } catch (err) {
    const reason = err instanceof SyntaxError ? 'it is not valid JSON' : (err as Error).message;
    const bak = `${file}.bak`;
    let moved = true;
    try {
      await fs.rename(file, bak);
    } catch {
      moved = false;
    }
    store.warnings.push(
      `the pins file ${file} is corrupt (${reason}); ${moved ? `it was moved to ${bak} and ` : ''}pinning starts fresh, so every tool shows as new this time.`,
    );
  }
  return store;
}

export async function savePins(store: PinStore): Promise<void> {
  await writeStateFile(store.file, serializePins(store.servers));
}

/**
 * Compare every probed tool with its pin and set `tool.pin`; pin tools seen for the first
 * time. Returns true when the store changed and should be saved.
 */
export function applyPins(store: PinStore, servers: readonly ServerConfig[], now: Date): boolean {
  const at = now.toISOString();
  let dirty = false;
  for (const server of servers) {
    if (!server.tools?.length) continue;
    let entry = store.servers.get(server.id);
    if (!entry) {
      entry = { name: server.name, client: server.client, configPath: server.configPath, tools: new Map() };
      if (server.projectPath) entry.projectPath = server.projectPath;
      store.servers.set(server.id, entry);
      dirty = true;
    }
    for (const tool of server.tools) {
      if (!tool.definitionHash) continue;
      const pin = entry.tools.get(tool.name);
      tool.pin = toolPin(pin, tool.definitionHash, at);
      if (!pin) {
        entry.tools.set(tool.name, { hash: tool.definitionHash, firstSeen: at });
        dirty = true;
      } else if (tool.pin.status === 'unchanged') {
        if (pin.lastHash) {
          // changed back to the pinned definition
          delete pin.lastHash;
          delete pin.lastSeen;
          dirty = true;
        }
      } else {
        if (pin.lastHash !== tool.definitionHash) dirty = true;
        pin.lastHash = tool.definitionHash;
        pin.lastSeen = at;
      }
    }
  }
  return dirty;
}

export function listPins(store: PinStore): PinRow[] {
  const rows: PinRow[] = [];
  for (const [serverId, s] of store.servers) {
    for (const [tool, p] of s.tools) {
      const row: PinRow = { serverId, server: s.name, client: s.client, configPath: s.configPath, tool, hash: p.hash, firstSeen: p.firstSeen, changed: Boolean(p.lastHash && p.lastHash !== p.hash) };
      if (p.lastSeen) row.lastSeen = p.lastSeen;
      rows.push(row);
    }
  }
  return rows.sort((a, b) => compareText(a.server, b.server) || compareText(a.client, b.client) || compareText(a.serverId, b.serverId) || compareText(a.tool, b.tool));
}

/**
 * Forget pins: all of them, or those of the servers whose id or name is `selector`.
 * Returns the server ids removed.
 */
export function resetPins(store: PinStore, selector?: string): string[] {
  const ids = [...store.servers].filter(([id, s]) => selector === undefined || id === selector || s.name === selector).map(([id]) => id);
  for (const id of ids) store.servers.delete(id);
  return ids;
}

// ---- the `palisade pins` commands (loaded lazily by commands/pins.ts) ----

export interface PinsCommandIo {
  stateDir: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

function shortDate(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z');
}

function renderPinsTable(rows: readonly PinRow[]): string {
  const header = ['SERVER', 'CLIENT', 'TOOL', 'FIRST SEEN', 'PIN', 'STATUS'];
  const body = rows.map((r) => [r.server, r.client, r.tool, shortDate(r.firstSeen), r.hash.slice(0, 12), r.changed ? `CHANGED ${shortDate(r.lastSeen ?? '')}` : 'pinned']);
  const widths = header.map((h, i) => Math.min(48, Math.max(h.length, ...body.map((row) => row[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + '…' : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n') + '\n';
}

/** `palisade pins list [--json]`; returns the exit code. */
export async function runPinsList(flags: { json?: boolean }, io: PinsCommandIo): Promise<number> {
  const store = await loadPins(io.stateDir);
  for (const w of store.warnings) io.err(`palisade: warning: ${w}\n`);
  const rows = listPins(store);
  if (flags.json) {
    io.out(JSON.stringify({ file: store.file, pins: rows }, null, 2) + '\n');
    return 0;
  }
  if (!rows.length) {
    io.out(`No tools are pinned yet (${store.file}). Run \`palisade scan --probe\` to pin the tools of every server.\n`);
    return 0;
  }
  const changed = rows.filter((r) => r.changed).length;
  io.out(renderPinsTable(rows));
  io.out(`\n${rows.length} tool pin${rows.length === 1 ? '' : 's'} for ${store.servers.size} server${store.servers.size === 1 ? '' : 's'}${changed ? `, ${changed} changed since pinned` : ''} (${store.file}).\n`);
  if (changed) io.out('A changed tool stays reported until you re-pin it with `palisade pins reset SERVER`, after checking the new definition.\n');
  return 0;
}

/** `palisade pins reset [SERVER]`; returns the exit code. */
export async function runPinsReset(selector: string | undefined, io: PinsCommandIo): Promise<number> {
  const store = await loadPins(io.stateDir);
  for (const w of store.warnings) io.err(`palisade: warning: ${w}\n`);
  const removed = resetPins(store, selector);
  if (selector !== undefined && removed.length === 0) {
    io.err(`palisade: no pinned server is named or has the id "${selector}". Run \`palisade pins list\` to see the pinned servers.\n`);
    return 1;
  }
  if (removed.length) await savePins(store);
  if (selector === undefined) io.out(removed.length ? `Removed the pins of all ${removed.length} server${removed.length === 1 ? '' : 's'}; the next \`palisade scan --probe\` pins their tools again.\n` : 'There were no pins to remove.\n');
  else io.out(`Removed the pins of ${removed.length === 1 ? `server "${selector}"` : `${removed.length} servers named "${selector}"`} (${removed.join(', ')}); the next \`palisade scan --probe\` pins its tools again.\n`);
  return 0;
}
