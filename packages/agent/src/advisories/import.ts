// `palisade advisories import PATH`: OSV records from an OSV export zip (as osv.dev publishes per
// ecosystem), a folder of OSV JSON files, or one JSON file (a record or an array of them); or the
// CISA KEV catalog JSON, whose CVEs mark matching advisories as known exploited. Idempotent:
// a record already stored with the same or a newer `modified` is left alone. A malformed record
// is skipped with a reason; it never aborts the import.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseOsvRecord, type OsvRecord } from '@palisade/core';
import { readAllRecords, mergeRecord, writeStore, type StoreIndex } from './store.js';
import { DEFAULT_ZIP_LIMITS, readZipEntries, ZipError, type ZipLimits } from './zip.js';

export const MAX_JSON_FILE_BYTES = 256 * 1024 * 1024;
export const MAX_ZIP_FILE_BYTES = 1536 * 1024 * 1024;
const MAX_FOLDER_DEPTH = 6;
const MAX_REASONS_KEPT = 1000;

export interface ImportSummary {
  source: string;
  kind: 'zip' | 'folder' | 'json' | 'kev';
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  /** the first reasons records were skipped, `where: why` */
  reasons: string[];
  /** for a KEV catalog: CVEs in it, and stored or bundled advisories now marked known exploited */
  kev?: { cves: number; marked: number };
  /** records in the store after the import */
  total: number;
}

export class ImportError extends Error {}

interface Collector {
  records: OsvRecord[];
  skipped: number;
  reasons: string[];
}

function skip(c: Collector, where: string, why: string): void {
  c.skipped++;
  if (c.reasons.length < MAX_REASONS_KEPT) c.reasons.push(`${where}: ${why}`);
}

/** Is this parsed JSON the CISA KEV catalog? */
export function isKevCatalog(value: unknown): value is { catalogVersion?: string; dateReleased?: string; vulnerabilities: Array<{ cveID?: unknown }> } {
  const v = value as { vulnerabilities?: unknown; catalogVersion?: unknown } | null;
  return !!v && typeof v === 'object' && Array.isArray(v.vulnerabilities) && (typeof v.catalogVersion === 'string' || v.vulnerabilities.some((x) => typeof (x as { cveID?: unknown })?.cveID === 'string'));
}

function collectJson(c: Collector, where: string, text: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    skip(c, where, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    return;
  }
  const list = Array.isArray(value) ? value : [value];
  list.forEach((item, i) => {
    const r = parseOsvRecord(item);
    if (r.ok) c.records.push(r.record);
    else skip(c, list.length > 1 ? `${where}[${i}]` : where, r.reason);
  });
}

async function readBounded(file: string, max: number): Promise<Buffer> {
  const st = await fs.stat(file);
  if (st.size > max) throw new ImportError(`${file} is ${Math.round(st.size / 1024 / 1024)} MiB, over the ${Math.round(max / 1024 / 1024)} MiB limit; split it or import the per-ecosystem export.`);
  return fs.readFile(file);
}

async function walkJsonFiles(dir: string, depth: number, out: string[]): Promise<void> {
  if (depth > MAX_FOLDER_DEPTH) return;
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    // symlinks are not followed: an export folder has none, and following them could loop
    if (e.isDirectory()) await walkJsonFiles(p, depth + 1, out);
    else if (e.isFile() && e.name.toLowerCase().endsWith('.json')) out.push(p);
  }
}

export interface ImportOptions {
  stateDir: string;
  zipLimits?: ZipLimits;
  /** called every PROGRESS_EVERY files read, with how many so far (for a progress line) */
  onProgress?: (filesRead: number) => void;
}

const PROGRESS_EVERY = 10_000;

export interface SourceContents {
  kind: ImportSummary['kind'];
  records: OsvRecord[];
  skipped: number;
  reasons: string[];
  /** for a KEV catalog: its CVE ids and version */
  kev?: { cves: string[]; version?: string; released?: string };
}

/** Read and validate what a path holds (OSV zip, folder, JSON, or the KEV catalog), without storing it. */
export async function readAdvisorySource(source: string, opts: Omit<ImportOptions, 'stateDir'> = {}): Promise<SourceContents> {
  let st;
  try {
    st = await fs.stat(source);
  } catch {
    throw new ImportError(`${source} does not exist or cannot be read; give an OSV export (.zip), a folder of OSV .json files, an OSV .json file or the CISA KEV catalog .json.`);
  }
  const c: Collector = { records: [], skipped: 0, reasons: [] };
  let kind: ImportSummary['kind'];
  let kevCatalog: { cves: string[]; version?: string; released?: string } | undefined;
  if (st.isDirectory()) {
    kind = 'folder';
    const files: string[] = [];
    await walkJsonFiles(source, 0, files);
    if (files.length === 0) throw new ImportError(`${source} holds no .json files; nothing was imported.`);
    for (const [i, f] of files.entries()) {
      if (i > 0 && i % PROGRESS_EVERY === 0) opts.onProgress?.(i);
      const fst = await fs.stat(f);
      if (fst.size > MAX_JSON_FILE_BYTES) skip(c, path.relative(source, f), 'the file is over the size limit');
      else collectJson(c, path.relative(source, f), await fs.readFile(f, 'utf8'));
    }
  } else if (source.toLowerCase().endsWith('.zip')) {
    kind = 'zip';
    const buf = await readBounded(source, MAX_ZIP_FILE_BYTES);
    try {
      let n = 0;
      for (const entry of readZipEntries(buf, opts.zipLimits ?? DEFAULT_ZIP_LIMITS)) {
        if (!entry.name.toLowerCase().endsWith('.json')) continue;
        if (++n % PROGRESS_EVERY === 0) opts.onProgress?.(n);
        if (entry.error || !entry.data) skip(c, entry.name, entry.error ?? 'unreadable');
        else collectJson(c, entry.name, entry.data.toString('utf8'));
      }
    } catch (err) {
      if (err instanceof ZipError) throw new ImportError(`${source}: ${err.message}; nothing was imported.`);
      throw err;
    }
  } else {
    const text = (await readBounded(source, MAX_JSON_FILE_BYTES)).toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ImportError(`${source} is not valid JSON (${err instanceof Error ? err.message : String(err)}); nothing was imported.`);
    }
    if (isKevCatalog(value)) {
      kind = 'kev';
      const cves: string[] = [];
      value.vulnerabilities.forEach((v, i) => {
        const id = typeof v?.cveID === 'string' ? v.cveID.trim().toUpperCase() : '';
        if (/^CVE-\d{4}-\d{4,}$/.test(id)) cves.push(id);
        else skip(c, `vulnerabilities[${i}]`, 'no valid cveID');
      });
      kevCatalog = { cves, version: value.catalogVersion, released: value.dateReleased };
    } else {
      kind = 'json';
      collectJson(c, path.basename(source), text);
    }
  }

  return { kind, records: c.records, skipped: c.skipped, reasons: c.reasons, ...(kevCatalog ? { kev: kevCatalog } : {}) };
}

/** Import advisories (or the KEV catalog) from a path into the state folder's store. */
export async function importAdvisories(source: string, opts: ImportOptions): Promise<ImportSummary> {
  const read = await readAdvisorySource(source, opts);
  const { kind } = read;
  const c: Collector = { records: read.records, skipped: read.skipped, reasons: read.reasons };
  const kevCatalog = read.kev;
  const { records, index } = await readAllRecords(opts.stateDir);
  let added = 0;
  let updated = 0;
  let unchanged = 0;
  for (const r of c.records) {
    const what = mergeRecord(records, r);
    if (what === 'added') added++;
    else if (what === 'updated') updated++;
    else unchanged++;
  }
  const kev = kevCatalog ? { cves: [...new Set(kevCatalog.cves)], catalog: { version: kevCatalog.version, released: kevCatalog.released, count: new Set(kevCatalog.cves).size } } : { cves: index?.kev ?? [], catalog: index?.kevCatalog };
  let next: StoreIndex | undefined = index;
  // nothing new: leave the files alone (idempotent, and cheap to re-run)
  if (added || updated || kevCatalog || !index) next = await writeStore(opts.stateDir, records, kev, index);
  const summary: ImportSummary = { source, kind, added, updated, unchanged, skipped: c.skipped, reasons: c.reasons, total: next?.count ?? records.size };
  if (kevCatalog) {
    const kevSet = new Set(kev.cves);
    let marked = 0;
    for (const r of records.values()) if ([r.id, ...(r.aliases ?? [])].some((i) => kevSet.has(i.toUpperCase()))) marked++;
    summary.kev = { cves: kevSet.size, marked };
  }
  return summary;
}
