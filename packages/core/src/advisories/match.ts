// Does an advisory affect a package at a version? OSV semantics: a SEMVER or ECOSYSTEM range is a
// list of events; a version is affected inside [introduced, fixed) or [introduced, last_affected];
// `versions` lists exact affected versions. GIT ranges are commits, which config files never name.
import semverIntersects from 'semver/ranges/intersects.js';
import semverValidRange from 'semver/ranges/valid.js';
import semverSatisfies from 'semver/functions/satisfies.js';
import semverValid from 'semver/functions/valid.js';
import type { PackageRef } from '../model.js';
import { compareVersions, isExactVersion, normalizePackageName, versionsEqual } from '../packages/versions.js';
import type { AdvisoryDb } from './db.js';
import { advisoryIds, type OsvAffected, type OsvRange, type OsvRecord } from './osv.js';
import { advisorySeverity, type AdvisorySeverity } from './severity.js';
import { compareText } from '../order.js';

/** One affected interval of a range: lower bound (undefined = from the beginning), upper bound and whether it is inclusive. */
interface Interval {
  introduced?: string;
  fixed?: string;
  lastAffected?: string;
}

export interface AffectedVerdict {
  /** yes, no, or cannot tell (a version that does not parse) */
  affected: boolean | undefined;
  /** the version that fixes it for this version line, when one is published */
  fixed?: string;
}

function orderFor(range: OsvRange, ecosystem: string): string {
  // SEMVER ranges order by SemVer 2.0 whatever the ecosystem
  return range.type === 'SEMVER' ? 'npm' : ecosystem;
}

/** Split a range's events into affected intervals, in the range's version order. */
export function rangeIntervals(range: OsvRange, ecosystem: string): Interval[] | undefined {
  const order = orderFor(range, ecosystem);
  const intro: string[] = [];
  const closes: Array<{ v: string; kind: 'fixed' | 'last_affected' }> = [];
  for (const e of range.events) {
    if ('introduced' in e) intro.push(e.introduced);
    else if ('fixed' in e) closes.push({ v: e.fixed, kind: 'fixed' });
    else if ('last_affected' in e) closes.push({ v: e.last_affected, kind: 'last_affected' });
  }
  const cmp = (a: string, b: string): number | undefined => compareVersions(order, a, b);
  const intervals: Interval[] = [];
  for (const i of intro) {
    const start = i === '0' ? undefined : i;
    // the nearest closing event at or after this introduction
    let best: { v: string; kind: 'fixed' | 'last_affected' } | undefined;
    for (const c of closes) {
      if (start !== undefined) {
        const d = cmp(c.v, start);
        if (d === undefined) return undefined;
        if (d < 0) continue;
      }
      if (!best) best = c;
      else {
        const d = cmp(c.v, best.v);
        if (d === undefined) return undefined;
        if (d < 0) best = c;
      }
    }
    intervals.push({ introduced: start, ...(best?.kind === 'fixed' ? { fixed: best.v } : best ? { lastAffected: best.v } : {}) });
  }
  return intervals;
}

function inInterval(order: string, iv: Interval, version: string): boolean | undefined {
  if (iv.introduced !== undefined) {
    const d = compareVersions(order, version, iv.introduced);
    if (d === undefined) return undefined;
    if (d < 0) return false;
  } else if (!isExactVersion(order, version)) return undefined;
  if (iv.fixed !== undefined) {
    const d = compareVersions(order, version, iv.fixed);
    if (d === undefined) return undefined;
    return d < 0;
  }
  if (iv.lastAffected !== undefined) {
    const d = compareVersions(order, version, iv.lastAffected);
    if (d === undefined) return undefined;
    return d <= 0;
  }
  return true;
}

function entriesFor(record: OsvRecord, ecosystem: string, name: string): OsvAffected[] {
  const want = normalizePackageName(ecosystem, name);
  return (record.affected ?? []).filter((a) => a.package && a.package.ecosystem === ecosystem && normalizePackageName(ecosystem, a.package.name) === want);
}

/** Is this exact version of the package affected by the advisory, and what fixes it? */
export function isVersionAffected(record: OsvRecord, ecosystem: string, name: string, version: string): AffectedVerdict {
  let unknown = false;
  for (const entry of entriesFor(record, ecosystem, name)) {
    if (entry.versions?.some((v) => versionsEqual(ecosystem, v, version))) {
      return { affected: true, ...fixAfter(entry, ecosystem, version) };
    }
    for (const range of entry.ranges ?? []) {
      if (range.type === 'GIT') continue;
      const order = orderFor(range, ecosystem);
      const intervals = rangeIntervals(range, ecosystem);
      if (!intervals) {
        unknown = true;
        continue;
      }
      for (const iv of intervals) {
        const hit = inInterval(order, iv, version);
        if (hit === undefined) unknown = true;
        else if (hit) return { affected: true, ...(iv.fixed ? { fixed: iv.fixed } : {}) };
      }
    }
  }
  return { affected: unknown ? undefined : false };
}

/** For a version listed in `versions`, the smallest fixed event above it in the same entry. */
function fixAfter(entry: OsvAffected, ecosystem: string, version: string): { fixed?: string } {
  let best: string | undefined;
  for (const range of entry.ranges ?? []) {
    if (range.type === 'GIT') continue;
    for (const e of range.events) {
      if (!('fixed' in e)) continue;
      const order = orderFor(range, ecosystem);
      if ((compareVersions(order, e.fixed, version) ?? -1) <= 0) continue;
      if (best === undefined || (compareVersions(order, e.fixed, best) ?? 1) < 0) best = e.fixed;
    }
  }
  return best ? { fixed: best } : {};
}

/** All fixed versions an advisory names for a package, lowest first. */
export function fixedVersions(record: OsvRecord, ecosystem: string, name: string): string[] {
  const out: string[] = [];
  for (const entry of entriesFor(record, ecosystem, name)) {
    for (const range of entry.ranges ?? []) {
      if (range.type === 'GIT') continue;
      for (const e of range.events) if ('fixed' in e && !out.includes(e.fixed)) out.push(e.fixed);
    }
  }
  return out.sort((a, b) => compareVersions(ecosystem, a, b) ?? compareText(a, b));
}

/** Could any version allowed by an npm range (e.g. `^0.1.0`) be affected? Undefined when it cannot tell. */
function npmRangeMayBeAffected(record: OsvRecord, name: string, range: string): boolean | undefined {
  if (semverValidRange(range) === null) return undefined;
  for (const entry of entriesFor(record, 'npm', name)) {
    if (entry.versions?.some((v) => semverValid(v) !== null && semverSatisfies(v, range))) return true;
    for (const r of entry.ranges ?? []) {
      if (r.type === 'GIT') continue;
      const intervals = rangeIntervals(r, 'npm');
      if (!intervals) return undefined;
      for (const iv of intervals) {
        const parts = [iv.introduced ? `>=${iv.introduced}` : '>=0.0.0-0', iv.fixed ? `<${iv.fixed}` : iv.lastAffected ? `<=${iv.lastAffected}` : ''].filter(Boolean);
        try {
          if (semverIntersects(parts.join(' '), range)) return true;
        } catch {
          return undefined;
        }
      }
    }
  }
  return false;
}

export interface AdvisoryMatch {
  advisory: OsvRecord;
  /** the advisory id first, then its aliases (CVE, GHSA, PYSEC ...) */
  ids: string[];
  /** affected: this exact version is in a range; possibly: the version is open (unpinned, a range, a tag) */
  status: 'affected' | 'possibly';
  /** the version that was matched, if one */
  version?: string;
  /** the version to move to: the fix for this line when affected, the highest fix when possibly */
  fixed?: string;
  severity: AdvisorySeverity;
}

/** The version a package reference runs: what the cache resolved, else what the config pinned. */
export function effectiveVersion(pkg: PackageRef): string | undefined {
  return pkg.resolvedVersion ?? pkg.version;
}

/**
 * Match one package reference against the database. An exact version is matched against every
 * range; an open one (no version, `latest`, a range) is "possibly affected" by every advisory of
 * the package that it could reach.
 */
export function matchPackage(db: AdvisoryDb, pkg: PackageRef): AdvisoryMatch[] {
  if (pkg.ecosystem !== 'npm' && pkg.ecosystem !== 'PyPI') return [];
  const records = db.forPackage(pkg.ecosystem, pkg.name);
  if (records.length === 0) return [];
  const version = effectiveVersion(pkg);
  const exact = version !== undefined && isExactVersion(pkg.ecosystem, version);
  const out: AdvisoryMatch[] = [];
  for (const record of records) {
    if (record.withdrawn) continue;
    const sev = advisorySeverity(record, db.isKnownExploited(record));
    const ids = advisoryIds(record);
    if (exact) {
      const verdict = isVersionAffected(record, pkg.ecosystem, pkg.name, version);
      if (verdict.affected === true) out.push({ advisory: record, ids, status: 'affected', version, ...(verdict.fixed ? { fixed: verdict.fixed } : {}), severity: sev });
      if (verdict.affected !== undefined) continue;
    } else if (version !== undefined && pkg.ecosystem === 'npm' && npmRangeMayBeAffected(record, pkg.name, version) === false) {
      continue;
    }
    const fixes = fixedVersions(record, pkg.ecosystem, pkg.name);
    const highest = fixes[fixes.length - 1];
    out.push({ advisory: record, ids, status: 'possibly', ...(version !== undefined ? { version } : {}), ...(highest ? { fixed: highest } : {}), severity: sev });
  }
  return out;
}
