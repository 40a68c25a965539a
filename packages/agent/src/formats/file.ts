// Reading one config file: size-capped, with errors a user can act on.
import { readFileSync, statSync } from 'node:fs';

export const MAX_CONFIG_BYTES = 20 * 1024 * 1024;

/**
 * Read a config file with the size cap. Returns undefined when the file does not exist.
 * Synchronous inside: a scan probes ~100 locations, most of them absent, and a sync stat
 * that reports "absent" without building an Error (with its stack) costs a fraction of an
 * async one; only regular files are read, so nothing here can block on a pipe or device.
 */
export async function readConfigFile(file: string): Promise<string | undefined> {
  let stat;
  try {
    stat = statSync(file, { throwIfNoEntry: false });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new Error(`cannot read the file: ${errMessage(err)}`);
  }
  if (!stat?.isFile()) return undefined;
  if (stat.size > MAX_CONFIG_BYTES) throw new Error(`the file is ${Math.round(stat.size / 1024 / 1024)} MiB, over the 20 MiB limit; it was not read`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the file: ${errMessage(err)}`);
  }
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function errMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied; run the scan as a user who can read it';
  if (e?.code === 'EISDIR') return 'it is a folder, not a file';
  if (e?.code === 'ELOOP') return 'too many levels of symbolic links';
  return err instanceof Error ? err.message : String(err);
}
