// What a server is started or called with: config values with the references AI clients
// expand (${VAR}, ${env:VAR}, ${VAR:-default}, ${userHome}, ${workspaceFolder}) expanded from
// an environment, and a minimal inherited environment for child processes.
import os from 'node:os';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

export interface ExpandContext {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  /** the project folder for per-project servers (VS Code's ${workspaceFolder}) */
  projectPath?: string;
}

const REFERENCE = /\$\{([^{}]+)\}/g;

/** Expand the references a client would expand; unknown ones (${input:...}) stay as written. */
export function expandReferences(value: string, ctx: ExpandContext): string {
  return value.replace(REFERENCE, (whole, inner: string) => {
    if (inner === 'userHome') return ctx.home;
    if (inner === 'workspaceFolder') return ctx.projectPath ?? whole;
    const withDefault = /^([A-Za-z_][A-Za-z0-9_]*):-(.*)$/s.exec(inner);
    if (withDefault) return ctx.env[withDefault[1]!] || withDefault[2]!;
    const name = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner)?.[1];
    if (name) return ctx.env[name] ?? '';
    return whole;
  });
}

export function expandRecord(values: Readonly<Record<string, string>> | undefined, ctx: ExpandContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values ?? {})) out[k] = expandReferences(String(v), ctx);
  return out;
}

// Beyond the SDK's defaults (HOME, PATH, USER, ...): what npx/uvx-launched servers need to
// find a temp folder and a locale. Nothing else of the user's environment leaks to servers.
const EXTRA_INHERITED = ['TMPDIR', 'TEMP', 'TMP', 'LANG', 'LC_ALL', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'NODE_EXTRA_CA_CERTS'];

/** The environment a stdio server is started with: minimal inherited env, then the config's env. */
export function childEnvironment(configEnv: Readonly<Record<string, string>>, inherited: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const env: Record<string, string> = { ...getDefaultEnvironment() };
  for (const key of EXTRA_INHERITED) {
    const v = inherited[key];
    if (v !== undefined && !v.startsWith('()')) env[key] = v;
  }
  if (!env.HOME && !env.USERPROFILE) env.HOME = os.homedir();
  return { ...env, ...configEnv };
}
