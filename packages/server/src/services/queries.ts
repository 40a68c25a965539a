// Read side of the inventory: the list and detail shapes of docs/api.md. Every query is
// org-scoped (the caller runs it inside withOrg) and every list is paginated with a cap.
import { sql } from 'kysely';
import { allRules, findRule, levelRank, levels, severities, type Level, type Severity } from '@palisade/core';
import type { OrgScope, Tx } from '../db/index.js';
import type { AlertsTable, OverridesTable, ServersTable } from '../db/inventory-schema.js';
import { overrideBadges } from './overrides.js';
import { SILENT_AFTER_HOURS } from './settings.js';
import { serverAdvisoryViews } from './advisory-db.js';
import { clientFilter, textMatchIds } from './server-index.js';
import { alertTitle } from './alert-titles.js';

export interface Page {
  limit: number;
  offset: number;
}

const levelSet = new Set<string>(levels);
const severitySet = new Set<string>(severities);

/** "high,critical" -> ['high','critical']; unknown words are a 400 for the route to raise. */
export function parseList<T extends string>(raw: string | undefined, allowed: ReadonlySet<string>): T[] | 'invalid' | undefined {
  if (raw === undefined || raw === '') return undefined;
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.some((p) => !allowed.has(p))) return 'invalid';
  return parts as T[];
}
export const parseLevels = (raw: string | undefined) => parseList<Level>(raw, levelSet);
export const parseSeverities = (raw: string | undefined) => parseList<Severity>(raw, severitySet);

// LIKE with the user's text taken literally (both databases get the same ESCAPE clause)
export function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** `column LIKE '%text%'` over a lower-cased search column, the text taken literally. */
function contains(column: string, text: string) {
  return sql<boolean>`${sql.ref(column)} like ${likePattern(text)} escape '\\'`;
}

function serverSummary(r: ServersTable, badge: { id: string; decision: string; status: 'active' | 'pending'; expiresAt: string } | undefined) {
  const def = JSON.parse(r.definition) as { args?: string[] };
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    name: r.name,
    transport: r.transport,
    command: r.command,
    args: def.args ?? [],
    url: r.url,
    package: r.package_name ? { ecosystem: r.package_ecosystem ?? 'unknown', name: r.package_name, ...(r.package_version ? { version: r.package_version } : {}) } : null,
    score: r.score,
    level: r.level as Level,
    effectiveLevel: (badge?.status === 'active' ? 'none' : r.level) as Level,
    override: badge ? { ...badge, decision: badge.decision as 'accept_risk' | 'benign' } : null,
    clients: r.clients ? r.clients.split(',') : [],
    hostCount: r.host_count,
    instanceCount: r.instance_count,
    findingCount: r.finding_count,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
}
export type ServerSummary = ReturnType<typeof serverSummary>;

export interface ServerListQuery extends Page {
  level?: Level[];
  client?: string;
  host?: string;
  q?: string;
  sort?: 'score' | 'name' | 'lastSeen' | 'hosts';
  order?: 'asc' | 'desc';
}

const SORT_COLUMN = { score: 'score', name: 'name', lastSeen: 'last_seen', hosts: 'host_count' } as const;

export async function listServers(tx: Tx, scope: OrgScope, q: ServerListQuery, now = new Date()): Promise<{ items: ServerSummary[]; total: number }> {
  const org = scope.orgId;
  let base = tx.selectFrom('servers').where('servers.org_id', '=', org).where('servers.instance_count', '>', 0);
  if (q.level?.length) base = base.where('servers.level_rank', 'in', q.level.map((l) => levelRank[l]));
  if (q.q) {
    // the same LIKE either way: on the few servers that hold the text's rarest three-character
    // piece (a side table read by equality, which row-level security lets PostgreSQL do in an
    // index), or on every definition when there is no such piece
    const text = q.q.slice(0, 200);
    const matches = await textMatchIds(tx, scope, text, likePattern(text));
    base = matches ? base.where('servers.id', 'in', matches) : base.where(contains('servers.search', text));
  }
  // servers.clients is the comma list of the clients of its current instances (kept by ingest,
  // with the server_clients side table): equality on the side table's key, except for a
  // query with a comma, which only the LIKE on the list can answer
  let clientCount: number | null = null;
  if (q.client && !q.client.includes(',')) {
    const f = await clientFilter(tx, scope, q.client);
    clientCount = f.count;
    base = base.where(f.match);
  } else if (q.client) base = base.where(sql<boolean>`',' || servers.clients || ',' like ${likePattern(`,${q.client},`)} escape '\\'`);
  if (q.host) {
    // the host's few instances first (their index), then the definitions by primary key
    base = base.where('servers.id', 'in', tx.selectFrom('server_instances as ih').select('ih.server_id').where('ih.org_id', '=', org).where('ih.host_id', '=', q.host));
  }
  const sort = q.sort ?? 'score';
  const order = q.order ?? (sort === 'name' ? 'asc' : 'desc');
  const column = SORT_COLUMN[sort];
  // The page's ids first, walked in a narrow sort index that carries the filter columns
  // (an index-only scan, so a deep OFFSET skips index entries, not wide rows), then only
  // those rows by primary key, in the same order.
  const pageIds = base.select('servers.id').orderBy(`servers.${column}`, order).orderBy('servers.id', order).limit(q.limit).offset(q.offset);
  const rows = await tx.selectFrom('servers').selectAll().where('org_id', '=', org).where('id', 'in', pageIds).orderBy(column, order).orderBy('id', order).execute();
  // the client filter alone: its side-table rows are exactly the listed servers in that client
  const total = clientCount !== null && !q.level?.length && !q.q && !q.host ? clientCount : Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const badges = await overrideBadges(tx, scope, rows, now);
  return { items: rows.map((r) => serverSummary(r, badges.get(r.id))), total };
}

async function usersById(tx: Tx, ids: Array<string | null>): Promise<Map<string, { id: string; email: string }>> {
  const want = [...new Set(ids.filter((x): x is string => Boolean(x)))];
  if (want.length === 0) return new Map();
  const rows = await tx.selectFrom('users').select(['id', 'email']).where('id', 'in', want).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

export function overrideView(o: OverridesTable, users: Map<string, { id: string; email: string }>, now = new Date()) {
  const who = (id: string | null) => (id ? (users.get(id) ?? { id, email: '' }) : null);
  const expired = (o.status === 'active' || o.status === 'pending') && o.expires_at <= now.toISOString();
  return {
    id: o.id,
    serverId: o.server_id,
    fingerprint: o.fingerprint,
    decision: o.decision,
    reason: o.reason,
    status: expired ? 'expired' : o.status,
    expiresAt: o.expires_at,
    createdAt: o.created_at,
    createdBy: who(o.created_by),
    approvedAt: o.approved_at,
    approvedBy: who(o.approved_by),
    voidedAt: o.voided_at,
    voidReason: o.void_reason,
    revokedAt: o.revoked_at,
    revokedBy: who(o.revoked_by),
  };
}

export async function overrideViews(tx: Tx, rows: OverridesTable[], now = new Date()) {
  const users = await usersById(tx, rows.flatMap((r) => [r.created_by, r.approved_by, r.revoked_by]));
  return rows.map((r) => overrideView(r, users, now));
}

function eventView(e: { id: string; type: string; severity: string; host_id: string | null; server_id: string | null; summary: string; details: string; created_at: string }) {
  return { id: e.id, type: e.type, severity: e.severity, hostId: e.host_id, serverId: e.server_id, summary: e.summary, details: JSON.parse(e.details) as unknown, createdAt: e.created_at };
}

export async function getServer(tx: Tx, scope: OrgScope, id: string, now = new Date()) {
  const org = scope.orgId;
  const row = await tx.selectFrom('servers').selectAll().where('org_id', '=', org).where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const badges = await overrideBadges(tx, scope, [row], now);
  const def = JSON.parse(row.definition) as { envNames?: string[]; headerNames?: string[]; tlsVerifyDisabled?: boolean; autoApprove?: string[] };
  const instances = await tx
    .selectFrom('server_instances as i')
    .innerJoin('hosts as h', 'h.id', 'i.host_id')
    .select(['i.id', 'i.host_id as hostId', 'h.hostname', 'h.os_user as osUser', 'i.client', 'i.config_path as configPath', 'i.project_path as projectPath', 'i.scope', 'i.cwd', 'i.score', 'i.level', 'i.first_seen as firstSeen', 'i.last_seen as lastSeen'])
    .where('i.org_id', '=', org)
    .where('h.org_id', '=', org)
    .where('i.server_id', '=', id)
    .orderBy('h.hostname')
    .limit(500)
    .execute();
  const tools = await tx.selectFrom('tools').selectAll().where('org_id', '=', org).where('server_id', '=', id).orderBy('name').orderBy('first_seen').limit(2000).execute();
  const firstHash = new Map<string, string>();
  for (const t of tools) if (!firstHash.has(t.name)) firstHash.set(t.name, t.definition_hash);
  const findings = await tx
    .selectFrom('findings')
    .select((eb) => ['rule_id', 'severity', 'severity_rank', 'title', 'message', 'evidence', eb.fn.count<number>('host_id').distinct().as('hosts'), eb.fn.min('first_seen').as('first_seen')])
    .where('org_id', '=', org)
    .where('server_id', '=', id)
    .groupBy(['rule_id', 'severity', 'severity_rank', 'title', 'message', 'evidence'])
    .orderBy('severity_rank', 'desc')
    .orderBy('rule_id')
    .limit(500)
    .execute();
  const crossFindings = await crossServerFindings(tx, scope, row.name, instances);
  const overrides = await tx.selectFrom('overrides').selectAll().where('org_id', '=', org).where('server_id', '=', id).orderBy('created_at', 'desc').limit(100).execute();
  const history = await tx.selectFrom('events').selectAll().where('org_id', '=', org).where('server_id', '=', id).orderBy('created_at', 'desc').orderBy('id').limit(200).execute();
  return {
    ...serverSummary(row, badges.get(id)),
    envNames: def.envNames ?? [],
    headerNames: def.headerNames ?? [],
    tlsVerifyDisabled: def.tlsVerifyDisabled ?? false,
    autoApprove: def.autoApprove ?? [],
    config: def,
    instances,
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchemaHash: t.input_schema_hash, annotations: t.annotations ? (JSON.parse(t.annotations) as unknown) : null, definitionHash: t.definition_hash, firstSeen: t.first_seen, lastSeen: t.last_seen, changed: firstHash.get(t.name) !== t.definition_hash })),
    findings: findings.map((f) => {
      const rule = findRule(f.rule_id);
      return { ruleId: f.rule_id, severity: f.severity, title: f.title, message: f.message, evidence: f.evidence, hostCount: Number(f.hosts), firstSeen: f.first_seen, rationale: rule?.meta.rationale ?? null, remediation: rule?.meta.remediation ?? null };
    }),
    crossFindings,
    advisories: await serverAdvisoryViews(tx, scope, id),
    overrides: await overrideViews(tx, overrides, now),
    history: history.map(eventView),
  };
}

/** Rules whose findings are about several servers of one client together (the lethal trifecta). */
const CROSS_RULES = allRules.filter((r) => r.kind === 'scan' && r.attach === 'report').map((r) => r.meta.id);

/**
 * The cross-server findings this server takes part in (issue 14): ingest stores each once, on
 * the first server it names, so they are looked up here by the hosts and clients this server
 * runs in and by its quoted name in the evidence. One entry per client and evidence, with the
 * servers that form it and how many hosts show it.
 */
async function crossServerFindings(tx: Tx, scope: OrgScope, name: string, instances: ReadonlyArray<{ hostId: string; client: string }>) {
  const org = scope.orgId;
  const hostIds = [...new Set(instances.map((i) => i.hostId))].slice(0, 500);
  if (CROSS_RULES.length === 0 || hostIds.length === 0) return [];
  const places = new Set(instances.map((i) => `${i.hostId}|${i.client}`));
  const rows = await tx
    .selectFrom('findings as f')
    .innerJoin('server_instances as i', 'i.id', 'f.instance_id')
    .select(['f.rule_id', 'f.severity', 'f.title', 'f.message', 'f.evidence', 'f.host_id', 'i.client'])
    .where('f.org_id', '=', org)
    .where('i.org_id', '=', org)
    .where('f.rule_id', 'in', CROSS_RULES)
    .where('f.host_id', 'in', hostIds)
    .limit(2000)
    .execute();
  const quoted = (evidence: string) => new Set([...evidence.matchAll(/"([^"]{1,200})"/g)].map((m) => m[1]!));
  const mine = rows.filter((r) => places.has(`${r.host_id}|${r.client}`) && quoted(r.evidence).has(name));
  if (mine.length === 0) return [];
  // the servers configured beside it in those clients, to name the ones the evidence quotes
  const neighbours = await tx
    .selectFrom('server_instances as i')
    .innerJoin('servers as s', 's.id', 'i.server_id')
    .select(['i.host_id', 'i.client', 's.id', 's.name'])
    .where('i.org_id', '=', org)
    .where('s.org_id', '=', org)
    .where('i.host_id', 'in', [...new Set(mine.map((r) => r.host_id))])
    .limit(5000)
    .execute();
  const groups = new Map<string, { ruleId: string; severity: Severity; title: string; message: string; evidence: string; client: string; hosts: Set<string>; servers: Map<string, string> }>();
  for (const r of mine) {
    const k = `${r.rule_id}|${r.client}|${r.evidence}`;
    const g = groups.get(k) ?? { ruleId: r.rule_id, severity: r.severity as Severity, title: r.title, message: r.message, evidence: r.evidence, client: r.client, hosts: new Set<string>(), servers: new Map<string, string>() };
    g.hosts.add(r.host_id);
    const names = quoted(r.evidence);
    for (const n of neighbours) if (n.host_id === r.host_id && n.client === r.client && names.has(n.name)) g.servers.set(n.name, n.id);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => {
    const rule = findRule(g.ruleId);
    return {
      ruleId: g.ruleId,
      severity: g.severity,
      title: g.title,
      message: g.message,
      evidence: g.evidence,
      client: g.client,
      hostCount: g.hosts.size,
      servers: [...g.servers].map(([serverName, serverId]) => ({ id: serverId, name: serverName })).sort((a, b) => a.name.localeCompare(b.name)),
      rationale: rule?.meta.rationale ?? null,
      remediation: rule?.meta.remediation ?? null,
    };
  });
}

export interface HostListQuery extends Page {
  q?: string;
  status?: 'reporting' | 'silent';
  sort?: 'lastSeen' | 'hostname' | 'servers' | 'score';
  order?: 'asc' | 'desc';
}

const HOST_SORT = { lastSeen: 'last_seen', hostname: 'hostname', servers: 'server_count', score: 'max_score' } as const;

export function silentSince(now: Date): string {
  return new Date(now.getTime() - SILENT_AFTER_HOURS * 3_600_000).toISOString();
}

function hostSummary(h: { id: string; hostname: string; os_user: string; os: string; agent_version: string; first_seen: string; last_seen: string; server_count: number; max_score: number; max_level: string }, now: Date) {
  return { id: h.id, hostname: h.hostname, osUser: h.os_user, os: h.os, agentVersion: h.agent_version, firstSeen: h.first_seen, lastSeen: h.last_seen, silent: h.last_seen < silentSince(now), serverCount: h.server_count, maxScore: h.max_score, maxLevel: h.max_level };
}

export async function listHosts(tx: Tx, scope: OrgScope, q: HostListQuery, now = new Date()) {
  let base = tx.selectFrom('hosts').where('org_id', '=', scope.orgId);
  if (q.q) base = base.where(contains('hosts.search', q.q.slice(0, 200)));
  if (q.status === 'silent') base = base.where('last_seen', '<', silentSince(now));
  if (q.status === 'reporting') base = base.where('last_seen', '>=', silentSince(now));
  const sort = q.sort ?? 'lastSeen';
  const order = q.order ?? (sort === 'hostname' ? 'asc' : 'desc');
  const rows = await base.selectAll().orderBy(HOST_SORT[sort], order).orderBy('id', order).limit(q.limit).offset(q.offset).execute();
  const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { items: rows.map((h) => hostSummary(h, now)), total: Number(total.n) };
}

export async function getHost(tx: Tx, scope: OrgScope, id: string, now = new Date()) {
  const org = scope.orgId;
  const h = await tx.selectFrom('hosts').selectAll().where('org_id', '=', org).where('id', '=', id).executeTakeFirst();
  if (!h) return null;
  const instances = await tx
    .selectFrom('server_instances as i')
    .innerJoin('servers as s', 's.id', 'i.server_id')
    .select(['i.id', 'i.server_id as serverId', 's.name', 'i.client', 'i.config_path as configPath', 'i.project_path as projectPath', 'i.scope', 'i.score', 'i.level'])
    .where('i.org_id', '=', org)
    .where('s.org_id', '=', org)
    .where('i.host_id', '=', id)
    .orderBy('i.score', 'desc')
    .orderBy('s.name')
    .limit(5000)
    .execute();
  const fps = await tx.selectFrom('servers').select(['id', 'fingerprint']).where('org_id', '=', org).where('id', 'in', [...new Set(instances.map((i) => i.serverId)), '']).execute();
  const badges = await overrideBadges(tx, scope, fps, now);
  const history = await tx.selectFrom('events').selectAll().where('org_id', '=', org).where('host_id', '=', id).orderBy('created_at', 'desc').orderBy('id').limit(200).execute();
  const clients = (JSON.parse(h.clients) as Array<{ id: string; name: string; configPath: string; serverCount: number; error?: string }>).map((c) => ({ id: c.id, name: c.name, configPath: c.configPath, serverCount: c.serverCount, error: c.error ?? null }));
  return {
    ...hostSummary(h, now),
    clients,
    instances: instances.map((i) => ({ ...i, effectiveLevel: badges.get(i.serverId)?.status === 'active' ? 'none' : i.level })),
    history: history.map(eventView),
  };
}

export interface FindingListQuery extends Page {
  severity?: Severity[];
  ruleId?: string;
  server?: string;
  host?: string;
}

export async function listFindings(tx: Tx, scope: OrgScope, q: FindingListQuery) {
  const org = scope.orgId;
  let base = tx.selectFrom('findings as f').innerJoin('servers as s', 's.id', 'f.server_id').where('f.org_id', '=', org).where('s.org_id', '=', org);
  if (q.severity?.length) base = base.where('f.severity', 'in', q.severity);
  if (q.ruleId) base = base.where('f.rule_id', '=', q.ruleId);
  if (q.server) base = base.where('f.server_id', '=', q.server);
  if (q.host) base = base.where('f.host_id', '=', q.host);
  const grouped = base
    .select((eb) => ['f.server_id', 's.name', 'f.rule_id', 'f.severity', 'f.severity_rank', 'f.title', 'f.message', 'f.evidence', eb.fn.count<number>('f.host_id').distinct().as('hosts'), eb.fn.min('f.first_seen').as('first_seen')])
    .groupBy(['f.server_id', 's.name', 'f.rule_id', 'f.severity', 'f.severity_rank', 'f.title', 'f.message', 'f.evidence']);
  const rows = await grouped.orderBy('f.severity_rank', 'desc').orderBy('s.name').orderBy('f.rule_id').orderBy('f.evidence').limit(q.limit).offset(q.offset).execute();
  const total = await tx.selectFrom(grouped.as('g')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return {
    items: rows.map((r) => ({ serverId: r.server_id, serverName: r.name, ruleId: r.rule_id, severity: r.severity, title: r.title, message: r.message, evidence: r.evidence, hostCount: Number(r.hosts), firstSeen: r.first_seen })),
    total: Number(total.n),
  };
}

export const ALERT_TYPES = ['server_added', 'server_removed', 'config_changed', 'tool_changed', 'level_raised', 'finding_added', 'override_voided', 'advisory_matched', 'gateway_quarantine'] as const;

export interface AlertListQuery extends Page {
  status?: string[];
  severity?: Severity[];
  type?: string[];
  server?: string;
  host?: string;
  /** a user id, or 'none' for unassigned alerts */
  assignee?: string;
  /** severity (worst first, then newest: the triage order) or time (newest first) */
  sort?: 'severity' | 'time';
}

/** The dashboard's view of alerts: titles that say what happened and where, people by email. */
export async function alertViews(tx: Tx, rows: AlertsTable[]) {
  const org = rows[0]?.org_id ?? '';
  const users = await usersById(tx, rows.flatMap((r) => [r.acknowledged_by, r.resolved_by, r.assigned_to ?? null]));
  const who = (id: string | null | undefined) => (id ? (users.get(id) ?? { id, email: '' }) : null);
  const ids = (f: (r: AlertsTable) => string | null) => [...new Set(rows.map(f).filter((x): x is string => Boolean(x)))];
  const serverIds = ids((r) => r.server_id);
  const hostIds = ids((r) => r.host_id);
  const eventIds = ids((r) => r.event_id);
  const servers = new Map<string, string>();
  const hosts = new Map<string, string>();
  const details = new Map<string, Record<string, unknown>>();
  const clients = new Map<string, string>();
  const top = new Map<string, { rank: number; title: string }>();
  if (serverIds.length) for (const r of await tx.selectFrom('servers').select(['id', 'name']).where('org_id', '=', org).where('id', 'in', serverIds).execute()) servers.set(r.id, r.name);
  if (hostIds.length) for (const r of await tx.selectFrom('hosts').select(['id', 'hostname']).where('org_id', '=', org).where('id', 'in', hostIds).execute()) hosts.set(r.id, r.hostname);
  if (eventIds.length) {
    for (const r of await tx.selectFrom('events').select(['id', 'details']).where('org_id', '=', org).where('id', 'in', eventIds).execute()) {
      try {
        details.set(r.id, JSON.parse(r.details) as Record<string, unknown>);
      } catch {
        details.set(r.id, {});
      }
    }
  }
  if (serverIds.length && hostIds.length) {
    const inst = await tx.selectFrom('server_instances').select(['server_id', 'host_id', 'client']).where('org_id', '=', org).where('server_id', 'in', serverIds).where('host_id', 'in', hostIds).orderBy('client').limit(5000).execute();
    for (const i of inst) if (!clients.has(`${i.server_id}|${i.host_id}`)) clients.set(`${i.server_id}|${i.host_id}`, i.client);
    const worst = await tx.selectFrom('findings').select(['server_id', 'host_id', 'title', 'severity_rank']).where('org_id', '=', org).where('server_id', 'in', serverIds).where('host_id', 'in', hostIds).where('severity_rank', '>=', 2).limit(5000).execute();
    for (const f of worst) {
      const k = `${f.server_id}|${f.host_id}`;
      const cur = top.get(k);
      if (!cur || f.severity_rank > cur.rank || (f.severity_rank === cur.rank && f.title < cur.title)) top.set(k, { rank: f.severity_rank, title: f.title });
    }
  }
  return rows.map((a) => {
    const d = details.get(a.event_id) ?? {};
    const pair = `${a.server_id}|${a.host_id}`;
    const client = typeof d.client === 'string' ? d.client : (clients.get(pair) ?? null);
    return {
      id: a.id,
      type: a.type,
      severity: a.severity as Severity,
      status: a.status,
      title: alertTitle({ type: a.type, severity: a.severity, serverName: a.server_id ? (servers.get(a.server_id) ?? null) : null, hostname: a.host_id ? (hosts.get(a.host_id) ?? null) : null, client, details: d, topFinding: top.get(pair)?.title ?? null, fallback: a.title }),
      message: a.message,
      serverId: a.server_id,
      serverName: a.server_id ? (servers.get(a.server_id) ?? null) : null,
      hostId: a.host_id,
      hostname: a.host_id ? (hosts.get(a.host_id) ?? null) : null,
      client,
      eventId: a.event_id,
      createdAt: a.created_at,
      acknowledgedAt: a.acknowledged_at,
      acknowledgedBy: who(a.acknowledged_by),
      resolvedAt: a.resolved_at,
      resolvedBy: who(a.resolved_by),
      resolvedReason: a.resolved_reason ?? null,
      assignedTo: who(a.assigned_to),
      note: a.note,
    };
  });
}
export type AlertView = Awaited<ReturnType<typeof alertViews>>[number];

export async function listAlerts(tx: Tx, scope: OrgScope, q: AlertListQuery) {
  let base = tx.selectFrom('alerts').where('org_id', '=', scope.orgId);
  if (q.status?.length) base = base.where('status', 'in', q.status as AlertsTable['status'][]);
  if (q.severity?.length) base = base.where('severity', 'in', q.severity);
  if (q.type?.length) base = base.where('type', 'in', q.type);
  if (q.server) base = base.where('server_id', '=', q.server);
  if (q.host) base = base.where('host_id', '=', q.host);
  if (q.assignee === 'none') base = base.where('assigned_to', 'is', null);
  else if (q.assignee) base = base.where('assigned_to', '=', q.assignee);
  let ordered = base.selectAll();
  if ((q.sort ?? 'severity') === 'severity') ordered = ordered.orderBy('severity_rank', 'desc');
  const rows = await ordered.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute();
  const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { items: await alertViews(tx, rows), total: Number(total.n) };
}

const zeroLevels = (): Record<Level, number> => ({ critical: 0, high: 0, medium: 0, low: 0, none: 0 });

export async function overview(tx: Tx, scope: OrgScope, now = new Date()) {
  const org = scope.orgId;
  const byLevelRows = await tx.selectFrom('servers').select((eb) => ['level', eb.fn.countAll<number>().as('n')]).where('org_id', '=', org).where('instance_count', '>', 0).groupBy('level').execute();
  const byLevel = zeroLevels();
  for (const r of byLevelRows) if (r.level in byLevel) byLevel[r.level as Level] = Number(r.n);
  const total = Object.values(byLevel).reduce((a, b) => a + b, 0);
  // Effective levels: servers under an active override count as none.
  const overridden = await tx
    .selectFrom('overrides')
    .innerJoin('servers', (j) => j.onRef('servers.id', '=', 'overrides.server_id').onRef('servers.fingerprint', '=', 'overrides.fingerprint'))
    .select(['servers.level'])
    .distinct()
    .select('servers.id')
    .where('overrides.org_id', '=', org)
    .where('servers.org_id', '=', org)
    .where('overrides.status', '=', 'active')
    .where('overrides.expires_at', '>', now.toISOString())
    .where('servers.instance_count', '>', 0)
    .execute();
  const byEffectiveLevel = { ...byLevel };
  for (const o of overridden) {
    byEffectiveLevel[o.level as Level] -= 1;
    byEffectiveLevel.none += 1;
  }
  const since = new Date(now.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
  const snaps = await tx.selectFrom('daily_snapshots').selectAll().where('org_id', '=', org).where('day', '>=', since).orderBy('day').execute();
  const top = await listServers(tx, scope, { limit: 10, offset: 0, sort: 'score', order: 'desc' }, now);
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000).toISOString();
  const fresh = await tx.selectFrom('servers').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).where('instance_count', '>', 0).where('first_seen', '>=', weekAgo).executeTakeFirstOrThrow();
  const hostsTotal = await tx.selectFrom('hosts').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).executeTakeFirstOrThrow();
  const silent = await tx.selectFrom('hosts').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org).where('last_seen', '<', silentSince(now)).executeTakeFirstOrThrow();
  const alertRows = await tx.selectFrom('alerts').select((eb) => ['status', 'severity', eb.fn.countAll<number>().as('n')]).where('org_id', '=', org).where('status', '!=', 'resolved').groupBy(['status', 'severity']).execute();
  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  let open = 0;
  let acknowledged = 0;
  for (const a of alertRows) {
    const n = Number(a.n);
    if (a.status === 'open') open += n;
    else acknowledged += n;
    if (a.severity in bySeverity) bySeverity[a.severity as Severity] += n;
  }
  // what moved this week: new servers, servers whose config, tools or level changed; hosts gone quiet
  const newServers = await tx.selectFrom('servers').select(['id', 'name', 'level', 'score', 'first_seen']).where('org_id', '=', org).where('instance_count', '>', 0).where('first_seen', '>=', weekAgo).orderBy('score', 'desc').orderBy('first_seen', 'desc').limit(10).execute();
  const changes = await tx
    .selectFrom('events')
    .select((eb) => ['server_id', 'type', eb.fn.max('created_at').as('at')])
    .where('org_id', '=', org)
    .where('created_at', '>=', weekAgo)
    .where('type', 'in', ['config_changed', 'tool_changed', 'level_raised'])
    .where('server_id', 'is not', null)
    .groupBy(['server_id', 'type'])
    .limit(500)
    .execute();
  const changedIds = [...new Set(changes.map((c) => c.server_id!))];
  const changedRows = changedIds.length ? await tx.selectFrom('servers').select(['id', 'name', 'level', 'score']).where('org_id', '=', org).where('id', 'in', changedIds).where('instance_count', '>', 0).execute() : [];
  const changedServers = changedRows
    .map((r) => {
      const mine = changes.filter((c) => c.server_id === r.id);
      return { id: r.id, name: r.name, level: r.level as Level, score: r.score, changes: [...new Set(mine.map((c) => c.type))].sort(), at: mine.map((c) => String(c.at)).sort().at(-1) ?? '' };
    })
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
    .slice(0, 10);
  const silentHosts = await tx.selectFrom('hosts').select(['id', 'hostname', 'os_user', 'last_seen', 'max_level']).where('org_id', '=', org).where('last_seen', '<', silentSince(now)).orderBy('last_seen').limit(10).execute();
  return {
    newServers: newServers.map((r) => ({ id: r.id, name: r.name, level: r.level as Level, score: r.score, firstSeen: r.first_seen })),
    changedServers,
    silentHosts: silentHosts.map((h) => ({ id: h.id, hostname: h.hostname, osUser: h.os_user, lastSeen: h.last_seen, maxLevel: h.max_level as Level })),
    servers: { total, byLevel, byEffectiveLevel },
    trend: snaps.map((s) => ({ day: s.day, byLevel: { critical: s.critical, high: s.high, medium: s.medium, low: s.low, none: s.none } })),
    topRisky: top.items,
    newThisWeek: Number(fresh.n),
    hosts: { total: Number(hostsTotal.n), reporting: Number(hostsTotal.n) - Number(silent.n), silent: Number(silent.n) },
    alerts: { open, acknowledged, bySeverity },
  };
}
