// Version ordering per ecosystem, and package-name normalisation, for advisory matching.
// npm follows SemVer 2.0 (the `semver` package); PyPI follows PEP 440 (`@renovatebot/pep440`:
// epochs, pre-, post- and dev-releases, local versions). Never compare versions as strings.
import * as pep440 from '@renovatebot/pep440';
// semver's functions one by one: its index loads all ~45 of its modules, ~250 KB of objects
// and 8 KB of bundle that every scan paid for at start-up and never used
import semverCompare from 'semver/functions/compare.js';
import semverParse from 'semver/functions/parse.js';
import { BoundedMemo } from '../memo.js';

/** Ecosystems whose versions Palisade can order. OSV spells them `npm` and `PyPI`. */
export type VersionedEcosystem = 'npm' | 'PyPI';

export function isVersionedEcosystem(ecosystem: string): ecosystem is VersionedEcosystem {
  return ecosystem === 'npm' || ecosystem === 'PyPI';
}

/** PEP 503 name normalisation: lowercase, runs of `-`, `_` and `.` become one `-`. */
export function normalizePypiName(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}

/** The canonical form of a package name in its ecosystem (npm names are case-sensitive in theory, lowercase in practice). */
export function normalizePackageName(ecosystem: string, name: string): string {
  if (ecosystem === 'PyPI') return normalizePypiName(name);
  if (ecosystem === 'npm') return name.trim().toLowerCase();
  return name.trim();
}

/** The key one package is indexed under: `npm:mcp-remote`, `PyPI:mcp-server-git`. */
export function packageKey(ecosystem: string, name: string): string {
  return `${ecosystem}:${normalizePackageName(ecosystem, name)}`;
}

// Matching compares the same few versions (a package's, its advisories' range ends) once per
// server and advisory: each string is parsed once (bounded, cleared when full).
const MEMO_MAX = 4096;
const cleanNpmMemo = new BoundedMemo<string, string | undefined>(MEMO_MAX);
const pypiValidMemo = new BoundedMemo<string, boolean>(MEMO_MAX);
const npmCompareMemo = new BoundedMemo<string, number>(MEMO_MAX);

// A plain MAJOR.MINOR.PATCH (no leading zeros, at most 15 digits a part: below 2^53), the form
// nearly every pinned npm version and advisory bound takes: read and ordered here as semver
// would, without loading semver (in the CLI's bundle it is loaded on first use: it builds ~40
// patterns as it loads, and the one that reads a version is ~8 KB of native code).
const PLAIN_NPM_VERSION = /^(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;

function cleanNpm(v: string): string | undefined {
  return cleanNpmMemo.get(v, () => {
    // `v1.2.3` and `=1.2.3` are how people write exact versions; semver accepts both loosely
    const bare = v.trim().replace(/^[=v]+/, '');
    if (PLAIN_NPM_VERSION.test(bare)) return bare;
    const parsed = semverParse(bare);
    return parsed ? parsed.version : undefined;
  });
}

/** semver's order of two plain versions (-1, 0, 1), or undefined when either is not plain. */
export function comparePlainNpmVersions(x: string, y: string): number | undefined {
  const a = PLAIN_NPM_VERSION.exec(x);
  const b = a && PLAIN_NPM_VERSION.exec(y);
  if (!a || !b) return undefined;
  for (let i = 1; i <= 3; i++) {
    const d = Number(a[i]) - Number(b[i]);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** pep440.valid(v) !== null, for a trimmed version */
function pypiValid(v: string): boolean {
  return pypiValidMemo.get(v, () => pep440.valid(v) !== null);
}

/** Is this one exact, orderable version in the ecosystem (not a range, not a tag like `latest`)? */
export function isExactVersion(ecosystem: string, version: string): boolean {
  if (ecosystem === 'npm') return cleanNpm(version) !== undefined;
  if (ecosystem === 'PyPI') return pypiValid(version.trim());
  return false;
}

/**
 * Compare two versions in an ecosystem's order: negative, zero or positive. Returns undefined
 * when either side cannot be read as a version of that ecosystem (the caller decides what an
 * unreadable version means; matching treats it as "cannot tell").
 */
export function compareVersions(ecosystem: string, a: string, b: string): number | undefined {
  if (ecosystem === 'npm') {
    const x = cleanNpm(a);
    const y = cleanNpm(b);
    if (x === undefined || y === undefined) return undefined;
    return npmCompareMemo.get(`${x}\0${y}`, () => comparePlainNpmVersions(x, y) ?? semverCompare(x, y));
  }
  if (ecosystem === 'PyPI') {
    const x = a.trim();
    const y = b.trim();
    if (!pypiValid(x) || !pypiValid(y)) return undefined;
    return pep440.compare(x, y);
  }
  return undefined;
}

/** Equality in the ecosystem's sense (PyPI: `1.0` == `1.0.0`; npm: `v1.2.3` == `1.2.3`). */
export function versionsEqual(ecosystem: string, a: string, b: string): boolean {
  const c = compareVersions(ecosystem, a, b);
  return c === undefined ? a.trim() === b.trim() : c === 0;
}
