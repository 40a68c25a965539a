// Versions of PyPI packages that uv has installed, for `uvx pkg` / `uv tool run pkg`:
// - uv tools (`uv tool install`): <tool dir>/<name>/, with the package's
//   <name>-<version>.dist-info in the tool's site-packages. Tool dir: $UV_TOOL_DIR, else
//   ~/.local/share/uv/tools ($XDG_DATA_HOME/uv/tools), %APPDATA%\uv\data\tools on Windows.
// - uv's cache (what uvx runs from): <cache>/archive-v0/<id>/ holds unpacked wheels with their
//   dist-info at the top. Cache: $UV_CACHE_DIR, else ~/.cache/uv ($XDG_CACHE_HOME/uv; on macOS
//   also ~/Library/Caches/uv), %LOCALAPPDATA%\uv\cache on Windows.
// The archive folder can be large: at most MAX_UV_ARCHIVES entries are listed, one level each.
import path from 'node:path';
import type { LocationContext } from '../clients/types.js';
import { toHostPath } from '../paths.js';
import { listDir } from './fsread.js';
import { distInfoName, newest } from './version.js';

export const MAX_UV_ARCHIVES = 2000;

export function uvToolDir(loc: LocationContext): string {
  if (loc.env.UV_TOOL_DIR) return toHostPath(loc.env.UV_TOOL_DIR, loc.platform);
  if (loc.platform === 'win32') return toHostPath(loc.join(loc.appData, 'uv', 'data', 'tools'), loc.platform);
  const data = loc.env.XDG_DATA_HOME || loc.join(loc.home, '.local', 'share');
  return toHostPath(loc.join(data, 'uv', 'tools'), loc.platform);
}

export function uvCacheDirs(loc: LocationContext): string[] {
  if (loc.env.UV_CACHE_DIR) return [toHostPath(loc.env.UV_CACHE_DIR, loc.platform)];
  if (loc.platform === 'win32') return [toHostPath(loc.join(loc.localAppData, 'uv', 'cache'), loc.platform)];
  const xdg = loc.env.XDG_CACHE_HOME || loc.join(loc.home, '.cache');
  const dirs = [loc.join(xdg, 'uv')];
  if (loc.platform === 'darwin') dirs.push(loc.join(loc.home, 'Library', 'Caches', 'uv'));
  return dirs.map((d) => toHostPath(d, loc.platform));
}

/** Versions named by `<name>-<version>.dist-info` folders in a listing, keyed by dist-info name. */
function distInfos(names: readonly string[]): Array<{ key: string; version: string }> {
  const out: Array<{ key: string; version: string }> = [];
  for (const n of names) {
    const m = /^([^-]+)-([^-]+)\.dist-info$/.exec(n);
    if (m) out.push({ key: distInfoName(m[1]!), version: m[2]! });
  }
  return out;
}

async function toolVersion(toolDir: string, name: string): Promise<string[]> {
  const key = distInfoName(name);
  const candidates = [...new Set([name, name.toLowerCase(), name.toLowerCase().replace(/[-_.]+/g, '-')])];
  const versions: string[] = [];
  for (const folder of candidates) {
    const root = path.join(toolDir, folder);
    // POSIX venvs: lib/python3.X/site-packages; Windows venvs: Lib/site-packages
    const siteDirs = [path.join(root, 'Lib', 'site-packages')];
    for (const py of await listDir(path.join(root, 'lib'), 20)) siteDirs.push(path.join(root, 'lib', py, 'site-packages'));
    for (const site of siteDirs) for (const d of distInfos(await listDir(site, 5000))) if (d.key === key) versions.push(d.version);
    if (versions.length) break;
  }
  return versions;
}

/** Installed versions of the given PyPI package names in uv's tool folder and cache, newest each. */
export async function uvInstalledVersions(loc: LocationContext, names: ReadonlySet<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (names.size === 0) return out;
  const toolDir = uvToolDir(loc);
  const byKey = new Map<string, string>([...names].map((n) => [distInfoName(n), n]));
  const found = new Map<string, string[]>();
  const add = (name: string, v: string): void => {
    found.set(name, [...(found.get(name) ?? []), v]);
  };
  await Promise.all([...names].map(async (n) => (await toolVersion(toolDir, n)).forEach((v) => add(n, v))));
  for (const cache of uvCacheDirs(loc)) {
    const archive = path.join(cache, 'archive-v0');
    const ids = await listDir(archive, MAX_UV_ARCHIVES);
    await Promise.all(
      ids.map(async (id) => {
        for (const d of distInfos(await listDir(path.join(archive, id), 200))) {
          const name = byKey.get(d.key);
          if (name) add(name, d.version);
        }
      }),
    );
  }
  for (const [name, versions] of found) {
    const v = newest(versions);
    if (v) out.set(name, v);
  }
  return out;
}
