// Federated names: `<prefix>__<name>` unless renamed; always valid (^[a-zA-Z0-9_-]{1,64}$).
import { createHash } from 'node:crypto';

export const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** A valid federated name for `name` from an upstream with `prefix` (renames win). */
export function federatedName(prefix: string, name: string, rename: Readonly<Record<string, string>>): string {
  const renamed = Object.hasOwn(rename, name) ? rename[name] : undefined;
  if (renamed !== undefined) return renamed;
  const raw = prefix ? `${prefix}__${name}` : name;
  if (NAME_PATTERN.test(raw)) return raw;
  // characters outside the set become "_"; too long keeps a hash suffix so names stay unique
  let clean = raw.replace(/[^a-zA-Z0-9_-]/g, '_');
  if (clean.length === 0) clean = '_';
  if (clean.length > 64) clean = `${clean.slice(0, 55)}_${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
  else if (clean !== raw) clean = `${clean.slice(0, 55)}_${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`.slice(0, 64);
  return clean;
}

/** Shell-style glob (* and ?) to RegExp over a whole name. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

export function matchesAny(name: string, globs: readonly string[] | undefined): boolean {
  return (globs ?? []).some((g) => globToRegExp(g).test(name));
}
