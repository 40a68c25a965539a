// One report through the stages, in ONE org-scoped transaction: validate (validate.ts) ->
// normalise (normalise.ts) -> diff against the last state (state.ts) -> write (write.ts) ->
// alerts and webhooks (events.ts) -> aggregates (aggregates.ts; what no report should wait
// for runs after its commit). An unchanged re-report only moves last-seen times (touch.ts).
import type { MemoryAdvisoryDb, Rule, ScanReport } from '@palisade/core';
import { withOrg, type Db, type OrgScope, type Tx } from '../../db/index.js';
import { storageFor } from '../../db/storage.js';
import { advisoryDbFor, recordIngestMatches, reportPackageKeys } from '../advisory-db.js';
import { timeOrderedId } from '../ids.js';
import { rescoreReport, rescoreReportSliced, type KnownTools } from '../rescore.js';
import { afterCommit, dailySnapshotsFor, refreshServerAggregates, type AfterCommit } from './aggregates.js';
import { raiseEvents, storeReportEvents } from './events.js';
import { normaliseServers, normaliseServersSliced, redacted } from './normalise.js';
import { planFindings, planInstances, planTools, readKnownDefinitions, readPrevious } from './state.js';
import { staleBefore, touchByRawKey, touchByRawKeyOneTrip, touchUnchanged } from './touch.js';
import { ensureHostEntries, writeHostEntries } from './offer.js';
import type { IngestOptions, IngestResult, Prescored } from './types.js';
import { contentHash, hostKey, parseReportText, rawReportKey } from './validate.js';
import { insertDefinitions, insertHost, writeFindings, writeHostAndReport, writeInstances, writeTools } from './write.js';

export interface Stored {
  result: IngestResult;
  after: AfterCommit | null;
}

import { withRetry } from './retry.js';

export { withRetry };

/** After a commit: shared rows, the watch list, the daily snapshot, the dispatcher. */
export async function finish(store: Db, scope: OrgScope, stored: Stored, opts: Pick<IngestOptions, 'onAlerts'>): Promise<IngestResult> {
  if (stored.after) {
    await afterCommit(store, stored.after).catch(() => {
      // last-seen moves and the watch list are caught up by the host's next report
    });
    dailySnapshotsFor(store).mark(scope.orgId, stored.after.now);
  }
  if (stored.result.alerts > 0) opts.onAlerts?.(scope, stored.result.alerts);
  return stored.result;
}

/**
 * A raw report body: a body this org already accepted as a host's last report only moves
 * last-seen times (no parsing); any other is parsed and validated (ReportRejected when it is
 * not a valid report) and stored. One transaction either way.
 */
export async function ingestReportText(store: Db, scope: OrgScope, text: string, opts: Omit<IngestOptions, 'rawKey'> = {}): Promise<IngestResult> {
  const now = (opts.now ?? new Date()).toISOString();
  const raw = rawReportKey(text);
  // where the database has one: the fast path first, in one round trip of its own
  const oneTrip = raw ? await withRetry(() => touchByRawKeyOneTrip(store, scope, raw, now)) : undefined;
  if (oneTrip) return oneTrip;
  let parsed: { report: ScanReport; hash: string } | undefined;
  const stored = await withRetry(() =>
    withOrg(store, scope, async (tx): Promise<Stored> => {
      if (raw && oneTrip === undefined) {
        const fast = await touchByRawKey(tx, store, scope, raw, now);
        if (fast) return { result: fast, after: null };
      }
      if (!parsed) {
        const report = redacted(parseReportText(text));
        parsed = { report, hash: contentHash(report) };
      }
      return ingestParsed(tx, store, scope, parsed.report, parsed.hash, now, { ...opts, rawKey: raw?.key ?? null });
    }),
  );
  return finish(store, scope, stored, opts);
}

/** A parsed report, stored in a transaction of its own (the service API; the route uses the inbox). */
export async function ingestReport(store: Db, scope: OrgScope, report: ScanReport, opts: IngestOptions = {}): Promise<IngestResult> {
  const now = (opts.now ?? new Date()).toISOString();
  const clean = redacted(report);
  const hash = contentHash(clean);
  const stored = await withRetry(() => withOrg(store, scope, (tx) => ingestParsed(tx, store, scope, clean, hash, now, opts)));
  return finish(store, scope, stored, opts);
}

/** Inside the caller's org-scoped transaction: one parsed report, changed or not. */
export async function ingestParsed(tx: Tx, store: Db, scope: OrgScope, accepted: ScanReport, hash: string, now: string, opts: IngestOptions): Promise<Stored> {
  // Second wall: core's redactReport, the function the agent uses, on every report accepted
  // (the queue's reports passed it at accept, before the inbox stored them).
  const report = opts.redacted ? accepted : redacted(accepted);
  // two reports of the same host at once would race on its rows: take turns
  await storageFor(store).hostTurn(tx, `${scope.orgId}|${hostKey(report)}`);
  const host = await tx
    .selectFrom('hosts')
    .select(['id', 'last_report_hash'])
    .where('org_id', '=', scope.orgId)
    .where('hostname', '=', report.host.hostname)
    .where('os_user', '=', report.host.user)
    .executeTakeFirst();
  if (host && host.last_report_hash === hash) {
    const result = await touchUnchanged(tx, store, scope, host.id, now, report.scannedAt, opts.rawKey ?? null);
    // protocol v2: a host last processed before its entries were kept gets them now
    await ensureHostEntries(tx, scope.orgId, host.id, report, hash, now, opts.hostEntries);
    return { result, after: null };
  }
  return ingestChanged(tx, store, scope, report, hash, host?.id ?? null, now, opts);
}

async function ingestChanged(tx: Tx, store: Db, scope: OrgScope, report: ScanReport, hash: string, existingHostId: string | null, now: string, opts: IngestOptions): Promise<Stored> {
  const org = scope.orgId;
  const stale = staleBefore(now);
  // normalise (done before the transaction for a large report)
  const pre = opts.prescored;
  const prepared = pre ? pre.normalised.map((p) => ({ ...p })) : normaliseServers(report);
  // what is known: definitions and their tool rows (the rug-pull baseline)
  const known = await readKnownDefinitions(tx, store, org, prepared.map((p) => p.fingerprint));
  // re-score with the backend's own rules (and the stored advisories, for PAL-V001), unless
  // done before the transaction against exactly what it reads now
  const advisories = await advisoryDbFor(tx, reportPackageKeys(prepared.map((p) => p.server)));
  const reuse = pre !== undefined && sameKnownTools(pre.knownTools, known.knownTools) && pre.advisories === advisorySignature(advisories);
  if (pre) prescoreUse[reuse ? 'reused' : 'rescored']++;
  const servers = reuse
    ? pre.servers
    : rescoreReport(
        { ...report, servers: prepared.map((p) => p.server) },
        prepared.map((p) => p.fingerprint),
        known.knownTools as KnownTools,
        opts.rules,
        advisories,
      ).servers;
  prepared.forEach((p, i) => (p.server = servers[i]!));

  // the host, its previous state, new definitions
  const hostId = existingHostId ?? timeOrderedId();
  if (!existingHostId) await insertHost(tx, org, hostId, report, now);
  const prev = await readPrevious(tx, org, existingHostId);
  const serverIdByFp = known.serverIdByFp;
  await insertDefinitions(tx, org, prepared, serverIdByFp, now);
  // the report's advisory matches are seen now: a later re-match must not alert for them again
  await recordIngestMatches(tx, scope, prepared.map((p) => ({ serverId: serverIdByFp.get(p.fingerprint)!, package: p.server.package })), advisories, now);

  // diff and write: tools, instances, findings
  const tools = planTools(org, prepared, known, serverIdByFp, now, stale);
  await writeTools(tx, tools);
  const instances = planInstances(org, hostId, prepared, prev, serverIdByFp, now);
  await writeInstances(tx, org, instances, now);
  await writeFindings(tx, org, planFindings(org, hostId, prepared, prev, instances, serverIdByFp, now));

  // events, overrides voided, alerts and webhook deliveries
  const events = await raiseEvents(tx, scope, report, hostId, prepared, prev, serverIdByFp, tools.changes, now);

  const reportId = opts.reportId ?? timeOrderedId();
  await writeHostAndReport(tx, org, hostId, report, prepared, { reportId, hash, rawKey: opts.rawKey ?? null, agentKeyId: opts.agentKeyId ?? null, eventCount: events.length }, now);
  // protocol v2: the servers as processed, by key and content hash (offer.ts)
  await writeHostEntries(tx, org, hostId, report, hash, now, opts.hostEntries);
  const alerts = await storeReportEvents(tx, scope, events, reportId, now);
  const result: IngestResult = { reportId, hostId, unchanged: false, servers: prepared.length, events: events.length, alerts };
  await opts.afterWrite?.(tx, result);

  // aggregates of every definition this report changed, last: they lock shared definition rows
  // (PostgreSQL), which are then held only for the few statements left before the commit
  await refreshServerAggregates(tx, store, scope, [...instances.affected], now);
  const seenOnly = [...instances.untouched].filter((id) => !instances.affected.has(id) && (known.serverLastSeen.get(id) ?? '') < stale);
  return {
    result,
    after: { org, now, staleBefore: stale, servers: seenOnly, tools: tools.stale, packages: reportPackageKeys(prepared.map((p) => p.server)) },
  };
}

/** Prescored reports whose scores the transaction used, and those it re-scored (what it read had changed): for tests and metrics. */
export const prescoreUse = { reused: 0, rescored: 0 };

/** Reports of at least this many servers are normalised and re-scored before their transaction (prescore). */
export const PRESCORE_MIN_SERVERS = 100;

/**
 * A large report's CPU work before its transaction: its servers normalised, the definitions
 * and advisories it names read (a short read of their own), and re-scored, a slice of servers
 * at a time between turns of the event loop. Its transaction then holds the connection (on
 * SQLite, every other organisation's writes) only for reads, the comparison and its writes.
 * Undefined for a small report (its re-scoring is a small part of its transaction) or when the
 * read fails (the transaction does it all, as before).
 */
export async function prescore(store: Db, scope: OrgScope, report: ScanReport, rules?: readonly Rule[]): Promise<Prescored | undefined> {
  if (report.servers.length < PRESCORE_MIN_SERVERS) return undefined;
  const normalised = await normaliseServersSliced(report);
  const fingerprints = normalised.map((p) => p.fingerprint);
  const read = await withOrg(store, scope, async (tx) => ({
    known: await readKnownDefinitions(tx, store, scope.orgId, fingerprints),
    advisories: await advisoryDbFor(tx, reportPackageKeys(normalised.map((p) => p.server))),
  })).catch(() => undefined);
  if (!read) return undefined;
  const rescored = await rescoreReportSliced(
    { ...report, servers: normalised.map((p) => p.server) },
    fingerprints,
    read.known.knownTools,
    rules,
    read.advisories,
  );
  return { normalised, servers: rescored.servers, knownTools: read.known.knownTools, advisories: advisorySignature(read.advisories) };
}

/** The same rug-pull baselines (fingerprint -> tool name -> first hash and time). */
export function sameKnownTools(a: KnownTools, b: KnownTools): boolean {
  if (a.size !== b.size) return false;
  for (const [fp, tools] of a) {
    const other = b.get(fp);
    if (!other || other.size !== tools.size) return false;
    for (const [name, first] of tools) {
      const o = other.get(name);
      if (!o || o.hash !== first.hash || o.firstSeen !== first.firstSeen) return false;
    }
  }
  return true;
}

/**
 * What the advisory rules can read of an advisory database read for a report: its records
 * (by id) and whether each is known exploited. Two reads with the same signature score alike.
 */
export function advisorySignature(db: MemoryAdvisoryDb): string {
  const records = [...db.records()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return JSON.stringify(records.map((r) => [r, db.isKnownExploited(r)]));
}
