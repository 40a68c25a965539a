// Pure helpers for addresses inside the dashboard (no DOM: unit-tested in Node).

/** Only same-origin paths may be returned to after sign-in (no open redirect). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/';
  // control characters and backslashes have no place in our paths; browsers normalise some of them into `//`
  if (hasControlOrBackslash(next)) return '/';
  return next;
}

function hasControlOrBackslash(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}

/** Matches `/servers/:id` against a path; returns the params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const a = path.split('/').filter(Boolean);
  if (p.length !== a.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    const val = a[i]!;
    if (seg.startsWith(':')) {
      try {
        params[seg.slice(1)] = decodeURIComponent(val);
      } catch {
        return null; // a malformed %-escape is no match, not a crash
      }
    } else if (seg !== val) return null;
  }
  return params;
}

/**
 * A search parameter narrowed to the values a route's query accepts (`?sort=name` -> 'name');
 * anything else (a hand-edited or outdated address) is left out, so the list uses its default.
 */
export function oneOf<T extends string>(value: string | null | undefined, allowed: readonly T[]): T | undefined {
  return allowed.find((a) => a === value);
}
