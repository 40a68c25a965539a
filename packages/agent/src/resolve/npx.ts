// Versions of npm packages that npx (npm exec) has installed: each run lands in
// <npm cache>/_npx/<hash>/ with a package.json naming what was asked for and the install in
// node_modules/<name>/. The cache is ~/.npm on macOS and Linux, %LOCALAPPDATA%\npm-cache on
// Windows, or $npm_config_cache when set (real machine only).
import path from 'node:path';
import type { LocationContext } from '../clients/types.js';
import { toHostPath } from '../paths.js';
import { listDir, readSmallJson } from './fsread.js';
import { newest } from './version.js';

/** hash folders looked at: npx keeps one per distinct package set, rarely more than a few hundred */
export const MAX_NPX_DIRS = 1000;

export function npxCacheDir(loc: LocationContext): string {
  const configured = loc.env.npm_config_cache || loc.env.NPM_CONFIG_CACHE;
  if (configured) return toHostPath(loc.join(configured, '_npx'), loc.platform);
  const base = loc.platform === 'win32' ? loc.join(loc.localAppData, 'npm-cache') : loc.join(loc.home, '.npm');
  return toHostPath(loc.join(base, '_npx'), loc.platform);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Installed versions of the given npm package names found in the npx cache, newest each. */
export async function npxInstalledVersions(loc: LocationContext, names: ReadonlySet<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (names.size === 0) return out;
  const dir = npxCacheDir(loc);
  const join = (...p: string[]): string => path.join(dir, ...p);
  const hashes = await listDir(dir, MAX_NPX_DIRS);
  // one small read per hash folder says which packages it holds; only those are opened
  const wanted: Array<{ hash: string; name: string }> = [];
  await Promise.all(
    hashes.map(async (hash) => {
      const pkg = await readSmallJson(join(hash, 'package.json'));
      const deps = isRecord(pkg) && isRecord(pkg.dependencies) ? Object.keys(pkg.dependencies) : [];
      for (const name of deps) if (names.has(name)) wanted.push({ hash, name });
    }),
  );
  const found = new Map<string, string[]>();
  await Promise.all(
    wanted.map(async ({ hash, name }) => {
      const pkg = await readSmallJson(join(hash, 'node_modules', ...name.split('/'), 'package.json'));
      if (isRecord(pkg) && typeof pkg.version === 'string' && pkg.version.length < 100) found.set(name, [...(found.get(name) ?? []), pkg.version]);
    }),
  );
  for (const [name, versions] of found) {
    const v = newest(versions);
    if (v) out.set(name, v);
  }
  return out;
}
