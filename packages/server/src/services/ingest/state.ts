// Stage 3, diff against the last state: what the database already knows (definitions, their
// tool rows, the host's previous instances and findings) and, with no I/O, what differs:
// which tool definitions are new (a new hash for a known name is a rug pull), which instances
// are new, moved, re-scored or gone, which findings must be rewritten, which definitions'
// aggregates must be recounted. The write stage applies the plans.
import { severityRank, type Level } from '@palisade/core';
import type { Db, Tx } from '../../db/index.js';
import { chunk } from '../batch.js';
import type { InstanceState, ToolChange } from '../diff.js';
import { timeOrderedId } from '../ids.js';
import type { Prepared } from './normalise.js';

interface KnownToolRow {
  id: string;
  name: string;
  hash: string;
  firstSeen: string;
  /** as read, or as moved by an ingest (a newer time in the database only makes a move a no-op) */
  lastSeen: string;
}

/** The tool rows of one server definition, looked up by name and definition hash. */
export class ServerTools {
  /** tool name -> its first definition (earliest first_seen, then id): the rug-pull baseline */
  readonly first = new Map<string, { hash: string; firstSeen: string }>();
  private readonly byName = new Map<string, Map<string, KnownToolRow>>();

  constructor(
    readonly count: number,
    rows: readonly KnownToolRow[],
  ) {
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

/**
 * Forgets every remembered tool row of this database: after a rolled-back transaction that
 * stored several reports, a later report of the batch may have remembered rows an earlier one
 * inserted, which no longer exist (a single report only remembers rows read before its own writes).
 */
export function forgetToolRows(store: Db): void {
  toolMemos.delete(store.db);
}

function toolMemoFor(store: Db): ToolMemo {
  let memo = toolMemos.get(store.db);
  if (!memo) toolMemos.set(store.db, (memo = new ToolMemo()));
  return memo;
}

export interface KnownDefinitions {
  serverIdByFp: Map<string, string>;
  serverLastSeen: Map<string, string>;
  toolsOf: Map<string, ServerTools>;
  /** fingerprint -> tool name -> first definition, for the rug-pull rule */
  knownTools: Map<string, ReadonlyMap<string, { hash: string; firstSeen: string }>>;
}

/**
 * The server definitions of these fingerprints already stored, and their tool rows (from the
 * memo while the stored count matches).
 */
export async function readKnownDefinitions(tx: Tx, store: Db, org: string, fingerprints: readonly string[]): Promise<KnownDefinitions> {
  const serverIdByFp = new Map<string, string>();
  const serverLastSeen = new Map<string, string>();
  const toolCount = new Map<string, number>();
  for (const part of chunk([...new Set(fingerprints)])) {
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
  for (const part of chunk(toRead.sort())) {
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
  return { serverIdByFp, serverLastSeen, toolsOf, knownTools };
}

export interface PrevInstance {
  id: string;
  instance_key: string;
  server_id: string;
  client: string;
  config_path: string;
  project_path: string | null;
  scope: string;
  cwd: string | null;
  score: number;
  level: string;
  first_seen: string;
  fingerprint: string;
  name: string;
}

export interface PrevFinding {
  instance_id: string;
  rule_id: string;
  severity: string;
  title: string;
  message: string;
  evidence: string;
  first_seen: string;
}

export interface Previous {
  instances: PrevInstance[];
  findings: PrevFinding[];
  findingsByInstance: Map<string, PrevFinding[]>;
  byKey: Map<string, PrevInstance>;
  /** the diff's view of the host's last state; null for a host seen for the first time */
  state: InstanceState[] | null;
}

/** The host's previous instances with their findings, in one statement. */
export async function readPrevious(tx: Tx, org: string, hostId: string | null): Promise<Previous> {
  const rows = hostId
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
  const instances: PrevInstance[] = [];
  const findings: PrevFinding[] = [];
  const listed = new Set<string>();
  for (const { instance_id, rule_id, severity, title, message, evidence, finding_first_seen, ...instance } of rows) {
    if (!listed.has(instance.id)) {
      listed.add(instance.id);
      instances.push(instance);
    }
    if (instance_id !== null && rule_id !== null && severity !== null && title !== null && message !== null && evidence !== null && finding_first_seen !== null) {
      findings.push({ instance_id, rule_id, severity, title, message, evidence, first_seen: finding_first_seen });
    }
  }
  const findingsByInstance = new Map<string, PrevFinding[]>();
  for (const f of findings) {
    const list = findingsByInstance.get(f.instance_id) ?? [];
    list.push(f);
    findingsByInstance.set(f.instance_id, list);
  }
  const state: InstanceState[] | null = hostId
    ? instances.map((i) => ({
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
  return { instances, findings, findingsByInstance, byKey: new Map(instances.map((i) => [i.instance_key, i])), state };
}

export interface ToolPlan {
  rows: Array<{ id: string; org_id: string; server_id: string; name: string; definition_hash: string; description: string | null; input_schema_hash: string | null; annotations: string | null; first_seen: string; last_seen: string }>;
  /** known tool rows whose last-seen time is a minute old (moved after commit) */
  stale: string[];
  changes: ToolChange[];
}

/** New tool definitions to store (sorted: the global lock order), stale ones to touch, rug pulls. */
export function planTools(org: string, prepared: readonly Prepared[], known: KnownDefinitions, serverIdByFp: ReadonlyMap<string, string>, now: string, stale: string): ToolPlan {
  const changes: ToolChange[] = [];
  const rows: ToolPlan['rows'] = [];
  const staleIds: string[] = [];
  const fresh = new Map<string, Set<string>>(); // serverId -> name \0 hash of the new definitions in this report
  for (const p of prepared) {
    const serverId = serverIdByFp.get(p.fingerprint)!;
    const tools = known.toolsOf.get(serverId);
    for (const t of p.server.tools ?? []) {
      if (!t.definitionHash) continue;
      const row = tools?.row(t.name, t.definitionHash);
      if (row) {
        if (row.lastSeen < stale) {
          staleIds.push(row.id);
          row.lastSeen = now; // (remembered: were this rolled back, the row would move a minute later)
        }
        continue;
      }
      let seen = fresh.get(serverId);
      if (!seen) fresh.set(serverId, (seen = new Set()));
      const k = `${t.name}\u0000${t.definitionHash}`;
      if (seen.has(k)) continue;
      seen.add(k);
      rows.push({ id: timeOrderedId(), org_id: org, server_id: serverId, name: t.name, definition_hash: t.definitionHash, description: t.description ?? null, input_schema_hash: t.inputSchemaHash ?? null, annotations: t.annotations ? JSON.stringify(t.annotations) : null, first_seen: now, last_seen: now });
      const first = tools?.first.get(t.name);
      if (first && first.hash !== t.definitionHash) changes.push({ fingerprint: p.fingerprint, serverName: p.server.name, tool: t.name, previousHash: first.hash, hash: t.definitionHash });
    }
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  rows.sort((a, b) => cmp(a.server_id, b.server_id) || cmp(a.name, b.name) || cmp(a.definition_hash, b.definition_hash));
  return { rows, stale: staleIds.sort(), changes };
}

export interface InstancePlan {
  instanceIdByKey: Map<string, string>;
  updates: Array<{ id: string; set: { server_id: string; client: string; config_path: string; project_path: string | null; scope: string; cwd: string | null; score: number; level: string; last_seen: string } }>;
  inserts: Array<{ id: string; org_id: string; server_id: string; host_id: string; instance_key: string; client: string; config_path: string; project_path: string | null; scope: string; cwd: string | null; score: number; level: string; first_seen: string; last_seen: string }>;
  seenOnly: string[];
  gone: string[];
  /** definitions whose aggregates must be recounted */
  affected: Set<string>;
  /** definitions the report runs unchanged (only their last-seen time may move) */
  untouched: Set<string>;
}

const findingSig = (list: ReadonlyArray<{ ruleId: string; evidence: string; severity: string }>) =>
  list
    .map((f) => `${f.ruleId}\u0000${f.severity}\u0000${f.evidence}`)
    .sort()
    .join('\u0001');

/**
 * Instances that stay (updated, or only seen), new ones, the ones gone. Only the definitions
 * whose instances changed (added, moved, removed, re-scored, other findings) are recounted: a
 * popular definition on many hosts is not recounted for every report that merely mentions it.
 */
export function planInstances(org: string, hostId: string, prepared: readonly Prepared[], prev: Previous, serverIdByFp: ReadonlyMap<string, string>, now: string): InstancePlan {
  const plan: InstancePlan = { instanceIdByKey: new Map(), updates: [], inserts: [], seenOnly: [], gone: [], affected: new Set(), untouched: new Set() };
  for (const p of prepared) {
    const serverId = serverIdByFp.get(p.fingerprint)!;
    const s = p.server;
    const old = prev.byKey.get(p.key);
    if (old) {
      plan.instanceIdByKey.set(p.key, old.id);
      const before = findingSig((prev.findingsByInstance.get(old.id) ?? []).map((f) => ({ ruleId: f.rule_id, evidence: f.evidence, severity: f.severity })));
      if (old.server_id !== serverId) {
        plan.affected.add(old.server_id);
        plan.affected.add(serverId);
      } else if (old.score !== s.score || old.client !== s.client || before !== findingSig(s.findings)) plan.affected.add(serverId);
      else plan.untouched.add(serverId);
      if (old.server_id === serverId && old.client === s.client && old.config_path === s.configPath && old.project_path === (s.projectPath ?? null) && old.scope === s.scope && old.cwd === s.cwd && old.score === s.score && old.level === s.level) {
        plan.seenOnly.push(old.id);
        continue;
      }
      plan.updates.push({ id: old.id, set: { server_id: serverId, client: s.client, config_path: s.configPath, project_path: s.projectPath ?? null, scope: s.scope, cwd: s.cwd, score: s.score, level: s.level, last_seen: now } });
    } else {
      const id = timeOrderedId();
      plan.affected.add(serverId);
      plan.instanceIdByKey.set(p.key, id);
      plan.inserts.push({ id, org_id: org, server_id: serverId, host_id: hostId, instance_key: p.key, client: s.client, config_path: s.configPath, project_path: s.projectPath ?? null, scope: s.scope, cwd: s.cwd, score: s.score, level: s.level, first_seen: now, last_seen: now });
    }
  }
  const keys = new Set(prepared.map((p) => p.key));
  for (const g of prev.instances) {
    if (keys.has(g.instance_key)) continue;
    plan.affected.add(g.server_id);
    plan.gone.push(g.id);
  }
  plan.seenOnly.sort();
  plan.gone.sort();
  return plan;
}

export interface FindingPlan {
  /** instances whose stored findings are replaced */
  replaced: string[];
  rows: Array<{ id: string; org_id: string; instance_id: string; server_id: string; host_id: string; rule_id: string; severity: string; severity_rank: number; title: string; message: string; evidence: string; first_seen: string }>;
}

/**
 * Findings, replaced per instance, keeping the first-seen time of those that stay. An instance
 * that stays on its definition with exactly the findings it has stored keeps its rows.
 */
export function planFindings(org: string, hostId: string, prepared: readonly Prepared[], prev: Previous, instances: InstancePlan, serverIdByFp: ReadonlyMap<string, string>, now: string): FindingPlan {
  const firstSeenOf = new Map(prev.findings.map((f) => [`${f.instance_id}\u0000${f.rule_id}\u0000${f.evidence}`, f.first_seen]));
  const rowSig = (r: { rule_id: string; severity: string; title: string; message: string; evidence: string }) => `${r.rule_id}\u0000${r.severity}\u0000${r.title}\u0000${r.message}\u0000${r.evidence}`;
  const plan: FindingPlan = { replaced: [], rows: [] };
  for (const p of prepared) {
    const instanceId = instances.instanceIdByKey.get(p.key)!;
    const serverId = serverIdByFp.get(p.fingerprint)!;
    const once = new Set<string>();
    const rows: FindingPlan['rows'] = [];
    for (const f of p.server.findings) {
      const k = `${instanceId}\u0000${f.ruleId}\u0000${f.evidence}`;
      if (once.has(k)) continue;
      once.add(k);
      rows.push({ id: timeOrderedId(), org_id: org, instance_id: instanceId, server_id: serverId, host_id: hostId, rule_id: f.ruleId, severity: f.severity, severity_rank: severityRank[f.severity], title: f.title, message: f.message, evidence: f.evidence, first_seen: firstSeenOf.get(k) ?? now });
    }
    const old = prev.byKey.get(p.key);
    if (old) {
      const stored = prev.findingsByInstance.get(old.id) ?? [];
      const unchanged = old.server_id === serverId && stored.length === rows.length && stored.map(rowSig).sort().join('\u0001') === rows.map(rowSig).sort().join('\u0001');
      if (unchanged) continue;
      plan.replaced.push(old.id);
    }
    plan.rows.push(...rows);
  }
  plan.replaced.sort();
  return plan;
}
