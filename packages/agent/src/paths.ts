// Where the scanned machine keeps things. Locations are built with the scanned platform's
// path module (path.win32 for win32, even when running on Linux) so they are spelled as that
// OS spells them. Reading goes through toHostPath(), which maps a win32-spelled path under a
// POSIX --home folder (a fixture or a mounted image) onto the host's file system.
//
// Reported paths: configPath is the host path that was actually read (toHostPath of the
// location). On the real machine that is exactly what the OS would show; under --home it is
// the file inside the image, which an analyst can open. One spelling, no guessing of the
// original drive letter or user name.
import path from 'node:path';
import os from 'node:os';
import type { LocationContext, Platform } from './clients/types.js';

export function isPlatform(p: string): p is Platform {
  return p === 'darwin' || p === 'linux' || p === 'win32';
}

export interface LocationOptions {
  platform?: Platform;
  /** scan as if this folder were the home directory; the real environment is then ignored */
  home?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/** The path module of a platform. */
export function pathFor(platform: Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/**
 * Resolve the folders every client's locations are built from. With --home, everything is
 * derived from that folder as the OS would lay it out; without it, the real environment
 * (HOME, APPDATA, LOCALAPPDATA, XDG_CONFIG_HOME) decides.
 */
export function locationContext(opts: LocationOptions = {}): LocationContext {
  const platform: Platform = opts.platform ?? (isPlatform(process.platform) ? process.platform : 'linux');
  const p = pathFor(platform);
  const useEnv = opts.home === undefined;
  const env = useEnv ? (opts.env ?? process.env) : {};
  // --home is a folder on this machine: resolve it with the host's rules, not the target's
  // on Windows USERPROFILE is the home; HOME there is often a POSIX-style leftover of Git Bash or Cygwin
  const envHome = platform === 'win32' ? (env.USERPROFILE ?? env.HOME) : (env.HOME ?? env.USERPROFILE);
  const home = opts.home !== undefined ? path.resolve(opts.home) : (envHome || os.homedir());
  const xdgConfig = (useEnv && env.XDG_CONFIG_HOME) || p.join(home, '.config');
  let appData: string;
  let localAppData: string;
  if (platform === 'win32') {
    appData = (useEnv && env.APPDATA) || p.join(home, 'AppData', 'Roaming');
    localAppData = (useEnv && env.LOCALAPPDATA) || p.join(home, 'AppData', 'Local');
  } else if (platform === 'darwin') {
    appData = p.join(home, 'Library', 'Application Support');
    localAppData = appData;
  } else {
    appData = xdgConfig;
    localAppData = appData;
  }
  const systemRoot = useEnv ? realSystemRoot(platform, env) : imageRoot(platform, home);
  const ctx: LocationContext = { platform, home, appData, localAppData, xdgConfig, env, join: (...parts) => p.join(...parts) };
  if (systemRoot !== undefined) ctx.systemRoot = systemRoot;
  return ctx;
}

function realSystemRoot(platform: Platform, env: Readonly<Record<string, string | undefined>>): string {
  if (platform !== 'win32') return '/';
  const drive = env.SystemDrive ?? env.SYSTEMDRIVE ?? 'C:';
  return `${drive}\\`;
}

/**
 * Under --home, the root of the image the home belongs to, when the home sits where the OS
 * keeps homes: <root>/home/<user> or <root>/root (Linux), <root>/Users/<user> (macOS, Windows).
 * Anything else (a bare fixture folder) gives undefined: system-wide files are then skipped
 * rather than read from the wrong place.
 */
export function imageRoot(platform: Platform, home: string): string | undefined {
  const parts = home.split(/[\\/]+/);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const n = parts.length;
  const parent = (parts[n - 2] ?? '').toLowerCase();
  let rootParts: string[] | undefined;
  if (platform === 'linux' && parent === 'home' && n >= 3) rootParts = parts.slice(0, n - 2);
  else if (platform === 'linux' && parts[n - 1] === 'root' && n >= 2) rootParts = parts.slice(0, n - 1);
  else if ((platform === 'darwin' || platform === 'win32') && parent === 'users' && n >= 3) rootParts = parts.slice(0, n - 2);
  if (!rootParts) return undefined;
  const joined = rootParts.join(path.sep);
  // '' is the POSIX root; a bare drive ('E:') must become 'E:\\', or joins would be drive-relative
  return joined === '' || /^[A-Za-z]:$/.test(joined) ? joined + path.sep : joined;
}

/**
 * The path to read on this machine for a location spelled for the scanned platform. On a
 * POSIX host a win32-spelled path (backslashes) under a POSIX home is mapped to '/'; on a
 * Windows host a POSIX-spelled path is normalised to backslashes. Backslash cannot occur in a
 * win32 file name, so the mapping loses nothing.
 */
export function toHostPath(p: string, platform: Platform): string {
  if (platform === 'win32' && path.sep === '/') {
    // a drive-letter path cannot be mapped onto a POSIX host: keep it as spelled (it reads as missing)
    if (/^[A-Za-z]:/.test(p)) return p;
    return path.posix.normalize(p.replace(/\\/g, '/'));
  }
  if (platform !== 'win32' && path.sep === '\\') return path.win32.normalize(p);
  return p;
}
