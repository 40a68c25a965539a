// The advisory database as the rules see it: advisories by package, plus the known-exploited
// (CISA KEV) set. Storage lives elsewhere (the agent keeps a prebuilt index on disk and parses
// records lazily; the server keeps them in its database); this is only the read contract.
import { packageKey } from '../packages/versions.js';
import { cveIds, newerRecord, type OsvRecord } from './osv.js';

export interface AdvisoryDb {
  /** advisories that name this package in any `affected[]` entry (every version, unmatched) */
  forPackage(ecosystem: string, name: string): readonly OsvRecord[];
  /** is this advisory in the known-exploited catalog (by its CVE id or aliases)? */
  isKnownExploited(record: OsvRecord): boolean;
  /** one advisory by id or alias, when the store can look it up */
  get?(id: string): OsvRecord | undefined;
}

/** Field set on a record whose CVE is in the KEV catalog (by import), so the mark travels with it. */
export const KEV_MARK = 'palisade_known_exploited';

export function isMarkedKnownExploited(record: OsvRecord): boolean {
  return record.database_specific?.[KEV_MARK] === true;
}

/** The package keys one record is indexed under. */
export function recordPackageKeys(record: OsvRecord): string[] {
  const keys = new Set<string>();
  for (const a of record.affected ?? []) if (a.package) keys.add(packageKey(a.package.ecosystem, a.package.name));
  return [...keys];
}

/** An in-memory database: for the bundled set, for tests and for the server's matching. */
export class MemoryAdvisoryDb implements AdvisoryDb {
  private readonly byKey = new Map<string, OsvRecord[]>();
  private readonly byId = new Map<string, OsvRecord>();
  private readonly kev: Set<string>;

  constructor(records: Iterable<OsvRecord>, knownExploitedCves: Iterable<string> = []) {
    this.kev = new Set([...knownExploitedCves].map((c) => c.toUpperCase()));
    // the newest `modified` wins when the same id appears twice
    for (const r of records) {
      const prev = this.byId.get(r.id);
      this.byId.set(r.id, prev ? newerRecord(prev, r) : r);
    }
    for (const r of this.byId.values()) {
      for (const key of recordPackageKeys(r)) {
        const list = this.byKey.get(key);
        if (list) list.push(r);
        else this.byKey.set(key, [r]);
      }
    }
  }

  get size(): number {
    return this.byId.size;
  }

  records(): IterableIterator<OsvRecord> {
    return this.byId.values();
  }

  forPackage(ecosystem: string, name: string): readonly OsvRecord[] {
    return this.byKey.get(packageKey(ecosystem, name)) ?? [];
  }

  isKnownExploited(record: OsvRecord): boolean {
    return isMarkedKnownExploited(record) || cveIds(record).some((c) => this.kev.has(c));
  }

  get(id: string): OsvRecord | undefined {
    const direct = this.byId.get(id);
    if (direct) return direct;
    const upper = id.toUpperCase();
    for (const r of this.byId.values()) if (r.id.toUpperCase() === upper || r.aliases?.some((a) => a.toUpperCase() === upper)) return r;
    return undefined;
  }
}

/**
 * Several databases read as one (bundled + imported): the same advisory id in more than one
 * keeps its newest `modified`; known-exploited in any means known-exploited.
 */
export function mergeAdvisoryDbs(...dbs: AdvisoryDb[]): AdvisoryDb {
  return {
    forPackage(ecosystem, name) {
      const byId = new Map<string, OsvRecord>();
      for (const db of dbs) {
        for (const r of db.forPackage(ecosystem, name)) {
          const prev = byId.get(r.id);
          byId.set(r.id, prev ? newerRecord(prev, r) : r);
        }
      }
      return [...byId.values()];
    },
    isKnownExploited(record) {
      return dbs.some((db) => db.isKnownExploited(record));
    },
    get(id) {
      let found: OsvRecord | undefined;
      for (const db of dbs) {
        const r = db.get?.(id);
        if (r) found = found ? newerRecord(found, r) : r;
      }
      return found;
    },
  };
}
