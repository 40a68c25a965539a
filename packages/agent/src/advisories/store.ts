// Imported advisories in the state folder, laid out so `palisade scan` stays cheap:
//   advisories/records-<generation>.jsonl   one OSV record per line
//   advisories/index.json                   generation, counts and the KEV CVE list (small)
//   advisories/<generation>/p-NN.json       package key -> [byte offset, length] of its records,
//                                           sharded by a hash of the key
//   advisories/<generation>/i-NN.json       upper-cased id/alias -> [offset, length], sharded too
// A scan reads index.json, then only the shards and record lines of the packages it meets.
// Writers write a new generation, then swap index.json atomically, then remove the old
// generation, so a concurrent reader always sees files that belong together.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cveIds, KEV_MARK, newerRecord, packageKey, parseOsvRecord, recordPackageKeys, type AdvisoryDb, type OsvRecord } from '@palisade/core';
import { ensureStateDir, writeStateFile } from '../state.js';

export const STORE_VERSION = 2;
export const SHARDS = 64;

type Span = [offset: number, length: number];

export interface StoreIndex {
  version: typeof STORE_VERSION;
  /** generation name: records file `records-<generation>.jsonl`, shard folder `<generation>/` */
  generation: string;
  count: number;
  updatedAt: string;
  shards: number;
  /** CVE ids of the CISA KEV catalog last imported */
  kev: string[];
  kevCatalog?: { version?: string; released?: string; count: number };
}

export function advisoriesDir(stateDir: string): string {
  return path.join(stateDir, 'advisories');
}

function indexPath(stateDir: string): string {
  return path.join(advisoriesDir(stateDir), 'index.json');
}

/** FNV-1a hash of a key, to pick its shard. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

function recordsFile(stateDir: string, generation: string): string {
  return path.join(advisoriesDir(stateDir), `records-${generation}.jsonl`);
}

function shardFile(stateDir: string, generation: string, kind: 'p' | 'i', n: number): string {
  return path.join(advisoriesDir(stateDir), generation, `${kind}-${String(n).padStart(2, '0')}.json`);
}

/** Read the index, or undefined when nothing was ever imported. A damaged index is an error that says what to do. */
export function readStoreIndex(stateDir: string): StoreIndex | undefined {
  let text: string;
  try {
    text = readFileSync(indexPath(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const idx = JSON.parse(text) as StoreIndex;
  if (idx?.version !== STORE_VERSION || typeof idx.generation !== 'string' || !/^[\w-]+$/.test(idx.generation) || !Number.isInteger(idx.shards) || idx.shards < 1) {
    throw new Error(`the advisory index ${indexPath(stateDir)} is from another version or damaged; re-import your advisories (palisade advisories import PATH)`);
  }
  return idx;
}

/** The imported advisories as an AdvisoryDb that reads shards and record lines on demand. */
export class StoreAdvisoryDb implements AdvisoryDb {
  private readonly kev: Set<string>;
  private readonly cache = new Map<number, OsvRecord>();
  private readonly shardCache = new Map<string, Record<string, Span[] | Span>>();
  private readonly file: string;

  constructor(
    private readonly index: StoreIndex,
    private readonly stateDir: string,
  ) {
    this.kev = new Set(index.kev);
    this.file = recordsFile(stateDir, index.generation);
  }

  get size(): number {
    return this.index.count;
  }

  get knownExploitedCount(): number {
    return this.kev.size;
  }

  private shard(kind: 'p' | 'i', key: string): Record<string, Span[] | Span> {
    const n = shardOf(key, this.index.shards);
    const id = `${kind}${n}`;
    let shard = this.shardCache.get(id);
    if (!shard) {
      try {
        shard = JSON.parse(readFileSync(shardFile(this.stateDir, this.index.generation, kind, n), 'utf8')) as Record<string, Span[] | Span>;
      } catch {
        shard = {};
      }
      this.shardCache.set(id, shard);
    }
    return shard;
  }

  private read(spans: readonly Span[]): OsvRecord[] {
    const missing = spans.filter(([off]) => !this.cache.has(off));
    if (missing.length) {
      const fd = openSync(this.file, 'r');
      try {
        for (const [off, len] of missing) {
          const buf = Buffer.alloc(len);
          readSync(fd, buf, 0, len, off);
          const r = parseOsvRecord(JSON.parse(buf.toString('utf8')));
          if (r.ok) this.cache.set(off, r.record);
        }
      } finally {
        closeSync(fd);
      }
    }
    return spans.map(([off]) => this.cache.get(off)).filter((r): r is OsvRecord => r !== undefined);
  }

  forPackage(ecosystem: string, name: string): readonly OsvRecord[] {
    const key = packageKey(ecosystem, name);
    const spans = this.shard('p', key)[key] as Span[] | undefined;
    return spans ? this.read(spans) : [];
  }

  isKnownExploited(record: OsvRecord): boolean {
    return record.database_specific?.[KEV_MARK] === true || cveIds(record).some((c) => this.kev.has(c));
  }

  get(id: string): OsvRecord | undefined {
    const key = id.toUpperCase();
    const span = this.shard('i', key)[key] as Span | undefined;
    return span ? this.read([span])[0] : undefined;
  }

  /** Every record, in file order (for `list`). */
  all(): OsvRecord[] {
    const out: OsvRecord[] = [];
    const text = readFileSync(this.file, 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const r = parseOsvRecord(JSON.parse(line));
      if (r.ok) out.push(r.record);
    }
    return out;
  }
}

/** Open the store for reading, or undefined when it is empty. */
export function openStore(stateDir: string): StoreAdvisoryDb | undefined {
  const idx = readStoreIndex(stateDir);
  return idx ? new StoreAdvisoryDb(idx, stateDir) : undefined;
}

/** Every stored record, fully parsed (for merging an import into it). */
export async function readAllRecords(stateDir: string): Promise<{ records: Map<string, OsvRecord>; index?: StoreIndex }> {
  const index = readStoreIndex(stateDir);
  const records = new Map<string, OsvRecord>();
  if (!index) return { records };
  const text = await fs.readFile(recordsFile(stateDir, index.generation), 'utf8');
  // every stored line was validated when it was imported: parse it, do not validate it again
  for (const line of text.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as OsvRecord;
    if (typeof r?.id === 'string' && typeof r.modified === 'string') records.set(r.id, r);
  }
  return { records, index };
}

/** Merge one record into a map, keeping the newest `modified`; says what happened. */
export function mergeRecord(records: Map<string, OsvRecord>, record: OsvRecord): 'added' | 'updated' | 'unchanged' {
  const prev = records.get(record.id);
  if (!prev) {
    records.set(record.id, record);
    return 'added';
  }
  const newer = newerRecord(prev, record);
  if (newer === prev) return 'unchanged';
  records.set(record.id, record);
  return 'updated';
}

/** Write the whole store: a new generation (records and shards), then the index, then drop the old generation. */
export async function writeStore(stateDir: string, records: Map<string, OsvRecord>, kev: { cves: string[]; catalog?: StoreIndex['kevCatalog'] }, previous?: StoreIndex): Promise<StoreIndex> {
  const dir = await ensureStateDir(advisoriesDir(stateDir));
  const generation = `${Date.now().toString(36)}-${process.pid.toString(36)}`;
  const kevSet = new Set(kev.cves);
  const pShards: Array<Record<string, Span[]>> = Array.from({ length: SHARDS }, () => ({}));
  const iShards: Array<Record<string, Span>> = Array.from({ length: SHARDS }, () => ({}));
  const chunks: Buffer[] = [];
  let offset = 0;
  const sorted = [...records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const r of sorted) {
    const known = cveIds(r).some((c) => kevSet.has(c));
    const marked = r.database_specific?.[KEV_MARK] === true;
    // the KEV mark travels with the record, and is removed when the catalog no longer lists it
    let rec: OsvRecord = r;
    if (known && !marked) rec = { ...r, database_specific: { ...(r.database_specific ?? {}), [KEV_MARK]: true } };
    if (!known && marked) {
      const { [KEV_MARK]: _dropped, ...rest } = r.database_specific ?? {};
      rec = { ...r, database_specific: rest };
    }
    const line = Buffer.from(JSON.stringify(rec) + '\n', 'utf8');
    const span: Span = [offset, line.length - 1];
    for (const key of recordPackageKeys(rec)) (pShards[shardOf(key, SHARDS)]![key] ??= []).push(span);
    for (const id of [rec.id, ...(rec.aliases ?? [])]) {
      const key = id.toUpperCase();
      iShards[shardOf(key, SHARDS)]![key] ??= span;
    }
    chunks.push(line);
    offset += line.length;
  }
  await writeStateFile(recordsFile(stateDir, generation), Buffer.concat(chunks).toString('utf8'));
  await ensureStateDir(path.join(dir, generation));
  await Promise.all([
    ...pShards.map((sh, n) => fs.writeFile(shardFile(stateDir, generation, 'p', n), JSON.stringify(sh), { mode: 0o600 })),
    ...iShards.map((sh, n) => fs.writeFile(shardFile(stateDir, generation, 'i', n), JSON.stringify(sh), { mode: 0o600 })),
  ]);
  const index: StoreIndex = {
    version: STORE_VERSION,
    generation,
    count: sorted.length,
    updatedAt: new Date().toISOString(),
    shards: SHARDS,
    kev: [...kevSet].sort(),
    ...(kev.catalog ? { kevCatalog: kev.catalog } : {}),
  };
  await writeStateFile(indexPath(stateDir), JSON.stringify(index));
  if (previous && previous.generation !== generation && /^[\w-]+$/.test(previous.generation)) {
    await fs.rm(recordsFile(stateDir, previous.generation), { force: true });
    await fs.rm(path.join(dir, previous.generation), { recursive: true, force: true });
  }
  return index;
}
