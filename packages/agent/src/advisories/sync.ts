// `palisade advisories sync`: ask the OSV API which advisories affect the packages this machine's
// MCP servers run (POST /v1/querybatch), fetch the ones not already stored at the same
// `modified` (GET /v1/vulns/ID), and store them. Only package names and versions leave the
// machine. Optional: everything else works offline.
import { isExactVersion, parseOsvRecord, type OsvRecord, type PackageRef } from '@palisade/core';
import { mergeRecord, readAllRecords, writeStore } from './store.js';

export const DEFAULT_OSV_API = 'https://api.osv.dev';
const BATCH = 1000;
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const MAX_PAGES = 20;

export class SyncError extends Error {}

export interface SyncOptions {
  stateDir: string;
  api?: string;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
}

export interface SyncSummary {
  api: string;
  queried: number;
  found: number;
  fetched: number;
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  reasons: string[];
  total: number;
}

interface Query {
  package: { ecosystem: string; name: string };
  version?: string;
  page_token?: string;
}

/** The OSV queries for a list of package references: exact versions when known, else the whole package. */
export function osvQueries(packages: readonly PackageRef[]): Query[] {
  const seen = new Set<string>();
  const out: Query[] = [];
  for (const p of packages) {
    if (p.ecosystem !== 'npm' && p.ecosystem !== 'PyPI') continue;
    const v = p.resolvedVersion ?? p.version;
    const version = v && isExactVersion(p.ecosystem, v) ? v : undefined;
    const key = `${p.ecosystem}\0${p.name}\0${version ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ package: { ecosystem: p.ecosystem, name: p.name }, ...(version ? { version } : {}) });
  }
  return out;
}

async function getJson(fetchImpl: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs), headers: { 'content-type': 'application/json', accept: 'application/json', ...(init.headers ?? {}) } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    throw new SyncError(`could not reach the OSV API at ${new URL(url).origin} (${why}). Check the network connection or give another --api URL; scans keep using the bundled and imported advisories offline.`);
  }
  if (!res.ok) {
    if (res.status === 404) return undefined;
    throw new SyncError(`the OSV API at ${new URL(url).origin} answered ${res.status} ${res.statusText}; try again later.`);
  }
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > MAX_RESPONSE_BYTES) throw new SyncError(`the OSV API answered with ${len} bytes, over the ${MAX_RESPONSE_BYTES}-byte limit.`);
  const text = await res.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new SyncError('the OSV API answer is over the size limit.');
  try {
    return JSON.parse(text);
  } catch {
    throw new SyncError(`the OSV API at ${new URL(url).origin} did not answer with JSON; check the --api URL.`);
  }
}

/** Query OSV for the packages and store what it returns. Throws SyncError with a sentence to show the user. */
export async function syncAdvisories(packages: readonly PackageRef[], opts: SyncOptions): Promise<SyncSummary> {
  const api = (opts.api ?? DEFAULT_OSV_API).replace(/\/+$/, '');
  try {
    const u = new URL(api);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new SyncError(`${api} is not an http(s) URL; give the OSV API base URL, e.g. ${DEFAULT_OSV_API}.`);
  }
  const fetchImpl = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const queries = osvQueries(packages);
  const { records, index } = await readAllRecords(opts.stateDir);
  const summary: SyncSummary = { api, queried: queries.length, found: 0, fetched: 0, added: 0, updated: 0, unchanged: 0, skipped: 0, reasons: [], total: records.size };
  if (queries.length === 0) return summary;

  // id -> newest `modified` OSV reported for it
  const wanted = new Map<string, string | undefined>();
  let pending: Query[] = queries;
  for (let page = 0; pending.length && page < MAX_PAGES; page++) {
    const next: Query[] = [];
    for (let i = 0; i < pending.length; i += BATCH) {
      const chunk = pending.slice(i, i + BATCH);
      const body = (await getJson(fetchImpl, `${api}/v1/querybatch`, { method: 'POST', body: JSON.stringify({ queries: chunk }) }, timeoutMs)) as { results?: Array<{ vulns?: Array<{ id?: unknown; modified?: unknown }>; next_page_token?: unknown }> } | undefined;
      const results = Array.isArray(body?.results) ? body.results : [];
      results.forEach((r, j) => {
        for (const v of Array.isArray(r?.vulns) ? r.vulns : []) if (typeof v?.id === 'string' && v.id.length <= 128) wanted.set(v.id, typeof v.modified === 'string' ? v.modified : undefined);
        if (typeof r?.next_page_token === 'string' && chunk[j]) next.push({ ...chunk[j]!, page_token: r.next_page_token });
      });
    }
    pending = next;
  }
  summary.found = wanted.size;

  const fresh: OsvRecord[] = [];
  for (const [id, modified] of wanted) {
    const have = records.get(id);
    if (have && modified && Date.parse(have.modified) >= Date.parse(modified)) {
      summary.unchanged++;
      continue;
    }
    const value = await getJson(fetchImpl, `${api}/v1/vulns/${encodeURIComponent(id)}`, { method: 'GET' }, timeoutMs);
    if (value === undefined) {
      summary.skipped++;
      summary.reasons.push(`${id}: the OSV API has no record for it`);
      continue;
    }
    summary.fetched++;
    const r = parseOsvRecord(value);
    if (!r.ok) {
      summary.skipped++;
      summary.reasons.push(r.reason);
      continue;
    }
    fresh.push(r.record);
  }
  for (const r of fresh) summary[mergeRecord(records, r)]++;
  if (summary.added || summary.updated) {
    const next = await writeStore(opts.stateDir, records, { cves: index?.kev ?? [], catalog: index?.kevCatalog }, index);
    summary.total = next.count;
  } else summary.total = records.size;
  return summary;
}
