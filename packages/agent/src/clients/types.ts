// The discoverer contract: one AI client per file, each saying where its MCP config files
// live on each OS and how to read them. Adding a client is one new file plus fixtures.
import type { Scope } from '@palisade/core';

export type Platform = 'darwin' | 'linux' | 'win32';

/** Where things are on the machine being scanned (real or a mounted image under --home). */
export interface LocationContext {
  platform: Platform;
  home: string;
  /** %APPDATA% on Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME (~/.config) on Linux */
  appData: string;
  /** %LOCALAPPDATA% on Windows; same as appData elsewhere */
  localAppData: string;
  /** $XDG_CONFIG_HOME or ~/.config (on every OS: several CLIs use ~/.config everywhere) */
  xdgConfig: string;
  /** the environment that decides overrides (CLAUDE_CONFIG_DIR, CODEX_HOME, ...); empty under --home */
  env: Readonly<Record<string, string | undefined>>;
  /** path.join for the scanned platform */
  join(...parts: string[]): string;
  /**
   * The root of the scanned machine's file system, for system-wide (managed) files: '/' or
   * 'C:\\' on the real machine; under --home, the image root when the home sits where the OS
   * puts homes (<root>/home/<user>, <root>/Users/<user>); undefined when it cannot be told,
   * and then system-wide files are not read.
   */
  systemRoot?: string;
}

export type ConfigFormat = 'json' | 'toml' | 'yaml';

export interface ConfigLocation {
  path: string;
  scope: Scope;
  format?: ConfigFormat;
  /**
   * When set, `path` is a folder, listed one level deep (bounded): with `suffixes`, each file
   * whose name ends in one of them is a config file; with `childFile`, `<path>/<entry>/<childFile>`
   * is one for each sub-folder (e.g. Gemini extensions, VS Code profiles).
   */
  list?: { suffixes?: string[]; childFile?: string };
  /** an index file that names more config files (Claude Code's installed_plugins.json): see Discoverer.follow */
  index?: boolean;
  /** the project folder this file belongs to (--path walks, per-project files) */
  projectPath?: string;
  /** a hint for parse when one client writes several file shapes (e.g. 'plugin') */
  kind?: string;
}

/**
 * One server as written in a config file, before normalisation. Env and header values
 * are here only in memory, to classify them; normalisation drops them.
 */
export interface RawServer {
  name: string;
  /**
   * as declared by the config (stdio, http, sse, streamable-http ...), if it says; 'builtin'
   * (part of the client) and 'extension' (started by a client extension) become transports
   */
  type?: string;
  command?: string | null;
  args?: string[];
  cwd?: string | null;
  url?: string | null;
  env?: Record<string, string>;
  headers?: Record<string, string>;
  disabled?: boolean;
  autoApprove?: string[];
  scope?: Scope;
  projectPath?: string;
}

export interface ParseContext {
  path: string;
  scope: Scope;
  loc: LocationContext;
  /** the location's kind hint, if any */
  kind?: string;
  projectPath?: string;
}

export interface Discoverer {
  id: string;
  name: string;
  /** every config file this client may have on this platform */
  locations(loc: LocationContext): ConfigLocation[];
  /** project-folder files relative to a project root, for --path (e.g. ".cursor/mcp.json") */
  projectFiles?: string[];
  /** read one config file's text into servers; throw an Error with a clear message on bad input */
  parse(text: string, ctx: ParseContext): RawServer[];
  /** for `index` locations: the config files an index file names (one level, never recursive) */
  follow?(text: string, ctx: ParseContext): ConfigLocation[];
  /** --config: does this file's path (with '/' separators) look like one of this client's files? */
  matchesPath?(path: string): boolean;
  /** --config: does this parsed document look like this client's shape? (used when no path matched) */
  sniff?(doc: unknown, path: string): boolean;
}
