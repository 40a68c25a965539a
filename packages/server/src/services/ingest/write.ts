// Stage 4, write: the plans of the diff stage as multi-row statements, in one global order
// (definitions by fingerprint, tool rows by server, name and hash, rows by id), so two reports
// writing the same shared rows at once wait for each other instead of deadlocking.
import { levelForScore, levelRank, type ScanReport } from '@palisade/core';
import { sql } from 'kysely';
import type { Tx } from '../../db/index.js';
import { chunk, chunkRows } from '../batch.js';
import { serverDefinition } from '../fingerprint.js';
import { timeOrderedId } from '../ids.js';
import { searchText, type Prepared } from './normalise.js';
import type { FindingPlan, InstancePlan, ToolPlan } from './state.js';

/** A host seen for the first time: its row, with an empty summary (filled at the end). */
export async function insertHost(tx: Tx, org: string, hostId: string, report: ScanReport, now: string): Promise<void> {
  await tx
    .insertInto('hosts')
    .values({
      id: hostId,
      org_id: org,
      hostname: report.host.hostname,
      os_user: report.host.user,
      os: report.host.os,
      agent_version: report.agent.version,
      first_seen: now,
      last_seen: now,
      last_report_hash: null,
      last_raw_hash: null,
      last_scanned_at: null,
      clients: '[]',
      server_count: 0,
      max_score: 0,
      max_level: 'none',
      search: searchText(report.host.hostname, report.host.user),
    })
    .execute();
}

/**
 * New server definitions. A concurrent report may insert the same one: the insert skips it
 * (and returns only the rows it made), and those are read back. Fills serverIdByFp.
 */
export async function insertDefinitions(tx: Tx, org: string, prepared: readonly Prepared[], serverIdByFp: Map<string, string>, now: string): Promise<void> {
  const byFp = new Map<string, Prepared>();
  for (const p of prepared) if (!serverIdByFp.has(p.fingerprint) && !byFp.has(p.fingerprint)) byFp.set(p.fingerprint, p);
  if (byFp.size === 0) return;
  const rows = [...byFp.values()]
    .sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0))
    .map((p) => {
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
    const made = await tx
      .insertInto('servers')
      .values(part)
      .onConflict((oc) => oc.columns(['org_id', 'fingerprint']).doNothing())
      .returning(['id', 'fingerprint'])
      .execute();
    for (const r of made) serverIdByFp.set(r.fingerprint, r.id);
  }
  const missing = [...byFp.keys()].filter((fp) => !serverIdByFp.has(fp));
  for (const part of chunk(missing)) {
    const got = await tx.selectFrom('servers').select(['id', 'fingerprint']).where('org_id', '=', org).where('fingerprint', 'in', part).execute();
    for (const r of got) serverIdByFp.set(r.fingerprint, r.id);
  }
}

export async function writeTools(tx: Tx, plan: ToolPlan): Promise<void> {
  for (const part of chunkRows(plan.rows))
    await tx
      .insertInto('tools')
      .values(part)
      .onConflict((oc) => oc.columns(['org_id', 'server_id', 'name', 'definition_hash']).doNothing())
      .execute();
}

export async function writeInstances(tx: Tx, org: string, plan: InstancePlan, now: string): Promise<void> {
  // the instances that changed, one multi-row UPDATE per chunk (rows sorted by id: the lock
  // order); those only seen again move their last-seen time alone. (Written in one statement
  // with their stored values, SQLite rewrote their entries in the indexes on server_id and
  // client: 1.6-2.4 ms of a changed report's ~10 ms of statements, against ~0.8 ms as two.)
  const updates = [...plan.updates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const part of chunkRows(updates.map((u) => ({ id: u.id, ...u.set })))) {
    const values = sql.join(
      part.map(
        (u) => sql`(${u.id}, ${u.server_id}, ${u.client}, ${u.config_path}, ${u.project_path}, ${u.scope}, ${u.cwd}, ${u.score}, ${u.level}, ${u.last_seen})`,
      ),
    );
    await sql`with v(id, server_id, client, config_path, project_path, scope, cwd, score, level, last_seen) as (values ${values})
      update server_instances set server_id = v.server_id, client = v.client, config_path = v.config_path, project_path = v.project_path, scope = v.scope, cwd = v.cwd,
        score = cast(v.score as integer), level = v.level, last_seen = v.last_seen
      from v
      where server_instances.org_id = ${org} and server_instances.id = v.id`.execute(tx);
  }
  for (const part of chunk(plan.seenOnly))
    await tx.updateTable('server_instances').set({ last_seen: now }).where('org_id', '=', org).where('id', 'in', part).execute();
  for (const part of chunkRows(plan.inserts)) await tx.insertInto('server_instances').values(part).execute();
  for (const part of chunk(plan.gone)) {
    await tx.deleteFrom('findings').where('org_id', '=', org).where('instance_id', 'in', part).execute();
    await tx.deleteFrom('server_instances').where('org_id', '=', org).where('id', 'in', part).execute();
  }
}

export async function writeFindings(tx: Tx, org: string, plan: FindingPlan): Promise<void> {
  for (const part of chunk(plan.replaced)) await tx.deleteFrom('findings').where('org_id', '=', org).where('instance_id', 'in', part).execute();
  for (const part of chunkRows(plan.rows)) await tx.insertInto('findings').values(part).execute();
}

/** The host's own summary and the report record. */
export async function writeHostAndReport(
  tx: Tx,
  org: string,
  hostId: string,
  report: ScanReport,
  prepared: readonly Prepared[],
  record: { reportId: string; hash: string; rawKey: string | null; agentKeyId: string | null; eventCount: number },
  now: string,
): Promise<void> {
  let maxScore = 0;
  for (const p of prepared) maxScore = Math.max(maxScore, p.server.score);
  await tx
    .updateTable('hosts')
    .set({
      os: report.host.os,
      agent_version: report.agent.version,
      last_seen: now,
      last_report_hash: record.hash,
      last_raw_hash: record.rawKey,
      last_scanned_at: report.scannedAt,
      clients: JSON.stringify(report.clients.slice(0, 1000)),
      server_count: prepared.length,
      max_score: maxScore,
      max_level: levelForScore(maxScore),
      search: searchText(report.host.hostname, report.host.user),
    })
    .where('org_id', '=', org)
    .where('id', '=', hostId)
    .execute();
  await tx
    .insertInto('reports')
    .values({
      id: record.reportId,
      org_id: org,
      host_id: hostId,
      report_hash: record.hash,
      agent_key_id: record.agentKeyId,
      agent_version: report.agent.version,
      scanned_at: report.scannedAt,
      received_at: now,
      server_count: prepared.length,
      event_count: record.eventCount,
    })
    .execute();
}
