// Small, failure-tolerant reads for cache lookups: a missing or odd file is "nothing here".
import { promises as fs } from 'node:fs';

export async function listDir(dir: string, max: number): Promise<string[]> {
  try {
    const names = await fs.readdir(dir);
    return names.slice(0, max);
  } catch {
    return [];
  }
}

/** A small JSON file (package.json), or undefined. Files over 1 MiB are not cache metadata. */
export async function readSmallJson(file: string): Promise<unknown> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile() || st.size > 1024 * 1024) return undefined;
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
