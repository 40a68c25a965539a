// Stores one agent report: the host, its server instances, the server definitions they
// point to, tool definitions, findings (re-scored here, never trusted from the agent),
// change events, alerts and webhook deliveries. All in ONE org-scoped transaction.
// An unchanged re-report (same normalised hash as the host's last one) only moves
// last-seen times.
import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { levelForScore, levelRank, redactReport, severityRank, type Level, type Rule, type ScanReport, type ScoredServer } from '@palisade/core';
import { pgBatch, pgLiteral, withOrg, type Db, type OrgScope, type Tx } from '../db/index.js';
import { chunk, chunkRows } from './batch.js';
import { diffHost, type EventDraft, type InstanceState, type ToolChange } from './diff.js';
import { instanceKey, reportHash, serverDefinition, serverFingerprint } from './fingerprint.js';
import { rescoreReport, type KnownTools } from './rescore.js';
import { scrubServer } from './sanitize.js';
import { alertRows, enqueueDeliveries, eventRows, storeEvents, type StoredEvent } from './alerts.js';
import type { AlertsTable } from '../db/inventory-schema.js';
import { voidOverrides } from './overrides.js';
import { advisoryDbFor, recordIngestMatches, reportPackageKeys } from './advisory-db.js';
import { parseReportText } from './report-limits.js';
import { timeOrderedId } from './ids.js';
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
  // the digest of the blanked text, fed in pieces (no copy of the whole body)
  const key = createHash('sha256').update(text.slice(0, at)).update('"scannedAt":""').update(text.slice(at + m[0].length)).digest('hex');
  return { key, scannedAt: m[1]! };
}

/**
 * The fast path for a re-report: when the body is one this org already accepted as some
 * host's last report, only last-seen times move. Returns null when it is not.
 */
export async function ingestUnchangedBody(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now = new Date()): Promise<IngestResult | null> {
  return withRetry(() => withOrg(store, scope, (tx) => touchByRawKey(tx, store.dialect, scope, raw, now.toISOString())));
}

/**
 * A raw report body, as the route receives it: a body this org already accepted as a host's
 * last report only moves last-seen times (no parsing); any other is parsed and validated
 * (ReportRejected when it is not a valid report) and stored. One transaction either way.
 */
export async function ingestReportText(store: Db, scope: OrgScope, text: string, opts: Omit<IngestOptions, 'rawKey'> = {}): Promise<IngestResult> {
  const now = (opts.now ?? new Date()).toISOString();
  const raw = rawReportKey(text);
  // PostgreSQL: the fast path first, in one round trip of its own
  const oneTrip = raw && store.dialect === 'postgres' ? await withRetry(() => touchByRawKeyOneTrip(store, scope, raw, now)) : undefined;
  if (oneTrip) return oneTrip;
  let parsed: { report: ScanReport; hash: string } | undefined;
  const result = await withRetry(() =>
    withOrg(store, scope, async (tx) => {
      if (raw && oneTrip === undefined) {
        const fast = await touchByRawKey(tx, store.dialect, scope, raw, now);
        if (fast) return fast;
      }
      if (!parsed) {
        const report = parseReportText(text);
        parsed = { report, hash: reportHash(report) };
      }
      return ingestParsed(tx, store, scope, parsed.report, parsed.hash, now, { ...opts, rawKey: raw?.key ?? null });
    }),
  );
  if (result.alerts > 0) opts.onAlerts?.(scope, result.alerts);
  return result;
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
  const result = await withRetry(() => withOrg(store, scope, (tx) => ingestParsed(tx, store, scope, report, hash, now, opts)));
  if (result.alerts > 0) opts.onAlerts?.(scope, result.alerts);
  return result;
}

async function ingestParsed(tx: Tx, store: Db, scope: OrgScope, accepted: ScanReport, hash: string, now: string, opts: IngestOptions): Promise<IngestResult> {
  // Second wall: core's redactReport, the function the agent uses, on every report accepted,
  // so a report from an old or hostile agent cannot put a secret in the database.
  const report = redactReport(accepted);
  const dialect = store.dialect;
  if (dialect === 'postgres') {
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
  if (host && host.last_report_hash === hash) return touchUnchanged(tx, dialect, scope, host.id, now, report.scannedAt, opts.rawKey ?? null);
  return ingestChanged(tx, store, scope, report, hash, host?.id ?? null, now, opts);
}

// Server rows are shared by every host that runs them: their last-seen time moves at most
// once a minute, so a fleet of re-reports does not queue on the popular rows.
const SERVER_SEEN_GRANULARITY_MS = 60_000;

const staleBefore = (now: string) => new Date(Date.parse(now) - SERVER_SEEN_GRANULARITY_MS).toISOString();

const unchangedResult = (hostId: string, servers: number): IngestResult => ({ reportId: null, hostId, unchanged: true, servers, events: 0, alerts: 0 });

/** The host whose last accepted body has this key, touched as in touchUnchanged; null when there is none. */
async function touchByRawKey(tx: Tx, dialect: Db['dialect'], scope: OrgScope, raw: { key: string; scannedAt: string }, now: string): Promise<IngestResult | null> {
  const org = scope.orgId;
  if (dialect === 'postgres') {
    const hostId = sql<string>`(select id from hosts where org_id = ${org} and last_raw_hash = ${raw.key} limit 1)`;
    return touchPostgres(tx, org, hostId, now, { last_seen: now, last_scanned_at: raw.scannedAt });
  }
  const host = await tx
    .updateTable('hosts')
    .set({ last_seen: now, last_scanned_at: raw.scannedAt })
    .where('org_id', '=', org)
    .where('id', '=', (eb) => eb.selectFrom('hosts').select('id').where('org_id', '=', org).where('last_raw_hash', '=', raw.key).limit(1))
    .returning(['id', 'server_count'])
    .executeTakeFirst();
  if (!host) return null;
  await touchInstancesSqlite(tx, org, host.id, now);
  return unchangedResult(host.id, host.server_count);
}

/**
 * PostgreSQL: touchByRawKey as one implicit transaction in one round trip (see pgBatch), so
 * the host's row is locked only while the server runs the statements. Undefined when the
 * values cannot be inlined or the database has no pool of its own (then the caller uses the
 * transaction), null when no host's last body has this key.
 */
async function touchByRawKeyOneTrip(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now: string): Promise<IngestResult | null | undefined> {
  const org = pgLiteral(scope.orgId, 'id');
  const key = pgLiteral(raw.key, 'hex');
  const scannedAt = pgLiteral(raw.scannedAt, 'time');
  const at = pgLiteral(now, 'time');
  const stale = pgLiteral(staleBefore(now), 'time');
  if (!org || !key || !scannedAt || !at || !stale) return undefined;
  const hostId = `(select id from hosts where org_id = ${org} and last_raw_hash = ${key} limit 1)`;
  const rows = await pgBatch(store.db, [
    // Nothing but last-seen times move here, so the commit does not wait for its WAL flush
    // (synchronous_commit off, for this transaction only): a crash in the next fraction of a
    // second can lose the move, never half of it, and the host's next report makes it again.
    // (The same trade SQLite makes for every commit with synchronous=NORMAL in WAL mode.)
    // Concurrent re-reports of one host otherwise queue on its row for one flush each.
    `select set_config('app.org_id', ${org}, true), set_config('synchronous_commit', 'off', true)`,
    `with h as (update hosts set last_seen = ${at}, last_scanned_at = ${scannedAt} where org_id = ${org} and id = ${hostId} returning id, server_count),
       i as (update server_instances set last_seen = ${at} where org_id = ${org} and host_id in (select id from h) returning 1)
     select h.id, h.server_count from h`,
    // the host's server rows whose last-seen time is a minute old, locked in id order
    `update servers set last_seen = ${at} where org_id = ${org} and last_seen < ${at} and id in (
       select id from servers where org_id = ${org} and last_seen < ${stale}
         and id in (select server_id from server_instances where org_id = ${org} and host_id = ${hostId})
       order by id for no key update)`,
  ]);
  if (!rows) return undefined;
  const host = rows[1]![0] as { id: string; server_count: number } | undefined;
  return host ? unchangedResult(host.id, Number(host.server_count)) : null;
}

/** A report with the same content as the host's last one: only last-seen times move (and the raw-body key). */
async function touchUnchanged(tx: Tx, dialect: Db['dialect'], scope: OrgScope, hostId: string, now: string, scannedAt: string, rawKey: string | null): Promise<IngestResult> {
  const org = scope.orgId;
  const set: Record<'last_seen' | 'last_scanned_at' | 'last_raw_hash', string> | Record<'last_seen' | 'last_scanned_at', string> = rawKey ? { last_seen: now, last_scanned_at: scannedAt, last_raw_hash: rawKey } : { last_seen: now, last_scanned_at: scannedAt };
  if (dialect === 'postgres') {
    const touched = await touchPostgres(tx, org, sql<string>`${hostId}`, now, set);
    if (!touched) throw new Error(`host ${hostId} vanished during ingest`);
    return touched;
  }
  const host = await tx.updateTable('hosts').set(set).where('org_id', '=', org).where('id', '=', hostId).returning('server_count').executeTakeFirst();
  await touchInstancesSqlite(tx, org, hostId, now);
  return unchangedResult(hostId, host?.server_count ?? 0);
}

async function touchInstancesSqlite(tx: Tx, org: string, hostId: string, now: string): Promise<void> {
  await tx.updateTable('server_instances').set({ last_seen: now }).where('org_id', '=', org).where('host_id', '=', hostId).execute();
  // one writer at a time on SQLite: no lock order to keep
  await tx
    .updateTable('servers')
    .set({ last_seen: now })
    .where('org_id', '=', org)
    .where('last_seen', '<', staleBefore(now))
    .where('id', 'in', (eb) => eb.selectFrom('server_instances').select('server_id').where('org_id', '=', org).where('host_id', '=', hostId))
    .execute();
}

/**
 * PostgreSQL: the host row (chosen by `hostId`, an id or a subquery) and its instances move
 * their last-seen times in one statement, which also tells whether any of the host's server
 * rows is due a move; those are then locked in id order and moved (no deadlock between hosts).
 */
async function touchPostgres(tx: Tx, org: string, hostId: RawBuilder<string>, now: string, set: Record<string, string>): Promise<IngestResult | null> {
  const assignments = sql.join(Object.entries(set).map(([column, value]) => sql`${sql.ref(column)} = ${value}`));
  const stale = staleBefore(now);
  const r = await sql<{ id: string; server_count: number; stale: number | string }>`
    with h as (
      update hosts set ${assignments} where org_id = ${org} and id = ${hostId} returning id, server_count
    ), i as (
      update server_instances set last_seen = ${now} where org_id = ${org} and host_id in (select id from h) returning server_id
    )
    select h.id, h.server_count, (select count(*) from servers s where s.org_id = ${org} and s.last_seen < ${stale} and s.id in (select server_id from i)) as stale from h`.execute(tx);
  const host = r.rows[0];
  if (!host) return null;
  if (Number(host.stale) > 0) {
    await sql`
      update servers set last_seen = ${now} where org_id = ${org} and last_seen < ${now} and id in (
        select id from servers where org_id = ${org} and last_seen < ${stale}
          and id in (select server_id from server_instances where org_id = ${org} and host_id = ${host.id})
        order by id for no key update)`.execute(tx);
  }
  return unchangedResult(host.id, Number(host.server_count));
}

function searchText(...parts: Array<string | null | undefined>): string {
  return parts
    .filter((p): p is string => Boolean(p))
    .join(' ')
    .toLowerCase()
    .slice(0, 2048);
}

interface KnownToolRow {
  id: string;
  name: string;
  hash: string;
  firstSeen: string;
  /** as read, or as moved by an ingest (a newer time in the database only makes a move a no-op) */
  lastSeen: string;
}

/** The tool rows of one server definition, looked up by name and definition hash. */
class ServerTools {
  /** tool name -> its first definition (earliest first_seen, then id): the rug-pull baseline */
  readonly first = new Map<string, { hash: string; firstSeen: string }>();
  private readonly byName = new Map<string, Map<string, KnownToolRow>>();

  constructor(readonly count: number, rows: readonly KnownToolRow[]) {
    const firstId = new Map<string, string>();
    for (const r of rows) {
      let hashes = this.byName.get(r.name);
      if (!hashes) this.byName.set(r.name, (hashes = new Map()));
      hashes.set(r.hash, r);
      // times and ids have fixed formats, so text order is their order
      const cur = this.first.get(r.name);
      if (!cur || r.firstSeen < cur.firstSeen || (r.firstSeen === cur.firstSeen && r.id < firstId.get(r.name)!)) {
        this.first.set(r.name, { hash: r.hash, firstSeen: r.firstSeen });
        firstId.set(r.name, r.id);
      }
    }
  }

  row(name: string, hash: string): KnownToolRow | undefined {
    return this.byName.get(name)?.get(hash);
  }
}

/** Servers whose tool rows are remembered, per database (least recently used go first). */
export const TOOL_MEMO_SERVERS = 2000;

/**
 * Tool rows per server row, as last read. A server's tool rows are only ever added (never
 * changed, except last_seen, nor deleted but with the server), so the rows are still all of
 * them while the database holds the same number: each use is checked against a count read in
 * the ingest's own transaction, and a different count reads them again.
 */
class ToolMemo {
  private readonly entries = new Map<string, ServerTools>();

  get(org: string, serverId: string, count: number): ServerTools | undefined {
    const key = `${org}\u0000${serverId}`;
    const tools = this.entries.get(key);
    if (!tools || tools.count !== count) return undefined;
    this.entries.delete(key);
    this.entries.set(key, tools);
    return tools;
  }

  set(org: string, serverId: string, tools: ServerTools): void {
    const key = `${org}\u0000${serverId}`;
    this.entries.delete(key);
    this.entries.set(key, tools);
    if (this.entries.size > TOOL_MEMO_SERVERS) this.entries.delete(this.entries.keys().next().value!);
  }
}

const toolMemos = new WeakMap<Db['db'], ToolMemo>();

function toolMemoFor(store: Db): ToolMemo {
  let memo = toolMemos.get(store.db);
  if (!memo) toolMemos.set(store.db, (memo = new ToolMemo()));
  return memo;
}

async function ingestChanged(tx: Tx, store: Db, scope: OrgScope, report: ScanReport, hash: string, existingHostId: string | null, now: string, opts: IngestOptions): Promise<IngestResult> {
  const org = scope.orgId;
  const dialect = store.dialect;
  const stale = staleBefore(now);
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

  // 2. Server definitions already known, and their tool definitions: the first-seen hash of
  // each tool name is the rug-pull baseline; the rows say which definitions are new. A
  // server's tool rows are remembered between reports and read again only when the number
  // of its rows in the database differs (rows are only ever added).
  const serverIdByFp = new Map<string, string>();
  const serverLastSeen = new Map<string, string>();
  const toolCount = new Map<string, number>();
  for (const part of chunk(fingerprints)) {
    const rows = await tx
      .selectFrom('servers as s')
      .select((eb) => ['s.id', 's.fingerprint', 's.last_seen', eb.selectFrom('tools as t').select((q) => q.fn.countAll<number>().as('n')).where('t.org_id', '=', org).whereRef('t.server_id', '=', 's.id').as('tools')])
      .where('s.org_id', '=', org)
      .where('s.fingerprint', 'in', part)
      .execute();
    for (const r of rows) {
      serverIdByFp.set(r.fingerprint, r.id);
      serverLastSeen.set(r.id, r.last_seen);
      toolCount.set(r.id, Number(r.tools ?? 0));
    }
  }
  const fpById = new Map([...serverIdByFp].map(([fp, id]) => [id, fp]));
  const memo = toolMemoFor(store);
  const toolsOf = new Map<string, ServerTools>();
  const toRead: string[] = [];
  for (const id of serverIdByFp.values()) {
    const hit = memo.get(org, id, toolCount.get(id)!);
    if (hit) toolsOf.set(id, hit);
    else toRead.push(id);
  }
  for (const part of chunk(toRead)) {
    const rows = await tx.selectFrom('tools').select(['id', 'server_id', 'name', 'definition_hash', 'first_seen', 'last_seen']).where('org_id', '=', org).where('server_id', 'in', part).execute();
    const byServer = new Map<string, KnownToolRow[]>(part.map((id) => [id, []]));
    for (const r of rows) byServer.get(r.server_id)?.push({ id: r.id, name: r.name, hash: r.definition_hash, firstSeen: r.first_seen, lastSeen: r.last_seen });
    for (const [id, list] of byServer) {
      const tools = new ServerTools(list.length, list);
      toolsOf.set(id, tools);
      memo.set(org, id, tools);
    }
  }
  const knownTools = new Map<string, ReadonlyMap<string, { hash: string; firstSeen: string }>>();
  for (const [id, tools] of toolsOf) knownTools.set(fpById.get(id)!, tools.first);

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
  const hostId = existingHostId ?? timeOrderedId();
  const hostSearch = searchText(report.host.hostname, report.host.user);
  if (!existingHostId) {
    await tx
      .insertInto('hosts')
      .values({ id: hostId, org_id: org, hostname: report.host.hostname, os_user: report.host.user, os: report.host.os, agent_version: report.agent.version, first_seen: now, last_seen: now, last_report_hash: null, last_raw_hash: null, last_scanned_at: null, clients: '[]', server_count: 0, max_score: 0, max_level: 'none', search: hostSearch })
      .execute();
  }

  // 5. The host's previous instances and their findings, for the diff.
  // (one statement: each instance with its findings, if any)
  const prevRows = existingHostId
    ? await tx
        .selectFrom('server_instances as i')
        .innerJoin('servers as s', 's.id', 'i.server_id')
        .leftJoin('findings as f', (j) => j.onRef('f.instance_id', '=', 'i.id').on('f.org_id', '=', org))
        .select(['i.id', 'i.instance_key', 'i.server_id', 'i.client', 'i.config_path', 'i.project_path', 'i.scope', 'i.cwd', 'i.score', 'i.level', 'i.first_seen', 's.fingerprint', 's.name'])
        .select(['f.instance_id', 'f.rule_id', 'f.severity', 'f.title', 'f.message', 'f.evidence', 'f.first_seen as finding_first_seen'])
        .where('i.org_id', '=', org)
        .where('i.host_id', '=', hostId)
        .execute()
    : [];
  const prevInstances: Array<Omit<(typeof prevRows)[number], 'instance_id' | 'rule_id' | 'severity' | 'title' | 'message' | 'evidence' | 'finding_first_seen'>> = [];
  const prevFindings: Array<{ instance_id: string; rule_id: string; severity: string; title: string; message: string; evidence: string; first_seen: string }> = [];
  const listed = new Set<string>();
  for (const { instance_id, rule_id, severity, title, message, evidence, finding_first_seen, ...instance } of prevRows) {
    if (!listed.has(instance.id)) {
      listed.add(instance.id);
      prevInstances.push(instance);
    }
    if (instance_id !== null && rule_id !== null && severity !== null && title !== null && message !== null && evidence !== null && finding_first_seen !== null) {
      prevFindings.push({ instance_id, rule_id, severity, title, message, evidence, first_seen: finding_first_seen });
    }
  }
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

  // 6. New server definitions. A concurrent report may insert the same one: the insert skips
  // it (and returns only the rows it made), and those are read back.
  const newDefs = prepared.filter((p, i, all) => !serverIdByFp.has(p.fingerprint) && all.findIndex((q) => q.fingerprint === p.fingerprint) === i);
  if (newDefs.length > 0) {
    const rows = newDefs.map((p) => {
      const def = serverDefinition(p.server);
      return {
        id: timeOrderedId(),
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
    for (const part of chunkRows(rows)) {
      const made = await tx.insertInto('servers').values(part).onConflict((oc) => oc.columns(['org_id', 'fingerprint']).doNothing()).returning(['id', 'fingerprint']).execute();
      for (const r of made) serverIdByFp.set(r.fingerprint, r.id);
    }
    const missing = newDefs.map((p) => p.fingerprint).filter((fp) => !serverIdByFp.has(fp));
    for (const part of chunk(missing)) {
      const got = await tx.selectFrom('servers').select(['id', 'fingerprint']).where('org_id', '=', org).where('fingerprint', 'in', part).execute();
      for (const r of got) serverIdByFp.set(r.fingerprint, r.id);
    }
  }

  // the report's advisory matches are seen now: a later re-match must not alert for them again
  await recordIngestMatches(tx, scope, prepared.map((p) => ({ serverId: serverIdByFp.get(p.fingerprint)!, package: p.server.package })), advisories, now);

  // 7. Tool definitions: new hashes are stored; a new hash for a known tool name is a rug pull.
  // Known definitions move their last-seen time at most once a minute.
  const toolChanges: ToolChange[] = [];
  const toolRows = [];
  const staleTools: string[] = [];
  const fresh = new Map<string, Set<string>>(); // serverId -> name \0 hash of the new definitions in this report
  for (const p of prepared) {
    const serverId = serverIdByFp.get(p.fingerprint)!;
    const known = toolsOf.get(serverId);
    for (const t of p.server.tools ?? []) {
      if (!t.definitionHash) continue;
      const row = known?.row(t.name, t.definitionHash);
      if (row) {
        if (row.lastSeen < stale) {
          staleTools.push(row.id);
          row.lastSeen = now; // (remembered: were this rolled back, the row would move a minute later)
        }
        continue;
      }
      let seen = fresh.get(serverId);
      if (!seen) fresh.set(serverId, (seen = new Set()));
      const k = `${t.name}\u0000${t.definitionHash}`;
      if (seen.has(k)) continue;
      seen.add(k);
      toolRows.push({ id: timeOrderedId(), org_id: org, server_id: serverId, name: t.name, definition_hash: t.definitionHash, description: t.description ?? null, input_schema_hash: t.inputSchemaHash ?? null, annotations: t.annotations ? JSON.stringify(t.annotations) : null, first_seen: now, last_seen: now });
      const first = known?.first.get(t.name);
      if (first && first.hash !== t.definitionHash) toolChanges.push({ fingerprint: p.fingerprint, serverName: p.server.name, tool: t.name, previousHash: first.hash, hash: t.definitionHash });
    }
  }
  for (const part of chunkRows(toolRows)) await tx.insertInto('tools').values(part).onConflict((oc) => oc.columns(['org_id', 'server_id', 'name', 'definition_hash']).doNothing()).execute();
  for (const ids of chunk(staleTools.sort())) await tx.updateTable('tools').set({ last_seen: now }).where('org_id', '=', org).where('id', 'in', ids).where('last_seen', '<', stale).execute();

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
      const id = timeOrderedId();
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
      rows.push({ id: timeOrderedId(), org_id: org, instance_id: instanceId, server_id: serverId, host_id: hostId, rule_id: f.ruleId, severity: f.severity, severity_rank: severityRank[f.severity], title: f.title, message: f.message, evidence: f.evidence, first_seen: firstSeenOf.get(k) ?? now });
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
  const events: StoredEvent[] = drafts.map((e) => ({ ...e, id: timeOrderedId(), hostId, serverId: serverIdForEvent(e) }));
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

  // 11. Aggregates of every server definition this report touched; the others it runs only
  // move their last-seen time, when it is a minute old.
  await refreshServerAggregates(tx, scope, [...affectedServers], now, dialect);
  const seenOnly = [...untouchedServers].filter((id) => !affectedServers.has(id) && (serverLastSeen.get(id) ?? '') < stale).sort();
  for (const part of chunk(seenOnly)) await tx.updateTable('servers').set({ last_seen: now }).where('org_id', '=', org).where('id', 'in', part).where('last_seen', '<', stale).execute();

  // 12. The host's own summary, the report record, events and alerts, then today's snapshot
  // (last: on PostgreSQL every report of the day updates that one row, and holds it to commit).
  let maxScore = 0;
  for (const p of prepared) maxScore = Math.max(maxScore, p.server.score);
  const hostSet = {
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
  };
  const reportId = timeOrderedId();
  const reportRow = { id: reportId, org_id: org, host_id: hostId, report_hash: hash, agent_key_id: opts.agentKeyId ?? null, agent_version: report.agent.version, scanned_at: report.scannedAt, received_at: now, server_count: prepared.length, event_count: events.length };
  let alerts: AlertsTable[];
  const eventRowList = eventRows(scope, events, reportId, now);
  const alertRowList = alertRows(scope, events, now);
  if (dialect === 'postgres' && chunkRows(eventRowList).length <= 1 && chunkRows(alertRowList).length <= 1) {
    // one statement: host, report, events and alerts written, the webhooks to notify read
    let q = tx.with('h', (db) => db.updateTable('hosts').set(hostSet).where('org_id', '=', org).where('id', '=', hostId)).with('r', (db) => db.insertInto('reports').values(reportRow));
    if (eventRowList.length > 0) q = q.with('e', (db) => db.insertInto('events').values(eventRowList)) as unknown as typeof q;
    if (alertRowList.length > 0) q = q.with('a', (db) => db.insertInto('alerts').values(alertRowList)) as unknown as typeof q;
    const hooks = await q.selectFrom('webhooks').select(['id', 'format', 'min_severity']).where('org_id', '=', org).where('disabled_at', 'is', null).execute();
    alerts = alertRowList;
    await enqueueDeliveries(tx, scope, alerts, now, hooks);
  } else {
    await tx.updateTable('hosts').set(hostSet).where('org_id', '=', org).where('id', '=', hostId).execute();
    await tx.insertInto('reports').values(reportRow).execute();
    alerts = await storeEvents(tx, scope, events, reportId, now);
  }
  const result = { reportId, hostId, unchanged: false, servers: prepared.length, events: events.length, alerts: alerts.length };
  await opts.afterWrite?.(tx, result);
  await writeDailySnapshot(tx, scope, now);
  return result;
}

/** Recompute the denormalised columns the server list sorts and filters on. */
export async function refreshServerAggregates(tx: Tx, scope: OrgScope, serverIds: readonly string[], now: string, dialect: Db['dialect']): Promise<void> {
  const org = scope.orgId;
  const sorted = [...new Set(serverIds)].sort(); // the same lock order in every transaction: no deadlock between them
  // the distinct clients of each server's instances, as a JSON array
  const clientList = dialect === 'postgres' ? sql<unknown>`json_agg(distinct client)` : sql<unknown>`json_group_array(distinct client)`;
  for (const part of chunk(sorted)) {
    if (part.length === 0) continue;
    if (dialect === 'postgres') {
      // Two ingests adding instances of one server at once would each count only their own
      // uncommitted rows and the last writer would win. Lock the rows first: the second waits,
      // and its counts (a fresh snapshot per statement) then include the first one's rows.
      // NO KEY UPDATE does not conflict with the key-share locks that instance inserts take.
      await tx.selectFrom('servers').select('id').where('org_id', '=', org).where('id', 'in', part).orderBy('id').forNoKeyUpdate().execute();
    }
    // Instances (count, hosts, max score, clients) and distinct findings, in one statement.
    const instances = tx
      .selectFrom('server_instances')
      .select((eb) => ['server_id', eb.fn.countAll<number>().as('instances'), eb.fn.count<number>('host_id').distinct().as('hosts'), eb.fn.max('score').as('score'), clientList.as('clients')])
      .where('org_id', '=', org)
      .where('server_id', 'in', part)
      .groupBy('server_id')
      .as('a');
    const stats = await tx
      .selectFrom('servers as s')
      .leftJoin(instances, 'a.server_id', 's.id')
      .select((eb) => [
        's.id',
        'a.instances',
        'a.hosts',
        'a.score',
        'a.clients',
        eb
          .selectFrom((q) => q.selectFrom('findings as f').select(['f.rule_id', 'f.evidence']).distinct().where('f.org_id', '=', org).whereRef('f.server_id', '=', 's.id').as('d'))
          .select((q) => q.fn.countAll<number>().as('n'))
          .as('findings'),
      ])
      .where('s.org_id', '=', org)
      .where('s.id', 'in', part)
      .execute();
    const byId = new Map(stats.map((s) => [s.id, s]));
    for (const id of part) {
      const s = byId.get(id);
      const instances = Number(s?.instances ?? 0);
      const clients = instances > 0 ? clientsOf(s?.clients) : [];
      const set: Record<string, unknown> = {
        instance_count: instances,
        host_count: Number(s?.hosts ?? 0),
        clients: clients.sort().join(','),
        finding_count: Number(s?.findings ?? 0),
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

/** A JSON array of client ids as either database returns it (PostgreSQL parses json itself). */
function clientsOf(value: unknown): string[] {
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(list) ? list.filter((c): c is string => typeof c === 'string') : [];
}

/** Today's counts of server definitions by level, for the overview's trend line: one statement. */
export async function writeDailySnapshot(tx: Tx, scope: OrgScope, now: string): Promise<void> {
  const org = scope.orgId;
  const day = now.slice(0, 10);
  const byLevel = (level: Level) => sql<number>`count(case when level = ${level} then 1 end)`;
  await tx
    .insertInto('daily_snapshots')
    .columns(['org_id', 'day', 'critical', 'high', 'medium', 'low', 'none', 'hosts'])
    .expression((eb) =>
      eb
        .selectFrom('servers')
        .select([
          sql<string>`cast(${org} as text)`.as('org_id'),
          sql<string>`cast(${day} as text)`.as('day'),
          byLevel('critical').as('critical'),
          byLevel('high').as('high'),
          byLevel('medium').as('medium'),
          byLevel('low').as('low'),
          byLevel('none').as('none'),
          eb.selectFrom('hosts').select((h) => h.fn.countAll<number>().as('n')).where('org_id', '=', org).as('hosts'),
        ])
        .where('org_id', '=', org)
        .where('instance_count', '>', 0),
    )
    .onConflict((oc) =>
      oc.columns(['org_id', 'day']).doUpdateSet((eb) => ({
        critical: eb.ref('excluded.critical'),
        high: eb.ref('excluded.high'),
        medium: eb.ref('excluded.medium'),
        low: eb.ref('excluded.low'),
        none: eb.ref('excluded.none'),
        hosts: eb.ref('excluded.hosts'),
      })),
    )
    .execute();
}
