// Small, failure-tolerant reads for cache lookups: a missing or odd file is "nothing here".
// Synchronous inside, like readConfigFile: a handful of local stats and small reads cost less
// than a round trip through the thread pool each, and a scan never loads fs/promises (with
// the readline and stream modules it pulls in) for them.
import { readdirSync, readFileSync, statSync } from 'node:fs';

export async function listDir(dir: string, max: number): Promise<string[]> {
  try {
    return readdirSync(dir).slice(0, max);
  } catch {
    return [];
  }
}

/** A small JSON file (package.json), or undefined. Files over 1 MiB are not cache metadata. */
export async function readSmallJson(file: string): Promise<unknown> {
  try {
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size > 1024 * 1024) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
