// The advisory tables as the ingest path and the advisories service read them: the stored
// advisories of a set of packages as an in-memory AdvisoryDb, and the match bookkeeping an
// ingest does so a later re-match does not alert twice for what the report already showed.
import type { Kysely, Transaction } from 'kysely';
import { cveIds, matchPackage, MemoryAdvisoryDb, packageKey, parseOsvRecord, type AdvisoryDb, type OsvRecord, type PackageRef } from '@palisade/core';
import type { OrgScope, Tx } from '../db/index.js';
import type { Database } from '../db/schema.js';
import { chunk, chunkRows } from './batch.js';

/** Table types of migration 010_advisories (kept here: this service is their only user). */
export interface AdvisoryTables {
  advisories: { id: string; modified: string; record: string; source: string; updated_at: string };
  advisory_packages: { package_key: string; advisory_id: string };
  advisory_kev: { cve_id: string; added_at: string };
  advisory_matches: { org_id: string; server_id: string; advisory_id: string; status: string; severity: string; fixed: string | null; first_seen: string };
  advisory_watch: { package_key: string; org_id: string; last_seen: string };
}
export type AdvDb = Kysely<Database & AdvisoryTables>;
export type AdvTx = Transaction<Database & AdvisoryTables>;
export const adv = (tx: Tx): AdvTx => tx as unknown as AdvTx;

/** The stored advisories of these packages (and the KEV list) as an in-memory database. */
export async function advisoryDbFor(tx: Tx, packageKeys: readonly string[]): Promise<MemoryAdvisoryDb> {
  const t = adv(tx);
  const records: OsvRecord[] = [];
  for (const part of chunk([...new Set(packageKeys)])) {
    const rows = await t.selectFrom('advisory_packages as p').innerJoin('advisories as a', 'a.id', 'p.advisory_id').select(['a.id', 'a.record']).where('p.package_key', 'in', part).execute();
    for (const row of rows) {
      const r = parseOsvRecord(JSON.parse(row.record));
      if (r.ok) records.push(r.record);
    }
  }
  const cves = records.flatMap((r) => cveIds(r));
  const kev: string[] = [];
  for (const part of chunk([...new Set(cves)])) kev.push(...(await t.selectFrom('advisory_kev').select('cve_id').where('cve_id', 'in', part).execute()).map((r) => r.cve_id));
  return new MemoryAdvisoryDb(records, kev);
}

/** Package keys of the servers in a report, for advisoryDbFor. */
export function reportPackageKeys(servers: ReadonlyArray<{ package?: PackageRef }>): string[] {
  return servers.flatMap((s) => (s.package && (s.package.ecosystem === 'npm' || s.package.ecosystem === 'PyPI') ? [packageKey(s.package.ecosystem, s.package.name)] : []));
}

/**
 * Inside an ingest: note which advisories match the report's servers, so the next re-match
 * knows they were already seen (the report's own findings and alerts showed them).
 */
export async function recordIngestMatches(tx: Tx, scope: OrgScope, servers: ReadonlyArray<{ serverId: string; package?: PackageRef }>, db: AdvisoryDb, now: string): Promise<void> {
  const t = adv(tx);
  const rows = [];
  const seen = new Set<string>();
  for (const s of servers) {
    if (!s.package) continue;
    for (const m of matchPackage(db, s.package)) {
      const k = `${s.serverId}\u0000${m.advisory.id}`;
      if (seen.has(k)) continue;
      seen.add(k);
      rows.push({ org_id: scope.orgId, server_id: s.serverId, advisory_id: m.advisory.id, status: m.status, severity: m.severity.severity, fixed: m.fixed ?? null, first_seen: now });
    }
  }
  // in key order: two reports matching the same rows at once lock them in the same order
  rows.sort((a, b) => (a.server_id < b.server_id ? -1 : a.server_id > b.server_id ? 1 : a.advisory_id < b.advisory_id ? -1 : a.advisory_id > b.advisory_id ? 1 : 0));
  for (const part of chunkRows(rows)) await t.insertInto('advisory_matches').values(part).onConflict((oc) => oc.columns(['org_id', 'server_id', 'advisory_id']).doNothing()).execute();
  // Which packages this organisation runs (advisory_watch, for re-matching after an advisory
  // import) is written by the ingest after its commit (ingest/aggregates.ts afterCommit): the
  // rows are shared across reports, and holding them to each report's commit deadlocked.
}

/** Organisations that ran any of these packages (from advisory_watch). */
export async function organisationsRunning(db: AdvDb, packageKeys: readonly string[]): Promise<string[]> {
  const orgs = new Set<string>();
  for (const part of chunk([...new Set(packageKeys)])) {
    for (const r of await db.selectFrom('advisory_watch').select('org_id').distinct().where('package_key', 'in', part).execute()) orgs.add(r.org_id);
  }
  return [...orgs].sort();
}

/** What the server page lists under "Advisories": every advisory matching the server now, worst first. */
export async function serverAdvisoryViews(tx: Tx, scope: OrgScope, serverId: string): Promise<Array<{ id: string; aliases: string[]; summary: string | null; severity: string; status: string; fixed: string | null; url: string | null; firstSeen: string }>> {
  const rows = await adv(tx)
    .selectFrom('advisory_matches as m')
    .innerJoin('advisories as a', 'a.id', 'm.advisory_id')
    .select(['m.advisory_id', 'm.status', 'm.severity', 'm.fixed', 'm.first_seen', 'a.record'])
    .where('m.org_id', '=', scope.orgId)
    .where('m.server_id', '=', serverId)
    .limit(500)
    .execute();
  const rank: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };
  return rows
    .map((r) => {
      const rec = JSON.parse(r.record) as OsvRecord;
      const url = rec.references?.find((x) => x.type === 'ADVISORY')?.url ?? rec.references?.[0]?.url ?? null;
      return { id: r.advisory_id, aliases: rec.aliases ?? [], summary: rec.summary ?? null, severity: r.severity, status: r.status, fixed: r.fixed, url, firstSeen: r.first_seen };
    })
    .sort((a, b) => (rank[b.severity] ?? 0) - (rank[a.severity] ?? 0) || a.id.localeCompare(b.id));
}
