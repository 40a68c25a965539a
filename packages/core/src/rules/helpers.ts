// Small helpers shared by the rule files: reading command lines, quoting evidence safely,
// and wording that every rule uses the same way.
import type { PackageRef, ServerConfig, Tool } from '../model.js';
import { BoundedMemo } from '../memo.js';
import { launchedPackages, parsePackageRef } from '../packages/ref.js';
import { redactFreeText } from '../secrets.js';
import { escapeInvisible, revealHiddenText } from '../unicode.js';

/** `C:\Tools\Bash.EXE` -> `bash`. */
export function commandName(cmd: string | null | undefined): string {
  if (!cmd) return '';
  // the rules ask for the names of the same few words (npx, uvx, docker ...) again and again
  return commandNames.get(cmd, readCommandName);
}

function readCommandName(cmd: string): string {
  const parts = cmd.trim().split(/[\\/]/);
  return (parts[parts.length - 1] ?? '').replace(/\.(?:exe|cmd|bat|ps1|com)$/i, '').toLowerCase();
}

const commandNames = new BoundedMemo<string, string>(4096);

// Patterns used per server and per word, made once (a regular expression literal inside a
// function is a new object every time it runs)
const ABSOLUTE_PATH = /^[A-Za-z]:\\|^\//;
const WHITESPACE = /\s/;
const WSL_VALUE_FLAG = /^(?:-d|--distribution|-u|--user|--cd)$/;
const ENV_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Command and arguments as one list of words. A command with spaces is split (some clients allow it). */
export function commandWords(server: Pick<ServerConfig, 'command' | 'args'>): readonly string[] {
  // most rules read every server's words: they are worked out once per server object and used
  // again only while its command and arguments are still the same; callers only read them
  const cached = readOf(server);
  if (cached) return cached.words;
  const cmd = (server.command ?? '').trim();
  // a new list, which the string arguments are added to
  const words: string[] = cmd && !ABSOLUTE_PATH.test(cmd) && WHITESPACE.test(cmd) ? splitShellWords(cmd) : cmd ? [cmd] : [];
  const headLength = words.length;
  const args = Array.isArray(server.args) ? server.args : undefined;
  if (args) for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') words.push(args[i]!);
  // kept for servers whose arguments are all strings: then the words after the head are the
  // arguments themselves, which is how a later call checks that nothing changed
  if (typeof server === 'object' && server !== null && args && words.length === headLength + args.length) {
    commandReads.set(server, { command: server.command, headLength, words });
  }
  return words;
}

interface CommandRead {
  command: unknown;
  headLength: number;
  words: string[];
  launched?: PackageRef[];
}

const commandReads = new WeakMap<object, CommandRead>();

/** The remembered read of this server's command line, if its command and arguments are unchanged. */
function readOf(server: Pick<ServerConfig, 'command' | 'args'>): CommandRead | undefined {
  const cached = commandReads.get(server);
  if (!cached || cached.command !== server.command) return undefined;
  const args = server.args;
  const { headLength, words } = cached;
  if (!Array.isArray(args) || args.length !== words.length - headLength) return undefined;
  for (let i = 0; i < args.length; i++) if (args[i] !== words[headLength + i]) return undefined;
  return cached;
}

/** The whole command line as one string, for patterns that span words. */
export function commandLine(server: Pick<ServerConfig, 'command' | 'args'>): string {
  return commandWords(server).join(' ');
}

const WRAPPERS = new Set(['env', 'nohup', 'exec', 'time', 'nice', 'ionice', 'stdbuf', 'command', 'builtin', 'caffeinate']);

/**
 * Strip launchers that only wrap another command: `env FOO=1`, `nohup`, `exec`, `time`...
 * Returns the words starting at the real command.
 */
export function unwrapCommand(words: readonly string[]): readonly string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    const name = commandName(w);
    if (name === 'wsl') {
      // wsl.exe [-d distro] [-u user] [--cd dir] [-e|--exec|--] command ...
      i++;
      while (i < words.length && words[i]!.startsWith('-')) i += WSL_VALUE_FLAG.test(words[i]!) ? 2 : 1;
      continue;
    }
    if (WRAPPERS.has(name)) {
      i++;
      while (i < words.length && (words[i]!.startsWith('-') || ENV_ASSIGNMENT.test(words[i]!))) i++;
      continue;
    }
    if (ENV_ASSIGNMENT.test(w)) {
      i++;
      continue;
    }
    break;
  }
  // nothing to strip (most commands): the words themselves, which callers only read
  return i === 0 ? words : words.slice(i);
}

/** Split a shell-ish command string into words, honouring simple quotes. Never throws. */
export function splitShellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (WHITESPACE.test(ch)) {
      if (cur || has) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (cur || has) out.push(cur);
  return out;
}

/** Cut text to `max` characters with an ellipsis. */
export function clip(text: string, max = 200): string {
  // a text of at most `max` UTF-16 units has at most `max` characters: nothing to cut
  if (typeof text === 'string' && text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

/**
 * Text safe to put in evidence: any word shaped like a secret is redacted again (configs
 * reach rules already redacted; this is the second wall), invisible characters are escaped.
 */
export function safeText(text: string, max = 200): string {
  return clip(escapeInvisible(redactText(text)), max);
}

/**
 * Redact anything shaped like a secret in free text (bearer tokens, known token shapes,
 * secrets in URLs, header lines, name=value pairs): secrets.ts's redactFreeText, the same
 * function discovery, `report` and the backend use.
 */
export function redactText(text: string): string {
  return redactFreeText(text);
}

/** A quoted, redacted excerpt of a command line. */
export function quoteCommand(words: readonly string[], max = 200): string {
  return safeText(words.map((w) => (/\s/.test(w) ? JSON.stringify(w) : w)).join(' '), max);
}

/** Sentence appended to messages about servers the config has switched off. */
export function disabledNote(server: Pick<ServerConfig, 'disabled'>): string {
  return server.disabled ? ' The server is disabled in its config, but it is one setting away from running, so the risk stands.' : '';
}

/** `"github"` as a server is named in messages. */
export function serverLabel(server: Pick<ServerConfig, 'name'>): string {
  return `"${typeof server.name === 'string' ? clip(server.name, 80) : '?'}"`;
}

/** Tools of a server, tolerating malformed input. */
export function toolsOf(server: Pick<ServerConfig, 'tools'>): readonly Tool[] {
  const tools = server.tools;
  if (!Array.isArray(tools) || tools.length === 0) return NO_TOOLS;
  // the usual case, every tool well formed: the list itself (callers only read it); most
  // servers have none (no --probe), and eleven rules ask for each server's
  for (let i = 0; i < tools.length; i++) if (!usable(tools[i])) return tools.filter(usable);
  return tools;
}

const NO_TOOLS: readonly Tool[] = Object.freeze([]);

function usable(t: unknown): t is Tool {
  return Boolean(t) && typeof t === 'object' && typeof (t as Tool).name === 'string';
}

/**
 * What the model reads of a tool, ready for pattern rules: tag characters decoded, invisible
 * characters and ANSI sequences removed, secrets redacted. Computed once per tool.
 */
export function modelText(tool: Tool): string {
  const source = toolText(tool);
  // cached per tool object, and only while its text is the same (callers may edit tools)
  const cached = modelTexts.get(tool);
  if (cached && cached.source === source) return cached.text;
  const text = redactText(revealHiddenText(source));
  modelTexts.set(tool, { source, text });
  return text;
}

const modelTexts = new WeakMap<Tool, { source: string; text: string }>();

/** Everything a model reads about a tool: its description and its parameters' descriptions. */
export function toolText(tool: Tool): string {
  return [typeof tool.description === 'string' ? tool.description : '', typeof tool.schemaText === 'string' ? tool.schemaText : ''].filter(Boolean).join('\n');
}

/** Excerpt of `text` around a match, for evidence. */
export function around(text: string, index: number, length: number, radius = 60): string {
  const start = Math.max(0, index - radius);
  const end = Math.min(text.length, index + length + radius);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`.replace(/\s+/g, ' ');
}

/** Arguments as strings, tolerating malformed input. */
export function argsOf(server: Pick<ServerConfig, 'args'>): readonly string[] {
  const args = server.args;
  if (!Array.isArray(args)) return NO_ARGS;
  // the usual case, every argument a string: the list itself (callers only read it)
  for (let i = 0; i < args.length; i++) if (typeof args[i] !== 'string') return args.filter((a): a is string => typeof a === 'string');
  return args;
}

const NO_ARGS: readonly string[] = Object.freeze([]);

/** The package a server launches: as discovery recorded it, else read from the command line. */
export function packageOf(server: Pick<ServerConfig, 'package' | 'command' | 'args'>): PackageRef | undefined {
  if (server.package && typeof server.package === 'object') return server.package;
  // several rules ask for the same server in one evaluation: parse its command line once
  // (per server object, and only while the command line is the same)
  const args = argsOf(server);
  const line = `${typeof server.command === 'string' ? server.command : ''}\0${args.join('\0')}`;
  const cached = parsedPackages.get(server);
  if (cached && cached.line === line) return cached.ref;
  let ref: PackageRef | undefined;
  try {
    ref = parsePackageRef(typeof server.command === 'string' ? server.command : null, args);
  } catch {
    ref = undefined;
  }
  parsedPackages.set(server, { line, ref });
  return ref;
}

const parsedPackages = new WeakMap<object, { line: string; ref: PackageRef | undefined }>();

/**
 * Every package the server's command line fetches and runs (ref.ts's launchedPackages; [] when
 * it cannot be read). Worked out once per server object while its command and arguments stay
 * the same (PAL-C003 and PAL-C004 both ask); callers only read the list and its packages.
 */
export function launchedPackagesOf(server: Pick<ServerConfig, 'command' | 'args'>): readonly Readonly<PackageRef>[] {
  let read = readOf(server);
  if (!read) {
    commandWords(server);
    read = readOf(server);
  }
  let chain = read?.launched;
  if (!chain) {
    try {
      chain = launchedPackages(typeof server.command === 'string' ? server.command : null, argsOf(server));
    } catch {
      chain = [];
    }
    if (read) read.launched = chain;
  }
  return chain;
}

/** Servers grouped by client, each group sorted by id, so scan rules do not depend on input order. */
export function groupByClient(servers: readonly ServerConfig[]): Array<[string, ServerConfig[]]> {
  const byClient = new Map<string, ServerConfig[]>();
  for (const s of servers) {
    const key = String(s.client);
    const list = byClient.get(key);
    if (list) list.push(s);
    else byClient.set(key, [s]);
  }
  for (const list of byClient.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return [...byClient].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface ServerContext {
  client: string;
  /** the project folder, when the group is one project's view of the client */
  project?: string;
  /** sorted by id */
  servers: ServerConfig[];
}

/**
 * The sets of servers a model sees together. Per client: servers without a project folder
 * (user, managed) are active everywhere; each project adds its own servers to those. A client
 * with projects yields one context per project; one without, a single context.
 */
export function contextsOf(servers: readonly ServerConfig[]): ServerContext[] {
  const out: ServerContext[] = [];
  for (const [client, group] of groupByClient(servers)) {
    const global = new Set(group.filter((s) => typeof s.projectPath !== 'string' || s.projectPath === ''));
    const projects = [...new Set(group.filter((s) => !global.has(s)).map((s) => s.projectPath!))].sort();
    if (projects.length === 0) out.push({ client, servers: [...global] });
    for (const project of projects) out.push({ client, project, servers: group.filter((s) => global.has(s) || s.projectPath === project) });
  }
  return out;
}
