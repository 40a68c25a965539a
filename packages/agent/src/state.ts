// The agent's state folder (tool pins and the like): $PALISADE_STATE_DIR, else the platform's
// per-user state folder. Created 0700, files in it 0600: pins reveal what a user runs.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface StateDirOptions {
  env?: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
  home?: string;
}

/** Where the state folder is, without creating it. */
export function stateDirPath(opts: StateDirOptions = {}): string {
  const env = opts.env ?? process.env;
  if (env.PALISADE_STATE_DIR) return path.resolve(env.PALISADE_STATE_DIR);
  const platform = opts.platform ?? process.platform;
  const home = opts.home ?? (env.HOME || env.USERPROFILE || os.homedir());
  if (platform === 'win32') {
    const p = path.win32;
    return p.join(env.LOCALAPPDATA || p.join(home, 'AppData', 'Local'), 'Palisade');
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Palisade');
  const xdgState = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(home, '.local', 'state');
  return path.join(xdgState, 'palisade');
}

/** Create the state folder if needed (0700) and return its path. */
export async function ensureStateDir(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') {
    // an existing folder may have been created looser (by hand, or an older umask)
    const st = await fs.stat(dir);
    if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
  }
  return dir;
}

/**
 * Write a file in the state folder atomically: a temp file beside it, then rename, so a
 * crash or a concurrent reader never sees half a file.
 */
export async function writeStateFile(file: string, text: string): Promise<void> {
  await ensureStateDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    await fs.writeFile(tmp, text, { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
