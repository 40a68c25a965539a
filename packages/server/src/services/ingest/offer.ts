// Ingest protocol v2 (issue 12, docs/api.md): an agent offers its report as per-server content
// hashes (POST /agent/report/offer); the backend answers which servers it does not hold with
// that content, or, when it holds them all and the offer is the host's last report again, moves
// last-seen times as for an unchanged v1 re-scan. The agent then sends a v2 report (POST
// /agent/report/v2): the needed servers in full, the others as references {ref, hash}. The
// backend resolves every reference from what IT stored for the host (host_entries, migrations
// 030-031; written in the transaction that processed the host's last report) and checks each hash
// against its own; a reference it cannot resolve is a 409 and the agent sends v1. The resolved
// report is a whole v1 report and goes through the same accept path, inbox and pipeline: a v2
// report stores exactly what the same report sent whole stores. The agent's hashes are only
// ever compared with the backend's own; nothing is scored from them.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { hasDuplicateKeys, isServerReference, levels, offerHash, type ScanReport, type ServerOffer } from '@palisade/core';
import { withOrg, type Db, type OrgScope, type Tx } from '../../db/index.js';
import { storageFor } from '../../db/storage.js';
import { jsonDepth, MAX_REPORT_BYTES, MAX_REPORT_DEPTH, ReportRejected, validateReport } from '../report-limits.js';
import { planEntries, type EntriesPlan } from './entries.js';
import { seenBufferFor, unchangedResult } from './touch.js';
import type { IngestResult } from './types.js';

/** Largest offer body accepted, in bytes (5,000 servers' keys and hashes take about 700 KB). */
export const MAX_OFFER_BYTES = 2 * 1024 * 1024;

const HEX64 = /^[0-9a-f]{64}$/;
const SCAN_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const OFFER_FIELDS = new Set(['schemaVersion', 'agent', 'host', 'scannedAt', 'clients', 'servers']);

// host_entries.entries holds a host's last processed servers, about 36 KB of JSON for a
// typical report (3.6 GB at 100,000 hosts): it is stored deflated (zlib level 1, ~0.1-0.4 ms per
// report, about a fifth of the bytes) and base64-encoded, behind a prefix that names the form.
// Text without the prefix is read as plain JSON.
const PACKED = 'z1:';

/** The stored form of a host's entries JSON. */
export function packEntries(json: string): string {
  return PACKED + deflateRawSync(json, { level: 1 }).toString('base64');
}

/** A host's entries JSON from its stored form (bounded: never more than a report's largest size, twice). */
export function unpackEntries(stored: string): string {
  if (!stored.startsWith(PACKED)) return stored;
  return inflateRawSync(Buffer.from(stored.slice(PACKED.length), 'base64'), { maxOutputLength: 2 * MAX_REPORT_BYTES }).toString('utf8');
}

/** A 4xx of the v2 routes with a code the agent can act on (409: send the whole report, v1). */
export class OfferRejected extends Error {
  constructor(
    readonly statusCode: 400 | 409 | 413 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HostEntriesTable {
  host_id: string;
  org_id: string;
  report_hash: string;
  offer_hash: string;
  /** migration 031: the raw key of the offer's body (entries.ts offerRawKey) */
  offer_raw: string | null;
  hashes: string;
  entries: string;
  updated_at: string;
}
type EntriesDb = { host_entries: HostEntriesTable };
const entriesOf = (tx: Tx) => tx.withTables<EntriesDb>();

/** An offer as the backend reads it: the envelope of the report and its servers' keys and hashes. */
export interface ParsedOffer {
  envelope: Pick<ScanReport, 'schemaVersion' | 'agent' | 'host' | 'scannedAt' | 'clients'>;
  servers: ServerOffer[];
  hash: string;
  /** the envelope passed the report schema (checkOffer); until then only its hash is used */
  checked: boolean;
}

const emptySummary = () => ({ clients: 0, servers: 0, findings: 0, errors: 0, byLevel: Object.fromEntries(levels.map((l) => [l, 0])), maxLevel: 'none' });

function parseJson(text: string, limit: number, what: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > limit) throw new OfferRejected(413, 'payload_too_large', `The ${what} is larger than ${limit / 1024 / 1024} MiB.`);
  if (jsonDepth(text, MAX_REPORT_DEPTH) > MAX_REPORT_DEPTH) throw new OfferRejected(400, 'too_deep', `The ${what} nests deeper than ${MAX_REPORT_DEPTH} levels.`);
  try {
    return JSON.parse(text);
  } catch {
    throw new OfferRejected(400, 'invalid_json', `The ${what} is not valid JSON.`);
  }
}

/** The envelope fields of a report body, checked with the report schema (a report with no servers). */
function checkEnvelope(body: Record<string, unknown>, what: string): ParsedOffer['envelope'] {
  try {
    const r = validateReport({ schemaVersion: body.schemaVersion, agent: body.agent, host: body.host, scannedAt: body.scannedAt, clients: body.clients, servers: [], findings: [], summary: emptySummary() });
    return { schemaVersion: r.schemaVersion, agent: r.agent, host: r.host, scannedAt: r.scannedAt, clients: r.clients };
  } catch (err) {
    if (err instanceof ReportRejected) throw new OfferRejected(400, what === 'offer' ? 'invalid_offer' : 'invalid_report', `The ${what} envelope is not valid: ${err.message}`);
    throw err;
  }
}

/**
 * An offer body: `{schemaVersion, agent, host, scannedAt, clients, servers: [{key, hash}]}`
 * (keys and hashes: 64 lower-case hex digits; no key twice; no other field). OfferRejected otherwise.
 */
export function parseOffer(text: string): ParsedOffer {
  const value = parseJson(text, MAX_OFFER_BYTES, 'offer');
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new OfferRejected(400, 'invalid_offer', 'The offer must be a JSON object.');
  const body = value as Record<string, unknown>;
  const extra = Object.keys(body).find((k) => !OFFER_FIELDS.has(k));
  if (extra !== undefined) throw new OfferRejected(400, 'invalid_offer', `The offer has a field protocol v2 does not define: "${extra.slice(0, 64)}".`);
  const list = body.servers;
  if (!Array.isArray(list)) throw new OfferRejected(400, 'invalid_offer', 'The offer needs `servers`: an array of {key, hash}.');
  if (list.length > 5000) throw new OfferRejected(400, 'invalid_offer', 'The offer lists more than 5000 servers.');
  const servers: ServerOffer[] = [];
  for (const [i, s] of list.entries()) {
    const o = s as Record<string, unknown> | null;
    if (!o || typeof o !== 'object' || Array.isArray(o) || Object.keys(o).length !== 2 || typeof o.key !== 'string' || typeof o.hash !== 'string' || !HEX64.test(o.key) || !HEX64.test(o.hash)) {
      throw new OfferRejected(400, 'invalid_offer', `servers[${i}] must be {key, hash}, each 64 lower-case hex digits.`);
    }
    servers.push({ key: o.key, hash: o.hash });
  }
  if (hasDuplicateKeys(servers)) throw new OfferRejected(422, 'duplicate_server_key', 'Two servers of the offer have the same key; send this report whole (POST /agent/report).');
  // The envelope's schema check waits until the offer is not the host's last report again: an
  // offer hash equal to one the backend computed from a validated report has that report's
  // envelope (the scan time, outside the hash, is checked here). An envelope that cannot even
  // be hashed is checked (and refused) now.
  const host = body.host as Record<string, unknown> | null;
  const hashable =
    Array.isArray(body.clients) &&
    body.clients.every((c) => c !== null && typeof c === 'object') &&
    host !== null &&
    typeof host === 'object' &&
    typeof host.hostname === 'string' &&
    typeof host.user === 'string' &&
    typeof body.scannedAt === 'string' &&
    SCAN_TIME.test(body.scannedAt);
  const envelope = hashable ? (body as unknown as ParsedOffer['envelope']) : checkEnvelope(body, 'offer');
  return { envelope, servers, hash: offerHash(envelope, servers), checked: !hashable };
}

/** The offer's envelope checked with the report schema (once it is known not to be an unchanged re-scan). */
export function checkOffer(offer: ParsedOffer): ParsedOffer {
  return offer.checked ? offer : { ...offer, envelope: checkEnvelope(offer.envelope as unknown as Record<string, unknown>, 'offer'), checked: true };
}

/**
 * The same offer as the host's last processed report's, recognised from its bytes (the body's
 * raw key: sha256 with its scan time blanked, as the agent's canonical offer body makes it):
 * last-seen moves buffered as for v1, no parsing. Null when no host's entries have that key.
 */
export async function acceptUnchangedOffer(store: Db, scope: OrgScope, raw: { key: string; scannedAt: string }, now: string): Promise<IngestResult | null> {
  const host = await storageFor(store).findByOfferRawKey(store, scope.orgId, raw.key);
  if (!host) return null;
  seenBufferFor(store).mark(scope.orgId, host.id, now, raw.scannedAt);
  return unchangedResult(host.id, host.server_count);
}

/** The answer to an offer: done (an unchanged re-scan, last-seen moved), or the servers to send in full and the offer's token. */
export type OfferAnswer = { kind: 'unchanged'; result: IngestResult } | { kind: 'need'; need: string[]; offer: string };

/** The token of a host's stored entries (echoed in the v2 report): which state its references are resolved against. */
const tokenOf = (row: Pick<HostEntriesTable, 'host_id' | 'report_hash'> | undefined): string => (row ? `${row.host_id}.${row.report_hash.slice(0, 32)}` : 'none');

/** The host's stored entries row (by its identity in the report), or undefined. */
async function readEntries(tx: Tx, org: string, host: { hostname: string; user: string }, columns: 'hashes' | 'all'): Promise<HostEntriesTable | undefined> {
  const q = entriesOf(tx)
    .selectFrom('host_entries as e')
    .innerJoin('hosts as h', (j) => j.onRef('h.id', '=', 'e.host_id').onRef('h.org_id', '=', 'e.org_id'))
    .where('h.org_id', '=', org)
    .where('h.hostname', '=', host.hostname)
    .where('h.os_user', '=', host.user);
  const row =
    columns === 'all'
      ? await q.select(['e.host_id', 'e.org_id', 'e.report_hash', 'e.offer_hash', 'e.hashes', 'e.entries', 'e.updated_at']).executeTakeFirst()
      : await q.select(['e.host_id', 'e.org_id', 'e.report_hash', 'e.offer_hash', 'e.hashes']).executeTakeFirst();
  return row as HostEntriesTable | undefined;
}

/**
 * Answers an offer. The host's last processed report had this offer hash (and nothing of the
 * host waits in the inbox): an unchanged re-scan, its last-seen moves buffered as for v1 (one
 * read). Otherwise the keys whose content the backend does not hold (no entry under that key,
 * or another hash) and the token the v2 report must carry.
 */
export async function answerOffer(store: Db, scope: OrgScope, offer: ParsedOffer, now: string): Promise<OfferAnswer> {
  const org = scope.orgId;
  // the offer hash covers the host's name and user; checked again all the same
  const host = await storageFor(store).findByOfferHash(store, org, offer.hash);
  if (host && host.hostname === offer.envelope.host.hostname && host.os_user === offer.envelope.host.user) {
    seenBufferFor(store).mark(org, host.id, now, offer.envelope.scannedAt);
    return { kind: 'unchanged', result: unchangedResult(host.id, host.server_count) };
  }
  offer = checkOffer(offer);
  const row = await withOrg(store, scope, (tx) => readEntries(tx, org, offer.envelope.host, 'hashes'));
  const held = row ? (JSON.parse(row.hashes) as Record<string, string>) : {};
  const need = offer.servers.filter((s) => !Object.hasOwn(held, s.key) || held[s.key] !== s.hash).map((s) => s.key);
  return { kind: 'need', need, offer: tokenOf(row) };
}

/**
 * A v2 report body resolved into the whole report it stands for (as JSON text, for the v1
 * accept path): every reference replaced by the entry the backend stored under its key, after
 * checking that the stored entry's hash is the referenced one and that the host's entries are
 * still those the offer was answered from. 409 when they are not (the agent sends v1).
 */
export async function resolveV2Report(store: Db, scope: OrgScope, text: string): Promise<{ text: string; refs: number }> {
  const value = parseJson(text, MAX_REPORT_BYTES, 'report');
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new OfferRejected(400, 'invalid_report', 'The report must be a JSON object.');
  const { offer: token, ...body } = value as Record<string, unknown>;
  if (typeof token !== 'string' || token.length > 200) throw new OfferRejected(400, 'invalid_report', 'A v2 report needs `offer`: the token the offer answer gave.');
  if (!Array.isArray(body.servers)) throw new OfferRejected(400, 'invalid_report', 'The report needs `servers`: an array of server entries and references {ref, hash}.');
  const servers = body.servers as unknown[];
  const refs = servers.filter(isServerReference);
  if (refs.length === 0) return { text: JSON.stringify(body), refs: 0 };
  const host = checkEnvelope(body, 'report').host;
  const seen = new Set<string>();
  for (const r of refs) {
    if (!HEX64.test(r.ref) || !HEX64.test(r.hash)) throw new OfferRejected(400, 'invalid_report', 'A reference must be {ref, hash}, each 64 lower-case hex digits.');
    if (seen.has(r.ref)) throw new OfferRejected(422, 'duplicate_server_key', 'Two references of the report have the same key.');
    seen.add(r.ref);
  }
  const row = await withOrg(store, scope, (tx) => readEntries(tx, scope.orgId, host, 'all'));
  if (!row || tokenOf(row) !== token) {
    throw new OfferRejected(409, 'offer_stale', 'The backend no longer holds the servers this report references (the host reported since the offer); send the whole report (POST /agent/report).');
  }
  const hashes = JSON.parse(row.hashes) as Record<string, string>;
  const entries = JSON.parse(unpackEntries(row.entries)) as Record<string, unknown>;
  const resolved = servers.map((s) => {
    if (!isServerReference(s)) return s;
    if (!Object.hasOwn(hashes, s.ref) || hashes[s.ref] !== s.hash || !Object.hasOwn(entries, s.ref)) {
      throw new OfferRejected(409, 'unknown_reference', 'The report references a server the backend does not hold with that content; send the whole report (POST /agent/report).');
    }
    return entries[s.ref];
  });
  return { text: JSON.stringify({ ...body, servers: resolved }), refs: refs.length };
}

/**
 * What the backend keeps of a processed report for protocol v2 (host_entries): its servers
 * (redacted, as processed) by instance key, their content hashes and the report's offer hash
 * (`plan`: computed at accept on a worker thread, else here). A report that names one key
 * twice keeps nothing (its host's offers then need every server). Runs in the transaction
 * that stored the report (or found it unchanged).
 */
export async function writeHostEntries(tx: Tx, org: string, hostId: string, report: ScanReport, reportHash: string, now: string, given?: EntriesPlan | null): Promise<void> {
  const plan = given === undefined || (given && given.keys.length !== report.servers.length) ? planEntries(report) : given;
  if (!plan) {
    await entriesOf(tx).deleteFrom('host_entries').where('org_id', '=', org).where('host_id', '=', hostId).execute();
    return;
  }
  const hashes: Record<string, string> = {};
  const entries: Record<string, unknown> = {};
  plan.keys.forEach((key, i) => {
    hashes[key] = plan.hashes[i]!;
    entries[key] = report.servers[i];
  });
  const row = {
    host_id: hostId,
    org_id: org,
    report_hash: reportHash,
    offer_hash: plan.offerHash,
    offer_raw: plan.offerRawKey,
    hashes: JSON.stringify(hashes),
    entries: packEntries(JSON.stringify(entries)),
    updated_at: now,
  };
  await entriesOf(tx)
    .insertInto('host_entries')
    .values(row)
    .onConflict((oc) => oc.column('host_id').doUpdateSet({ report_hash: row.report_hash, offer_hash: row.offer_hash, offer_raw: row.offer_raw, hashes: row.hashes, entries: row.entries, updated_at: now }))
    .execute();
}

/**
 * writeHostEntries for a host whose report was found unchanged, when its entries are missing or
 * belong to another report (a host last processed before migration 030): so that its next offer
 * can be answered "unchanged". One read when they are there already.
 */
export async function ensureHostEntries(tx: Tx, org: string, hostId: string, report: ScanReport, reportHash: string, now: string, given?: EntriesPlan | null): Promise<void> {
  const row = await entriesOf(tx).selectFrom('host_entries').select('report_hash').where('org_id', '=', org).where('host_id', '=', hostId).executeTakeFirst();
  if (row?.report_hash === reportHash) return;
  await writeHostEntries(tx, org, hostId, report, reportHash, now, given);
}

/** ensureHostEntries in a transaction of its own, taking the host's turn, only while the host's last report is still `reportHash`. */
export async function ensureHostEntriesNow(store: Db, scope: OrgScope, hostKey: string, hostId: string, report: ScanReport, reportHash: string, now: string): Promise<void> {
  await withOrg(store, scope, async (tx) => {
    await storageFor(store).hostTurn(tx, `${scope.orgId}|${hostKey}`);
    const host = await tx.selectFrom('hosts').select('last_report_hash').where('org_id', '=', scope.orgId).where('id', '=', hostId).executeTakeFirst();
    if (host?.last_report_hash !== reportHash) return;
    await ensureHostEntries(tx, scope.orgId, hostId, report, reportHash, now);
  });
}
