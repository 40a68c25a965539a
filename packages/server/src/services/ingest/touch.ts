// The unchanged report: the same content as the host's last one (by its normalised hash, or
// by its raw body's key) only moves last-seen times (storage.touchHost / touchByRawKeyOneTrip).
import { sql } from 'kysely';
import { withOrg, type Db, type OrgScope, type Tx } from '../../db/index.js';
import { storageFor } from '../../db/storage.js';
import type { IngestResult } from './types.js';

// Server rows are shared by every host that runs them: their last-seen time moves at most
// once a minute, so a fleet of re-reports does not queue on the popular rows.
export const SERVER_SEEN_GRANULARITY_MS = 60_000;

export const staleBefore = (now: string) => new Date(Date.parse(now) - SERVER_SEEN_GRANULARITY_MS).toISOString();

export const unchangedResult = (hostId: string, servers: number): IngestResult => ({ reportId: null, hostId, unchanged: true, servers, events: 0, alerts: 0 });

/** The host whose last accepted body has this key, touched; null when there is none. */
export async function touchByRawKey(tx: Tx, store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now: string): Promise<IngestResult | null> {
  const org = scope.orgId;
  const hostId = sql<string>`(select id from hosts where org_id = ${org} and last_raw_hash = ${raw.key} limit 1)`;
  const host = await storageFor(store).touchHost(tx, org, hostId, now, staleBefore(now), { last_seen: now, last_scanned_at: raw.scannedAt });
  return host ? unchangedResult(host.id, host.server_count) : null;
}

/** touchByRawKey in a round trip of its own where the database has one (PostgreSQL), else undefined. */
export async function touchByRawKeyOneTrip(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now: string): Promise<IngestResult | null | undefined> {
  const host = await storageFor(store).touchByRawKeyOneTrip(store, scope.orgId, raw, now, staleBefore(now));
  return host ? unchangedResult(host.id, host.server_count) : host;
}

/** A report with the same content as the host's last one: only last-seen times move (and the raw-body key). */
export async function touchUnchanged(tx: Tx, store: Db, scope: OrgScope, hostId: string, now: string, scannedAt: string, rawKey: string | null): Promise<IngestResult> {
  const set: Record<string, string> = rawKey ? { last_seen: now, last_scanned_at: scannedAt, last_raw_hash: rawKey } : { last_seen: now, last_scanned_at: scannedAt };
  const host = await storageFor(store).touchHost(tx, scope.orgId, sql<string>`${hostId}`, now, staleBefore(now), set);
  if (!host) throw new Error(`host ${hostId} vanished during ingest`);
  return unchangedResult(host.id, host.server_count);
}

/**
 * The fast path for a re-report: when the body is one this org already accepted as some
 * host's last report, only last-seen times move. Null when it is not.
 */
export async function ingestUnchangedBody(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now = new Date()): Promise<IngestResult | null> {
  const at = now.toISOString();
  const one = await touchByRawKeyOneTrip(store, scope, raw, at);
  if (one !== undefined) return one;
  return withOrg(store, scope, (tx) => touchByRawKey(tx, store, scope, raw, at));
}
