// The advisory database `palisade scan` matches against: the curated set shipped with Palisade
// (packages/core/advisories) merged with whatever was imported or synced into the state folder.
// Runs on every scan, so it stays cheap: 14 small bundled files, and for the store only the
// prebuilt index (records are parsed when a scanned package needs them).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundledAdvisoriesDir, MemoryAdvisoryDb, mergeAdvisoryDbs, parseOsvRecord, type AdvisoryDb, type OsvRecord } from '@palisade/core';
import { stateDirPath } from '../state.js';
import { openStore, type StoreAdvisoryDb } from './store.js';

let bundledCache: MemoryAdvisoryDb | undefined;

/**
 * The curated advisories shipped with Palisade (read once per process). The shipped files are
 * part of the release like its code, and every one is validated against the OSV schema by the
 * test suite (packages/core/test/advisories/curated.test.ts), so a scan takes them as they
 * are instead of building the schema validator on every start. Any other folder is validated
 * record by record. A file that is not JSON is skipped either way.
 */
export function loadBundledAdvisories(dir = bundledAdvisoriesDir()): MemoryAdvisoryDb {
  const shipped = dir === bundledAdvisoriesDir();
  if (bundledCache && shipped) return bundledCache;
  const records: OsvRecord[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    // an install without the folder still scans; it just has no bundled advisories
  }
  for (const f of files.sort()) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    } catch {
      continue;
    }
    if (shipped) {
      if (looksLikeRecord(value)) records.push(value);
      continue;
    }
    const r = parseOsvRecord(value);
    if (r.ok) records.push(r.record);
  }
  const db = new MemoryAdvisoryDb(records);
  if (shipped) bundledCache = db;
  return db;
}

/** The shape every matcher step relies on first: an object with a string id and date. */
function looksLikeRecord(value: unknown): value is OsvRecord {
  const v = value as { id?: unknown; modified?: unknown } | null;
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.id === 'string' && typeof v.modified === 'string';
}

export interface LoadedAdvisories {
  db: AdvisoryDb;
  bundled: MemoryAdvisoryDb;
  store?: StoreAdvisoryDb;
  /** a problem with the imported store; the bundled set is still used */
  warning?: string;
}

/** Load the bundled set and the store, with details for `palisade advisories list`. */
export function loadAdvisories(stateDir: string = stateDirPath()): LoadedAdvisories {
  const bundled = loadBundledAdvisories();
  try {
    const store = openStore(stateDir);
    return store ? { db: mergeAdvisoryDbs(bundled, store), bundled, store } : { db: bundled, bundled };
  } catch (err) {
    return { db: bundled, bundled, warning: `imported advisories were not loaded: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * The advisory database for `palisade scan` (ScanOptions.advisories): bundled merged with
 * imported. Never throws: a damaged store falls back to the bundled set.
 */
export function loadAdvisoryDb(stateDir?: string): AdvisoryDb {
  return loadAdvisories(stateDir).db;
}
