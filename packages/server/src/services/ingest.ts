// Stores one agent report: the host, its server instances, the server definitions they
// point to, tool definitions, findings (re-scored here, never trusted from the agent),
// change events, alerts and webhook deliveries. All in ONE org-scoped transaction.
// An unchanged re-report (same normalised hash as the host's last one) only moves
// last-seen times.
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { levelForScore, levelRank, severityRank, type Level, type Rule, type ScanReport, type ScoredServer } from '@palisade/core';
import { withOrg, type Db, type OrgScope, type Tx } from '../db/index.js';
import { chunk, chunkRows } from './batch.js';
import { diffHost, type EventDraft, type InstanceState, type ToolChange } from './diff.js';
import { instanceKey, reportHash, serverDefinition, serverFingerprint } from './fingerprint.js';
import { rescoreReport, type KnownTools } from './rescore.js';
import { scrubServer } from './sanitize.js';
import { storeEvents, type StoredEvent } from './alerts.js';
import { voidOverrides } from './overrides.js';
import { advisoryDbFor, recordIngestMatches, reportPackageKeys } from './advisory-db.js';
import { syncServerIndex } from './server-index.js';

export interface IngestResult {
  reportId: string | null;
  hostId: string;
  unchanged: boolean;
  servers: number;
  events: number;
  alerts: number;
}

export interface IngestOptions {
  agentKeyId?: string | null;
  /** rawReportKey() of the body this report was parsed from, remembered for the fast path */
  rawKey?: string | null;
  now?: Date;
  /** the rules to score with; the full core set unless a test narrows it */
  rules?: readonly Rule[];
  /** runs inside the transaction after a changed report is stored (the audit entry) */
  afterWrite?: (tx: Tx, result: IngestResult) => Promise<void>;
  /** called after commit when alerts were raised (the webhook dispatcher listens) */
  onAlerts?: (scope: OrgScope, count: number) => void;
}

const SCANNED_AT_KEY = '"scannedAt"';
const SCANNED_AT_VALUE = /"scannedAt"\s*:\s*"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))"/y;

/**
 * A key for a raw report body that ignores only its scan time: sha256 of the text with the
 * value of its FIRST "scannedAt" blanked. Two bodies with the same key are the same text
 * except for that one (well-formed) time, so a body whose key matches a host's last accepted
 * body is that report again and needs no parsing. Null when the body has no such field.
 */
export function rawReportKey(text: string): { key: string; scannedAt: string } | null {
  const at = text.indexOf(SCANNED_AT_KEY);
  if (at < 0) return null;
  SCANNED_AT_VALUE.lastIndex = at;
  const m = SCANNED_AT_VALUE.exec(text);
  if (!m) return null;
  const blanked = text.slice(0, at) + '"scannedAt":""' + text.slice(at + m[0].length);
  return { key: createHash('sha256').update(blanked).digest('hex'), scannedAt: m[1]! };
}

/**
 * The fast path for a re-report: when the body is one this org already accepted as some
 * host's last report, only last-seen times move. Returns null when it is not.
 */
export async function ingestUnchangedBody(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now = new Date()): Promise<IngestResult | null> {
  return withRetry(() =>
    withOrg(store, scope, async (tx) => {
      const host = await tx.selectFrom('hosts').select('id').where('org_id', '=', scope.orgId).where('last_raw_hash', '=', raw.key).executeTakeFirst();
      if (!host) return null;
      return touchUnchanged(tx, store, scope, host.id, now.toISOString(), raw.scannedAt);
    }),
  );
}

/** PostgreSQL may pick one of two concurrent ingests as a deadlock victim: run it again. */
async function withRetry<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= attempts || (code !== '40P01' && code !== '40001')) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 20));
    }
  }
}

interface Prepared {
  server: ScoredServer;
  fingerprint: string;
  key: string;
}

export async function ingestReport(store: Db, scope: OrgScope, report: ScanReport, opts: IngestOptions = {}): Promise<IngestResult> {
  const now = (opts.now ?? new Date()).toISOString();
  const hash = reportHash(report);
  const result = await withRetry(() => withOrg(store, scope, async (tx) => {
    if (store.dialect === 'postgres') {
      // two reports of the same host at once would race on its rows: take turns
      await sql`select pg_advisory_xact_lock(hashtext(${`${scope.orgId}|${report.host.hostname}|${report.host.user}`}))`.execute(tx);
    }
    const host = await tx
      .selectFrom('hosts')
      .select(['id', 'last_report_hash'])
      .where('org_id', '=', scope.orgId)
      .where('hostname', '=', report.host.hostname)
      .where('os_user', '=', report.host.user)
      .executeTakeFirst();
    if (host && host.last_report_hash === hash) {
      if (opts.rawKey) await tx.updateTable('hosts').set({ last_raw_hash: opts.rawKey }).where('org_id', '=', scope.orgId).where('id', '=', host.id).execute();
      return touchUnchanged(tx, store, scope, host.id, now, report.scannedAt);
    }
    return ingestChanged(tx, store.dialect, scope, report, hash, host?.id ?? null, now, opts);
  }));
  if (result.alerts > 0) opts.onAlerts?.(scope, result.alerts);
  return result;
}

// Server rows are shared by every host that runs them: their last-seen time moves at most
// once a minute, so a fleet of re-reports does not queue on the popular rows.
const SERVER_SEEN_GRANULARITY_MS = 60_000;

async function touchUnchanged(tx: Tx, store: Db, scope: OrgScope, hostId: string, now: string, scannedAt: string): Promise<IngestResult> {
  const org = scope.orgId;
  await tx.updateTable('hosts').set({ last_seen: now, last_scanned_at: scannedAt }).where('org_id', '=', org).where('id', '=', hostId).execute();
  await tx.updateTable('server_instances').set({ last_seen: now }).where('org_id', '=', org).where('host_id', '=', hostId).execute();
  const stale = new Date(Date.parse(now) - SERVER_SEEN_GRANULARITY_MS).toISOString();
  const ids = await tx
    .selectFrom('servers')
    .select('id')
    .where('org_id', '=', org)
    .where('last_seen', '<', stale)
    .where('id', 'in', (eb) => eb.selectFrom('server_instances').select('server_id').where('org_id', '=', org).where('host_id', '=', hostId))
    .orderBy('id')
    .$if(store.dialect === 'postgres', (qb) => qb.forNoKeyUpdate()) // lock in id order: no deadlock between hosts
    .execute();
  if (ids.length > 0) {
    await tx.updateTable('servers').set({ last_seen: now }).where('org_id', '=', org).where('id', 'in', ids.map((r) => r.id)).where('last_seen', '<', now).execute();
  }
  const count = await tx.selectFrom('hosts').select('server_count').where('org_id', '=', org).where('id', '=', hostId).executeTakeFirst();
  return { reportId: null, hostId, unchanged: true, servers: count?.server_count ?? 0, events: 0, alerts: 0 };
}

function searchText(...parts: Array<string | null | undefined>): string {
  return parts
    .filter((p): p is string => Boolean(p))
    .join(' ')
    .toLowerCase()
    .slice(0, 2048);
}

async function ingestChanged(tx: Tx, dialect: Db['dialect'], scope: OrgScope, report: ScanReport, hash: string, existingHostId: string | null, now: string, opts: IngestOptions): Promise<IngestResult> {
  const org = scope.orgId;
  // 1. Identities. The same instance key twice in one report keeps the first.
  const seenKeys = new Set<string>();
  const prepared: Prepared[] = [];
  for (const raw of report.servers) {
    const server = scrubServer(raw);
    const key = instanceKey(server);
    if (seenKeys.has(key)) continue;
    seenKeys.add(key);
    prepared.push({ server, fingerprint: serverFingerprint(server), key });
  }
  const fingerprints = [...new Set(prepared.map((p) => p.fingerprint))];

  // 2. Server definitions already known, and their first-seen tool hashes (rug-pull baseline).
  const serverIdByFp = new Map<string, string>();
  for (const part of chunk(fingerprints)) {
    const rows = await tx.selectFrom('servers').select(['id', 'fingerprint']).where('org_id', '=', org).where('fingerprint', 'in', part).execute();
    for (const r of rows) serverIdByFp.set(r.fingerprint, r.id);
  }
  const knownTools = new Map<string, Map<string, { hash: string; firstSeen: string }>>();
  const knownHashes = new Set<string>(); // serverId \0 name \0 hash
  const fpById = new Map([...serverIdByFp].map(([fp, id]) => [id, fp]));
  for (const part of chunk([...serverIdByFp.values()])) {
    const rows = await tx
      .selectFrom('tools')
      .select(['server_id', 'name', 'definition_hash', 'first_seen'])
      .where('org_id', '=', org)
      .where('server_id', 'in', part)
      .orderBy('first_seen')
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const fp = fpById.get(r.server_id)!;
      let m = knownTools.get(fp);
      if (!m) knownTools.set(fp, (m = new Map()));
      if (!m.has(r.name)) m.set(r.name, { hash: r.definition_hash, firstSeen: r.first_seen });
      knownHashes.add(`${r.server_id}\u0000${r.name}\u0000${r.definition_hash}`);
    }
  }

  // 3. Re-score with the backend's own rules (and the stored advisories, for PAL-V001).
  const advisories = await advisoryDbFor(tx, reportPackageKeys(prepared.map((p) => p.server)));
  const rescored = rescoreReport(
    { ...report, servers: prepared.map((p) => p.server) },
    prepared.map((p) => p.fingerprint),
    knownTools as KnownTools,
    opts.rules,
    advisories,
  );
  prepared.forEach((p, i) => (p.server = rescored.servers[i]!));

  // 4. The host.
  const hostId = existingHostId ?? randomUUID();
  const hostSearch = searchText(report.host.hostname, report.host.user);
  if (!existingHostId) {
    await tx
      .insertInto('hosts')
      .values({ id: hostId, org_id: org, hostname: report.host.hostname, os_user: report.host.user, os: report.host.os, agent_version: report.agent.version, first_seen: now, last_seen: now, last_report_hash: null, last_raw_hash: null, last_scanned_at: null, clients: '[]', server_count: 0, max_score: 0, max_level: 'none', search: hostSearch })
      .execute();
  }

  // 5. The host's previous instances and their findings, for the diff.
  const prevInstances = existingHostId
    ? await tx.selectFrom('server_instances as i').innerJoin('servers as s', 's.id', 'i.server_id').select(['i.id', 'i.instance_key', 'i.server_id', 'i.client', 'i.config_path', 'i.project_path', 'i.scope', 'i.cwd', 'i.score', 'i.level', 'i.first_seen', 's.fingerprint', 's.name']).where('i.org_id', '=', org).where('i.host_id', '=', hostId).execute()
    : [];
  const prevFindings = existingHostId
    ? await tx.selectFrom('findings').select(['instance_id', 'rule_id', 'severity', 'title', 'message', 'evidence', 'first_seen']).where('org_id', '=', org).where('host_id', '=', hostId).execute()
    : [];
  const findingsByInstance = new Map<string, typeof prevFindings>();
  for (const f of prevFindings) {
    const list = findingsByInstance.get(f.instance_id) ?? [];
    list.push(f);
    findingsByInstance.set(f.instance_id, list);
  }
  const previous: InstanceState[] | null = existingHostId
    ? prevInstances.map((i) => ({
        key: i.instance_key,
        name: i.name,
        client: i.client,
        configPath: i.config_path,
        fingerprint: i.fingerprint,
        score: i.score,
        level: i.level as Level,
        findings: (findingsByInstance.get(i.id) ?? []).map((f) => ({ ruleId: f.rule_id, severity: f.severity as 'info', title: f.title, evidence: f.evidence })),
      }))
    : null;
  const prevByKey = new Map(prevInstances.map((i) => [i.instance_key, i]));

  // 6. New server definitions (a concurrent report may insert the same one: ignore and re-read).
  const newDefs = prepared.filter((p, i, all) => !serverIdByFp.has(p.fingerprint) && all.findIndex((q) => q.fingerprint === p.fingerprint) === i);
  if (newDefs.length > 0) {
    const rows = newDefs.map((p) => {
      const def = serverDefinition(p.server);
      return {
        id: randomUUID(),
        org_id: org,
        fingerprint: p.fingerprint,
        name: def.name,
        transport: def.transport,
        command: def.command,
        url: def.url,
        package_ecosystem: def.package?.ecosystem ?? null,
        package_name: def.package?.name ?? null,
        package_version: def.package?.version ?? null,
        definition: JSON.stringify(def),
        score: p.server.score,
        level: p.server.level,
        level_rank: levelRank[p.server.level],
        finding_count: 0,
        host_count: 0,
        instance_count: 0,
        clients: '',
        search: searchText(def.name, def.command, def.url, def.package?.name, def.args.join(' ')),
        first_seen: now,
        last_seen: now,
      };
    });
    for (const part of chunkRows(rows)) await tx.insertInto('servers').values(part).onConflict((oc) => oc.columns(['org_id', 'fingerprint']).doNothing()).execute();
    for (const part of chunk(newDefs.map((p) => p.fingerprint))) {
      const got = await tx.selectFrom('servers').select(['id', 'fingerprint']).where('org_id', '=', org).where('fingerprint', 'in', part).execute();
      for (const r of got) serverIdByFp.set(r.fingerprint, r.id);
    }
  }

  // the report's advisory matches are seen now: a later re-match must not alert for them again
  await recordIngestMatches(tx, scope, prepared.map((p) => ({ serverId: serverIdByFp.get(p.fingerprint)!, package: p.server.package })), advisories, now);

  // 7. Tool definitions: new hashes are stored; a new hash for a known tool name is a rug pull.
  const toolChanges: ToolChange[] = [];
  const toolRows = [];
  const touchedTools: Array<{ serverId: string; name: string; hash: string }> = [];
  const toolSeen = new Set<string>();
  for (const p of prepared) {
    const serverId = serverIdByFp.get(p.fingerprint)!;
    for (const t of p.server.tools ?? []) {
      if (!t.definitionHash) continue;
      const k = `${serverId}\u0000${t.name}\u0000${t.definitionHash}`;
      if (toolSeen.has(k)) continue;
      toolSeen.add(k);
      if (knownHashes.has(k)) {
        touchedTools.push({ serverId, name: t.name, hash: t.definitionHash });
        continue;
      }
      toolRows.push({ id: randomUUID(), org_id: org, server_id: serverId, name: t.name, definition_hash: t.definitionHash, description: t.description ?? null, input_schema_hash: t.inputSchemaHash ?? null, annotations: t.annotations ? JSON.stringify(t.annotations) : null, first_seen: now, last_seen: now });
      const first = knownTools.get(p.fingerprint)?.get(t.name);
      if (first && first.hash !== t.definitionHash) toolChanges.push({ fingerprint: p.fingerprint, serverName: p.server.name, tool: t.name, previousHash: first.hash, hash: t.definitionHash });
    }
  }
  for (const part of chunkRows(toolRows)) await tx.insertInto('tools').values(part).onConflict((oc) => oc.columns(['org_id', 'server_id', 'name', 'definition_hash']).doNothing()).execute();
  // Known definitions move their last-seen time, per server in one statement (its index
  // prefix), at most once a minute.
  const touchedByServer = new Map<string, string[]>();
  for (const t of touchedTools) touchedByServer.set(t.serverId, [...(touchedByServer.get(t.serverId) ?? []), t.hash]);
  const toolStale = new Date(Date.parse(now) - SERVER_SEEN_GRANULARITY_MS).toISOString();
  for (const serverId of [...touchedByServer.keys()].sort()) {
    for (const hashes of chunk(touchedByServer.get(serverId)!)) {
      await tx.updateTable('tools').set({ last_seen: now }).where('org_id', '=', org).where('server_id', '=', serverId).where('definition_hash', 'in', hashes).where('last_seen', '<', toolStale).execute();
    }
  }

  // 8. Instances: update those that stay, insert new ones, delete the ones gone. Only the
  // definitions whose instances changed (added, moved, removed, re-scored, other findings)
  // get their aggregates recomputed: a popular definition on many hosts is not recounted
  // for every report that merely mentions it.
  const affectedServers = new Set<string>();
  const untouchedServers = new Set<string>();
  const instanceIdByKey = new Map<string, string>();
  const newInstances = [];
  const seenOnlyInstances: string[] = [];
  const findingSig = (list: ReadonlyArray<{ ruleId: string; evidence: string; severity: string }>) =>
    list
      .map((f) => `${f.ruleId}\u0000${f.severity}\u0000${f.evidence}`)
      .sort()
      .join('\u0001');
  for (const p of prepared) {
    const serverId = serverIdByFp.get(p.fingerprint)!;
    const s = p.server;
    const old = prevByKey.get(p.key);
    if (old) {
      instanceIdByKey.set(p.key, old.id);
      const before = findingSig((findingsByInstance.get(old.id) ?? []).map((f) => ({ ruleId: f.rule_id, evidence: f.evidence, severity: f.severity })));
      if (old.server_id !== serverId) {
        affectedServers.add(old.server_id);
        affectedServers.add(serverId);
      } else if (old.score !== s.score || old.client !== s.client || before !== findingSig(s.findings)) affectedServers.add(serverId);
      else untouchedServers.add(serverId);
      // only last_seen moves: one statement for all such instances, below
      if (old.server_id === serverId && old.client === s.client && old.config_path === s.configPath && old.project_path === (s.projectPath ?? null) && old.scope === s.scope && old.cwd === s.cwd && old.score === s.score && old.level === s.level) {
        seenOnlyInstances.push(old.id);
        continue;
      }
      await tx
        .updateTable('server_instances')
        .set({ server_id: serverId, client: s.client, config_path: s.configPath, project_path: s.projectPath ?? null, scope: s.scope, cwd: s.cwd, score: s.score, level: s.level, last_seen: now })
        .where('org_id', '=', org)
        .where('id', '=', old.id)
        .execute();
    } else {
      const id = randomUUID();
      affectedServers.add(serverId);
      instanceIdByKey.set(p.key, id);
      newInstances.push({ id, org_id: org, server_id: serverId, host_id: hostId, instance_key: p.key, client: s.client, config_path: s.configPath, project_path: s.projectPath ?? null, scope: s.scope, cwd: s.cwd, score: s.score, level: s.level, first_seen: now, last_seen: now });
    }
  }
  for (const part of chunk(seenOnlyInstances.sort())) await tx.updateTable('server_instances').set({ last_seen: now }).where('org_id', '=', org).where('id', 'in', part).execute();
  for (const part of chunkRows(newInstances)) await tx.insertInto('server_instances').values(part).execute();
  const gone = prevInstances.filter((i) => !seenKeys.has(i.instance_key));
  for (const g of gone) affectedServers.add(g.server_id);
  for (const part of chunk(gone.map((g) => g.id))) {
    await tx.deleteFrom('findings').where('org_id', '=', org).where('instance_id', 'in', part).execute();
    await tx.deleteFrom('server_instances').where('org_id', '=', org).where('id', 'in', part).execute();
  }

  // 9. Findings: replaced per instance, keeping the first-seen time of those that stay.
  const firstSeenOf = new Map(prevFindings.map((f) => [`${f.instance_id}\u0000${f.rule_id}\u0000${f.evidence}`, f.first_seen]));
  // An instance that stays on its definition with exactly the findings it has stored keeps
  // its rows as they are (the rewrite would store the same values under new ids, which
  // nothing reads): a changed report then rewrites only the servers that changed.
  const rowSig = (r: { rule_id: string; severity: string; title: string; message: string; evidence: string }) =>
    `${r.rule_id}\u0000${r.severity}\u0000${r.title}\u0000${r.message}\u0000${r.evidence}`;
  const keptIds: string[] = [];
  const findingRows = [];
  for (const p of prepared) {
    const instanceId = instanceIdByKey.get(p.key)!;
    const serverId = serverIdByFp.get(p.fingerprint)!;
    const once = new Set<string>();
    const rows = [];
    for (const f of p.server.findings) {
      const k = `${instanceId}\u0000${f.ruleId}\u0000${f.evidence}`;
      if (once.has(k)) continue;
      once.add(k);
      rows.push({ id: randomUUID(), org_id: org, instance_id: instanceId, server_id: serverId, host_id: hostId, rule_id: f.ruleId, severity: f.severity, severity_rank: severityRank[f.severity], title: f.title, message: f.message, evidence: f.evidence, first_seen: firstSeenOf.get(k) ?? now });
    }
    const old = prevByKey.get(p.key);
    if (old) {
      const stored = findingsByInstance.get(old.id) ?? [];
      const unchanged = old.server_id === serverId && stored.length === rows.length && stored.map(rowSig).sort().join('\u0001') === rows.map(rowSig).sort().join('\u0001');
      if (unchanged) continue;
      keptIds.push(old.id);
    }
    findingRows.push(...rows);
  }
  for (const part of chunk(keptIds)) await tx.deleteFrom('findings').where('org_id', '=', org).where('instance_id', 'in', part).execute();
  for (const part of chunkRows(findingRows)) await tx.insertInto('findings').values(part).execute();

  // 10. What changed, as events (and alerts); overrides of changed definitions are voided.
  const next: InstanceState[] = prepared.map((p) => ({ key: p.key, name: p.server.name, client: p.server.client, configPath: p.server.configPath, fingerprint: p.fingerprint, score: p.server.score, level: p.server.level, findings: p.server.findings }));
  const drafts = diffHost(report.host.hostname, previous, next, toolChanges);
  const serverIdForEvent = (e: EventDraft): string | null => {
    if (e.type === 'server_removed' && e.instanceKey) return prevByKey.get(e.instanceKey)?.server_id ?? null;
    return e.fingerprint ? (serverIdByFp.get(e.fingerprint) ?? null) : null;
  };
  const events: StoredEvent[] = drafts.map((e) => ({ ...e, id: randomUUID(), hostId, serverId: serverIdForEvent(e) }));
  const voidTargets = new Map<string, string>();
  for (const e of drafts) {
    if (e.type === 'config_changed' && e.instanceKey) {
      const old = prevByKey.get(e.instanceKey);
      if (old) voidTargets.set(old.server_id, `The configuration of "${old.name}" changed on ${report.host.hostname}.`);
    }
    if (e.type === 'tool_changed' && e.fingerprint) {
      const id = serverIdByFp.get(e.fingerprint);
      if (id) voidTargets.set(id, `A tool definition of this server changed (${String(e.details.tool)}).`);
    }
  }
  const voided = await voidOverrides(tx, scope, voidTargets, now, hostId);
  events.push(...voided);

  // 11. Aggregates of every server definition this report touched.
  await refreshServerAggregates(tx, scope, [...affectedServers], now, dialect);
  const seenOnly = [...untouchedServers].filter((id) => !affectedServers.has(id)).sort();
  if (seenOnly.length > 0) {
    const stale = new Date(Date.parse(now) - SERVER_SEEN_GRANULARITY_MS).toISOString();
    for (const part of chunk(seenOnly)) await tx.updateTable('servers').set({ last_seen: now }).where('org_id', '=', org).where('id', 'in', part).where('last_seen', '<', stale).execute();
  }

  // 12. The host's own summary, the report record, today's snapshot, events and alerts.
  let maxScore = 0;
  for (const p of prepared) maxScore = Math.max(maxScore, p.server.score);
  await tx
    .updateTable('hosts')
    .set({
      os: report.host.os,
      agent_version: report.agent.version,
      last_seen: now,
      last_report_hash: hash,
      last_raw_hash: opts.rawKey ?? null,
      last_scanned_at: report.scannedAt,
      clients: JSON.stringify(report.clients.slice(0, 1000)),
      server_count: prepared.length,
      max_score: maxScore,
      max_level: levelForScore(maxScore),
      search: hostSearch,
    })
    .where('org_id', '=', org)
    .where('id', '=', hostId)
    .execute();
  const reportId = randomUUID();
  await tx
    .insertInto('reports')
    .values({ id: reportId, org_id: org, host_id: hostId, report_hash: hash, agent_key_id: opts.agentKeyId ?? null, agent_version: report.agent.version, scanned_at: report.scannedAt, received_at: now, server_count: prepared.length, event_count: events.length })
    .execute();
  const alerts = await storeEvents(tx, scope, events, reportId, now);
  await writeDailySnapshot(tx, scope, now);
  const result = { reportId, hostId, unchanged: false, servers: prepared.length, events: events.length, alerts: alerts.length };
  await opts.afterWrite?.(tx, result);
  return result;
}

/** Recompute the denormalised columns the server list sorts and filters on. */
export async function refreshServerAggregates(tx: Tx, scope: OrgScope, serverIds: readonly string[], now: string, dialect: Db['dialect']): Promise<void> {
  const org = scope.orgId;
  const sorted = [...serverIds].sort(); // the same lock order in every transaction: no deadlock between them
  for (const part of chunk(sorted)) {
    if (part.length === 0) continue;
    if (dialect === 'postgres') {
      // Two ingests adding instances of one server at once would each count only their own
      // uncommitted rows and the last writer would win. Lock the rows first: the second waits,
      // and its counts (a fresh snapshot per statement) then include the first one's rows.
      // NO KEY UPDATE does not conflict with the key-share locks that instance inserts take.
      await tx.selectFrom('servers').select('id').where('org_id', '=', org).where('id', 'in', part).orderBy('id').forNoKeyUpdate().execute();
    }
    const stats = await tx
      .selectFrom('server_instances')
      .select((eb) => ['server_id', eb.fn.countAll<number>().as('instances'), eb.fn.count<number>('host_id').distinct().as('hosts'), eb.fn.max('score').as('score')])
      .where('org_id', '=', org)
      .where('server_id', 'in', part)
      .groupBy('server_id')
      .execute();
    const clients = await tx.selectFrom('server_instances').select(['server_id', 'client']).distinct().where('org_id', '=', org).where('server_id', 'in', part).execute();
    const findingCounts = await tx
      .selectFrom(tx.selectFrom('findings').select(['server_id', 'rule_id', 'evidence']).distinct().where('org_id', '=', org).where('server_id', 'in', part).as('d'))
      .select((eb) => ['d.server_id', eb.fn.countAll<number>().as('n')])
      .groupBy('d.server_id')
      .execute();
    const byId = new Map(stats.map((s) => [s.server_id, s]));
    const clientsById = new Map<string, string[]>();
    for (const c of clients) clientsById.set(c.server_id, [...(clientsById.get(c.server_id) ?? []), c.client]);
    const findingsById = new Map(findingCounts.map((f) => [f.server_id, Number(f.n)]));
    for (const id of part) {
      const s = byId.get(id);
      const instances = Number(s?.instances ?? 0);
      const set: Record<string, unknown> = {
        instance_count: instances,
        host_count: Number(s?.hosts ?? 0),
        clients: (clientsById.get(id) ?? []).sort().join(','),
        finding_count: findingsById.get(id) ?? 0,
      };
      // A definition no host runs any more keeps its last score for its history page.
      if (instances > 0) {
        const score = Number(s?.score ?? 0);
        const level = levelForScore(score);
        Object.assign(set, { score, level, level_rank: levelRank[level], last_seen: now });
      }
      await tx.updateTable('servers').set(set).where('org_id', '=', org).where('id', '=', id).execute();
    }
  }
  // the server list's side tables follow these columns (same transaction, rows still locked)
  await syncServerIndex(tx, scope, sorted, dialect);
}

/** Today's counts of server definitions by level, for the overview's trend line. */
export async function writeDailySnapshot(tx: Tx, scope: OrgScope, now: string): Promise<void> {
  const org = scope.orgId;
  const day = now.slice(0, 10);
  const rows = await tx.selectFrom('servers').select((eb) => ['level', eb.fn.countAll<number>().as('n')]).where('org_id', '=', org).where('instance_count', '>', 0).groupBy('level').execute();
  const counts: Record<Level, number> = { critical: 0, high: 0, medium: 0, low: 0, none: 0 };
  for (const r of rows) if (r.level in counts) counts[r.level as Level] = Number(r.n);
  const hosts = await tx.selectFrom('hosts').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).executeTakeFirst();
  const values = { org_id: org, day, ...counts, hosts: Number(hosts?.n ?? 0) };
  await tx
    .insertInto('daily_snapshots')
    .values(values)
    .onConflict((oc) => oc.columns(['org_id', 'day']).doUpdateSet({ critical: counts.critical, high: counts.high, medium: counts.medium, low: counts.low, none: counts.none, hosts: values.hosts }))
    .execute();
}
