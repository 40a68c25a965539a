// Advisories on the backend: OSV records and the CISA KEV list stored in the database (global,
// public data), and re-matching an organisation's whole inventory when they change. A server
// that becomes affected raises exactly one alert per host that runs it; its instances get
// PAL-V001 findings and new scores at once, without waiting for the next agent report.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bundledAdvisoriesDir,
  knownVulnerablePackage,
  levelForScore,
  matchPackage,
  newerRecord,
  packageKey,
  parseOsvRecord,
  recordPackageKeys,
  scoreFindings,
  severityRank,
  type AdvisoryMatch,
  type OsvRecord,
  type PackageRef,
  type ServerConfig,
  type Severity,
} from '@palisade/core';
import { withOrg, type Db, type OrgScope } from '../db/index.js';
import { chunk, chunkRows } from './batch.js';
import { storeEvents, type StoredEvent } from './alerts.js';
import { refreshServerAggregates } from './ingest.js';
import { adv, advisoryDbFor, organisationsRunning, type AdvDb } from './advisory-db.js';

export { advisoryDbFor, recordIngestMatches, type AdvisoryTables } from './advisory-db.js';

export interface AdvisoryImportResult {
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  reasons: string[];
  /** package keys named by added or updated advisories (before and after an update) */
  changedPackages: string[];
}

/**
 * Store OSV records (already parsed JSON values): validated, newest `modified` kept,
 * idempotent. Malformed records are skipped with a reason.
 */
export async function storeAdvisories(store: Db, values: readonly unknown[], opts: { source?: string; now?: Date } = {}): Promise<AdvisoryImportResult> {
  const now = (opts.now ?? new Date()).toISOString();
  const result: AdvisoryImportResult = { added: 0, updated: 0, unchanged: 0, skipped: 0, reasons: [], changedPackages: [] };
  const changed = new Set<string>();
  const byId = new Map<string, OsvRecord>();
  values.forEach((v, i) => {
    const r = parseOsvRecord(v);
    if (!r.ok) {
      result.skipped++;
      if (result.reasons.length < 1000) result.reasons.push(`[${i}] ${r.reason}`);
      return;
    }
    const prev = byId.get(r.record.id);
    byId.set(r.record.id, prev ? newerRecord(prev, r.record) : r.record);
  });
  const db = store.db as unknown as AdvDb;
  await db.transaction().execute(async (tx) => {
    for (const part of chunk([...byId.keys()])) {
      const existing = new Map((await tx.selectFrom('advisories').select(['id', 'modified']).where('id', 'in', part).execute()).map((r) => [r.id, r.modified]));
      for (const id of part) {
        const r = byId.get(id)!;
        const have = existing.get(id);
        if (have !== undefined && Date.parse(have) >= Date.parse(r.modified)) {
          result.unchanged++;
          continue;
        }
        const row = { id, modified: r.modified, record: JSON.stringify(r), source: opts.source ?? 'import', updated_at: now };
        if (have === undefined) {
          await tx.insertInto('advisories').values(row).execute();
          result.added++;
        } else {
          // the packages it named before count as changed too: a narrowed advisory clears matches
          for (const p of await tx.selectFrom('advisory_packages').select('package_key').where('advisory_id', '=', id).execute()) changed.add(p.package_key);
          await tx.updateTable('advisories').set(row).where('id', '=', id).execute();
          await tx.deleteFrom('advisory_packages').where('advisory_id', '=', id).execute();
          result.updated++;
        }
        for (const k of recordPackageKeys(r)) changed.add(k);
        const keys = recordPackageKeys(r).map((package_key) => ({ package_key, advisory_id: id }));
        for (const rows of chunkRows(keys)) await tx.insertInto('advisory_packages').values(rows).execute();
      }
    }
  });
  result.changedPackages = [...changed].sort();
  return result;
}

/**
 * Store the curated advisories shipped with Palisade (packages/core/advisories) and re-match
 * the organisations they concern. Idempotent: meant to run at every start of the server.
 */
export async function seedBundledAdvisories(store: Db, opts: { now?: Date; dir?: string } = {}): Promise<AdvisoryImportResult & { alerts: number }> {
  const dir = opts.dir ?? bundledAdvisoriesDir();
  const values: unknown[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) values.push(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
  const stored = await storeAdvisories(store, values, { source: 'bundled', now: opts.now });
  const r = stored.changedPackages.length ? await rematchAfterImport(store, stored.changedPackages, opts) : { alerts: 0 };
  return { ...stored, alerts: r.alerts };
}

/**
 * After advisories changed: re-match every organisation that runs one of the packages they
 * name (advisory_watch), so each newly affected server raises its alerts.
 */
export async function rematchAfterImport(store: Db, changedPackages: readonly string[], opts: { now?: Date } = {}): Promise<RematchResult & { organisations: number }> {
  const orgIds = await organisationsRunning(store.db as unknown as AdvDb, changedPackages);
  const r = await rematchInventory(store, orgIds.map((orgId) => ({ orgId })), opts);
  return { ...r, organisations: orgIds.length };
}

/** Re-match every organisation that has reported a package (after a KEV change, say). */
export async function rematchWatched(store: Db, opts: { now?: Date } = {}): Promise<RematchResult & { organisations: number }> {
  const rows = await (store.db as unknown as AdvDb).selectFrom('advisory_watch').select('org_id').distinct().execute();
  const orgIds = rows.map((r) => r.org_id).sort();
  const r = await rematchInventory(store, orgIds.map((orgId) => ({ orgId })), opts);
  return { ...r, organisations: orgIds.length };
}

/** Replace the known-exploited list with a CISA KEV catalog's CVE ids; returns how many are stored. */
export async function storeKnownExploited(store: Db, cves: readonly string[], now = new Date()): Promise<number> {
  const ids = [...new Set(cves.map((c) => c.trim().toUpperCase()).filter((c) => /^CVE-\d{4}-\d{4,}$/.test(c)))];
  const db = store.db as unknown as AdvDb;
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('advisory_kev').execute();
    for (const rows of chunkRows(ids.map((cve_id) => ({ cve_id, added_at: now.toISOString() })))) await tx.insertInto('advisory_kev').values(rows).execute();
  });
  return ids.length;
}

interface DefinitionPackage {
  ecosystem: string;
  name: string;
  version: string | null;
}

function packageOf(definition: string): PackageRef | undefined {
  try {
    const p = (JSON.parse(definition) as { package?: DefinitionPackage | null }).package;
    if (!p || (p.ecosystem !== 'npm' && p.ecosystem !== 'PyPI')) return undefined;
    return { ecosystem: p.ecosystem, name: p.name, ...(p.version ? { version: p.version } : {}), pinned: false };
  } catch {
    return undefined;
  }
}

export interface RematchResult {
  servers: number;
  /** (server, advisory) pairs that did not match before */
  newMatches: number;
  /** pairs that no longer match (fixed ranges, withdrawn advisories) */
  cleared: number;
  alerts: number;
}

const worst = (ms: readonly AdvisoryMatch[]): Severity => ms.reduce<Severity>((w, m) => (severityRank[m.severity.severity] > severityRank[w] ? m.severity.severity : w), 'info');

/**
 * Re-match every server of one organisation against the stored advisories. New matches raise
 * one `advisory_matched` alert per (server, host running it); PAL-V001 findings, instance and
 * server scores follow the new match set. Idempotent: a second run with nothing changed does
 * nothing.
 */
export async function rematchOrganisation(store: Db, scope: OrgScope, opts: { now?: Date } = {}): Promise<RematchResult> {
  const now = (opts.now ?? new Date()).toISOString();
  const org = scope.orgId;
  return withOrg(store, scope, async (tx) => {
    const t = adv(tx);
    const servers = await tx.selectFrom('servers').select(['id', 'name', 'definition']).where('org_id', '=', org).where('instance_count', '>', 0).execute();
    const withPkg = servers.map((s) => ({ ...s, pkg: packageOf(s.definition) })).filter((s): s is typeof s & { pkg: PackageRef } => s.pkg !== undefined);
    const db = await advisoryDbFor(tx, withPkg.map((s) => packageKey(s.pkg.ecosystem, s.pkg.name)));

    const current = new Map<string, AdvisoryMatch[]>();
    for (const s of withPkg) {
      const ms = matchPackage(db, s.pkg);
      if (ms.length) current.set(s.id, ms);
    }
    const before = await t.selectFrom('advisory_matches').select(['server_id', 'advisory_id']).where('org_id', '=', org).execute();
    const beforeSet = new Set(before.map((b) => `${b.server_id}\u0000${b.advisory_id}`));
    const nowSet = new Set<string>();
    const fresh: Array<{ serverId: string; match: AdvisoryMatch }> = [];
    for (const [serverId, ms] of current) {
      for (const m of ms) {
        const k = `${serverId}\u0000${m.advisory.id}`;
        nowSet.add(k);
        if (!beforeSet.has(k)) fresh.push({ serverId, match: m });
      }
    }
    const gone = before.filter((b) => !nowSet.has(`${b.server_id}\u0000${b.advisory_id}`));
    for (const g of gone) await t.deleteFrom('advisory_matches').where('org_id', '=', org).where('server_id', '=', g.server_id).where('advisory_id', '=', g.advisory_id).execute();
    const rows = fresh.map(({ serverId, match }) => ({ org_id: org, server_id: serverId, advisory_id: match.advisory.id, status: match.status, severity: match.severity.severity, fixed: match.fixed ?? null, first_seen: now }));
    for (const part of chunkRows(rows)) await t.insertInto('advisory_matches').values(part).execute();

    const changed = [...new Set([...fresh.map((f) => f.serverId), ...gone.map((g) => g.server_id)])];
    if (changed.length === 0) return { servers: withPkg.length, newMatches: 0, cleared: 0, alerts: 0 };

    // Findings and scores of every instance of a changed server.
    const byId = new Map(withPkg.map((s) => [s.id, s]));
    const instances = [];
    for (const part of chunk(changed)) {
      instances.push(...(await tx.selectFrom('server_instances as i').innerJoin('hosts as h', 'h.id', 'i.host_id').select(['i.id', 'i.server_id', 'i.host_id', 'h.hostname']).where('i.org_id', '=', org).where('i.server_id', 'in', part).execute()));
    }
    const findingRows = [];
    for (const inst of instances) {
      const s = byId.get(inst.server_id);
      await tx.deleteFrom('findings').where('org_id', '=', org).where('instance_id', '=', inst.id).where('rule_id', '=', knownVulnerablePackage.meta.id).execute();
      if (!s) continue;
      const config = { name: s.name, package: s.pkg, command: null, args: [] } as unknown as ServerConfig;
      for (const hit of knownVulnerablePackage.check(config, { platform: 'linux', advisories: db })) {
        const severity = hit.severity ?? knownVulnerablePackage.meta.severity;
        findingRows.push({ id: randomUUID(), org_id: org, instance_id: inst.id, server_id: s.id, host_id: inst.host_id, rule_id: knownVulnerablePackage.meta.id, severity, severity_rank: severityRank[severity], title: knownVulnerablePackage.meta.title, message: hit.message, evidence: hit.evidence, first_seen: now });
      }
    }
    for (const part of chunkRows(findingRows)) await tx.insertInto('findings').values(part).execute();
    const hosts = new Set<string>();
    for (const inst of instances) {
      const sev = await tx.selectFrom('findings').select('severity').where('org_id', '=', org).where('instance_id', '=', inst.id).execute();
      const { score, level } = scoreFindings(sev.map((f) => ({ severity: f.severity as Severity })));
      await tx.updateTable('server_instances').set({ score, level }).where('org_id', '=', org).where('id', '=', inst.id).execute();
      hosts.add(inst.host_id);
    }
    await refreshServerAggregates(tx, store, scope, changed, now);
    for (const hostId of hosts) {
      const m = await tx.selectFrom('server_instances').select((eb) => eb.fn.max('score').as('s')).where('org_id', '=', org).where('host_id', '=', hostId).executeTakeFirst();
      const maxScore = Number(m?.s ?? 0);
      await tx.updateTable('hosts').set({ max_score: maxScore, max_level: levelForScore(maxScore) }).where('org_id', '=', org).where('id', '=', hostId).execute();
    }

    // One alert per newly affected server per host that runs it.
    const freshByServer = new Map<string, AdvisoryMatch[]>();
    for (const f of fresh) freshByServer.set(f.serverId, [...(freshByServer.get(f.serverId) ?? []), f.match]);
    const events: StoredEvent[] = [];
    for (const [serverId, ms] of freshByServer) {
      const s = byId.get(serverId)!;
      const seenHosts = new Set<string>();
      for (const inst of instances.filter((i) => i.server_id === serverId)) {
        if (seenHosts.has(inst.host_id)) continue;
        seenHosts.add(inst.host_id);
        const ids = ms.map((m) => m.ids.slice(0, 2).join('/')).join(', ');
        const fix = ms.map((m) => m.fixed).filter(Boolean);
        const possibly = ms.every((m) => m.status === 'possibly');
        events.push({
          id: randomUUID(),
          type: 'advisory_matched',
          severity: worst(ms),
          instanceKey: null,
          fingerprint: null,
          hostId: inst.host_id,
          serverId,
          summary: `${s.name} on ${inst.hostname} is ${possibly ? 'possibly ' : ''}affected by ${ids}${fix.length ? `; move ${s.pkg.name} to ${fix[fix.length - 1]} or later` : ''}.`.slice(0, 2000),
          details: { package: { ecosystem: s.pkg.ecosystem, name: s.pkg.name, version: s.pkg.version ?? null }, advisories: ms.map((m) => ({ id: m.advisory.id, aliases: m.advisory.aliases ?? [], status: m.status, severity: m.severity.severity, fixed: m.fixed ?? null, knownExploited: m.severity.knownExploited })) },
        });
      }
    }
    const alerts = await storeEvents(tx, scope, events, null, now);
    return { servers: withPkg.length, newMatches: fresh.length, cleared: gone.length, alerts: alerts.length };
  });
}

/** Re-match several organisations (the caller lists them: orgs are not readable across tenants). */
export async function rematchInventory(store: Db, scopes: readonly OrgScope[], opts: { now?: Date } = {}): Promise<RematchResult> {
  const total: RematchResult = { servers: 0, newMatches: 0, cleared: 0, alerts: 0 };
  for (const scope of scopes) {
    const r = await rematchOrganisation(store, scope, opts);
    total.servers += r.servers;
    total.newMatches += r.newMatches;
    total.cleared += r.cleared;
    total.alerts += r.alerts;
  }
  return total;
}

/** The advisories that match one server now (for the server page). */
export async function serverAdvisories(store: Db, scope: OrgScope, serverId: string): Promise<Array<{ advisoryId: string; aliases: string[]; summary: string | null; status: string; severity: string; fixed: string | null; firstSeen: string }>> {
  return withOrg(store, scope, async (tx) => {
    const t = adv(tx);
    const rows = await t
      .selectFrom('advisory_matches as m')
      .innerJoin('advisories as a', 'a.id', 'm.advisory_id')
      .select(['m.advisory_id', 'm.status', 'm.severity', 'm.fixed', 'm.first_seen', 'a.record'])
      .where('m.org_id', '=', scope.orgId)
      .where('m.server_id', '=', serverId)
      .execute();
    return rows
      .map((r) => {
        const rec = JSON.parse(r.record) as OsvRecord;
        return { advisoryId: r.advisory_id, aliases: rec.aliases ?? [], summary: rec.summary ?? null, status: r.status, severity: r.severity, fixed: r.fixed, firstSeen: r.first_seen };
      })
      .sort((a, b) => severityRank[b.severity as Severity] - severityRank[a.severity as Severity] || a.advisoryId.localeCompare(b.advisoryId));
  });
}

