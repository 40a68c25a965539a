// The advisories page (issue 14): stored advisories searched by id, alias or package, each
// with the organisation's servers it affects and the hosts that run them, its KEV mark, and
// when advisories were last imported. Advisories and the KEV list are global (public data);
// matches, servers and hosts are read inside the caller's org-scoped transaction.
import { advisorySeverity, cveIds, isMarkedKnownExploited, parseOsvRecord, recordPackageKeys, severityRank, type OsvRecord, type Severity } from '@palisade/core';
import { sql } from 'kysely';
import type { OrgScope, Tx } from '../db/index.js';
import { chunk } from './batch.js';
import { adv } from './advisory-db.js';
import { likePattern } from './queries.js';

export interface AdvisoryListQuery {
  q?: string;
  /** only advisories that affect a server of this organisation (the default) */
  affected: boolean;
  limit: number;
  offset: number;
}

interface Row {
  id: string;
  record: string;
  modified: string;
  source: string;
}

function parse(row: Row): OsvRecord | null {
  try {
    const r = parseOsvRecord(JSON.parse(row.record));
    return r.ok ? r.record : null;
  } catch {
    return null;
  }
}

/** Only web links are passed on: records come from imported files. */
function webLink(rec: OsvRecord): string | null {
  const url = rec.references?.find((x) => x.type === 'ADVISORY')?.url ?? rec.references?.[0]?.url ?? null;
  return url && /^https?:\/\//i.test(url) ? url : null;
}

export async function listAdvisories(tx: Tx, scope: OrgScope, q: AdvisoryListQuery) {
  const t = adv(tx);
  const org = scope.orgId;
  const text = q.q?.trim().slice(0, 200) ?? '';
  // id or package by substring; an alias (kept in the record) by its exact text
  const pattern = likePattern(text);
  const matchText = sql<boolean>`(lower(a.id) like ${pattern} escape '\\' or lower(a.record) like ${likePattern(`"${text}"`)} escape '\\' or exists (select 1 from advisory_packages p where p.advisory_id = a.id and lower(p.package_key) like ${pattern} escape '\\'))`;

  let ids: string[];
  let total: number;
  if (q.affected) {
    let base = t.selectFrom('advisory_matches as m').innerJoin('advisories as a', 'a.id', 'm.advisory_id').where('m.org_id', '=', org);
    if (text) base = base.where(matchText);
    const rows = await base.select(['m.advisory_id', 'm.severity']).limit(20_000).execute();
    // worst first, then id: one advisory's matches share its severity
    const worst = new Map<string, number>();
    for (const r of rows) worst.set(r.advisory_id, Math.max(worst.get(r.advisory_id) ?? 0, severityRank[r.severity as Severity] ?? 0));
    const sorted = [...worst.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    total = sorted.length;
    ids = sorted.slice(q.offset, q.offset + q.limit).map(([id]) => id);
  } else {
    let base = t.selectFrom('advisories as a');
    if (text) base = base.where(matchText);
    const rows = await base.select('a.id').orderBy('a.modified', 'desc').orderBy('a.id').limit(q.limit).offset(q.offset).execute();
    ids = rows.map((r) => r.id);
    total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  }

  const records = new Map<string, Row>();
  for (const part of chunk(ids)) for (const r of await t.selectFrom('advisories').select(['id', 'record', 'modified', 'source']).where('id', 'in', part).execute()) records.set(r.id, r);
  const parsed = new Map<string, OsvRecord>();
  for (const [id, row] of records) {
    const rec = parse(row);
    if (rec) parsed.set(id, rec);
  }
  const cves = [...new Set([...parsed.values()].flatMap((r) => cveIds(r)))];
  const kev = new Set<string>();
  for (const part of chunk(cves)) for (const r of await t.selectFrom('advisory_kev').select('cve_id').where('cve_id', 'in', part).execute()) kev.add(r.cve_id);

  // the organisation's affected servers per advisory, and the hosts that run them
  const matches = ids.length ? await t.selectFrom('advisory_matches').select(['advisory_id', 'server_id', 'status', 'fixed']).where('org_id', '=', org).where('advisory_id', 'in', ids).execute() : [];
  const serverIds = [...new Set(matches.map((m) => m.server_id))];
  const servers = new Map<string, { name: string; version: string | null }>();
  const hostsOf = new Map<string, Map<string, string>>();
  for (const part of chunk(serverIds)) {
    for (const s of await tx.selectFrom('servers').select(['id', 'name', 'package_version']).where('org_id', '=', org).where('id', 'in', part).where('instance_count', '>', 0).execute()) servers.set(s.id, { name: s.name, version: s.package_version });
    const inst = await tx.selectFrom('server_instances as i').innerJoin('hosts as h', 'h.id', 'i.host_id').select(['i.server_id', 'h.id', 'h.hostname']).where('i.org_id', '=', org).where('h.org_id', '=', org).where('i.server_id', 'in', part).limit(20_000).execute();
    for (const i of inst) (hostsOf.get(i.server_id) ?? hostsOf.set(i.server_id, new Map()).get(i.server_id)!).set(i.id, i.hostname);
  }

  const items = ids.flatMap((id) => {
    const row = records.get(id);
    const rec = parsed.get(id);
    if (!row || !rec) return [];
    // the stored KEV list, or the mark an import set on the record (core's KEV_MARK)
    const knownExploited = isMarkedKnownExploited(rec) || cveIds(rec).some((c) => kev.has(c));
    const sev = advisorySeverity(rec, knownExploited);
    const mine = matches.filter((m) => m.advisory_id === id && servers.has(m.server_id));
    const hosts = new Map<string, string>();
    const affected = mine
      .map((m) => {
        const h = hostsOf.get(m.server_id) ?? new Map<string, string>();
        for (const [hid, name] of h) hosts.set(hid, name);
        const s = servers.get(m.server_id)!;
        return { serverId: m.server_id, name: s.name, version: s.version, status: m.status, fixed: m.fixed, hosts: [...h].slice(0, 20).map(([hostId, hostname]) => ({ id: hostId, hostname })), hostCount: h.size };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    return [
      {
        id,
        aliases: rec.aliases ?? [],
        summary: rec.summary ?? null,
        severity: sev.severity,
        severityBasis: sev.basis,
        knownExploited,
        packages: recordPackageKeys(rec),
        modified: row.modified,
        source: row.source,
        url: webLink(rec),
        affected,
        hostCount: hosts.size,
      },
    ];
  });
  return { items, total };
}

/** When advisories were last stored (by source) and how many the database holds. */
export async function advisorySync(tx: Tx) {
  const t = adv(tx);
  const last = await t.selectFrom('advisories').select(['updated_at', 'source']).orderBy('updated_at', 'desc').limit(1).executeTakeFirst();
  const lastImport = await t.selectFrom('advisories').select((eb) => eb.fn.max('updated_at').as('at')).where('source', '!=', 'bundled').executeTakeFirst();
  const count = await t.selectFrom('advisories').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const kev = await t.selectFrom('advisory_kev').select((eb) => [eb.fn.max('added_at').as('at'), eb.fn.countAll<number>().as('n')]).executeTakeFirstOrThrow();
  return {
    lastUpdatedAt: last?.updated_at ?? null,
    lastUpdateSource: last?.source ?? null,
    lastImportAt: (lastImport?.at as string | null | undefined) ?? null,
    advisories: Number(count.n),
    knownExploited: Number(kev.n),
    knownExploitedUpdatedAt: (kev.at as string | null | undefined) ?? null,
  };
}
