// Ingest protocol v2 (issue 12): an agent first OFFERS its report as per-server content hashes;
// the backend answers which servers it does not hold with that content, and the agent sends
// only those in full (the others as references). Both sides compute every hash here, on the
// report as the agent sends it AFTER redaction, so they agree on the same object.
import { canonicalJson, hashJson } from './hash.js';
import { instanceKey } from './identity.js';
import type { ScanReport, ScoredServer } from './model.js';

/** One server of an offer: where it is configured (its instance key) and its content hash. */
export interface ServerOffer {
  key: string;
  hash: string;
}

/** The parts of a report an offer's identity covers besides its servers (what reportHash covers). */
export type OfferEnvelope = Pick<ScanReport, 'schemaVersion' | 'agent' | 'host' | 'clients'>;

/**
 * The content hash of one server entry: the canonical JSON of everything the backend stores or
 * scores for it (definition, client, config path and line, project, scope, cwd, secrets'
 * signals, package, tools, probe result), without what the agent derives itself (its findings,
 * score and level) and without the probe's duration (it changes on every scan).
 */
export function serverContentHash(server: ScoredServer): string {
  const { findings: _f, score: _s, level: _l, ...config } = server;
  if (config.probe?.durationMs !== undefined) {
    const { durationMs: _d, ...probe } = config.probe;
    return hashJson({ ...config, probe });
  }
  return hashJson(config);
}

/** The offer of each server of a report, in the report's order. */
export function serverOffers(report: Pick<ScanReport, 'servers'>): ServerOffer[] {
  return report.servers.map((s) => ({ key: instanceKey(s), hash: serverContentHash(s) }));
}

/** True when two servers of the offer share an instance key (such a report is sent whole: protocol v1). */
export function hasDuplicateKeys(offers: readonly ServerOffer[]): boolean {
  const seen = new Set<string>();
  for (const o of offers) {
    if (seen.has(o.key)) return true;
    seen.add(o.key);
  }
  return false;
}

/**
 * The identity of an offered report: the envelope reportHash covers (schema version, agent,
 * host, clients in a fixed order) and the servers' keys and content hashes (in key order).
 * Two reports with the same offer hash have the same content hash (services/ingest contentHash)
 * but for hash collisions: the backend keeps it per host, and an offer with the host's offer
 * hash is an unchanged re-scan.
 */
export function offerHash(envelope: OfferEnvelope, offers: readonly ServerOffer[]): string {
  const clients = [...envelope.clients].sort((a, b) => {
    const x = `${a.id}\u0000${a.configPath}`;
    const y = `${b.id}\u0000${b.configPath}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const servers = [...offers].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return hashJson({ v: 2, schemaVersion: envelope.schemaVersion, agent: envelope.agent, host: envelope.host, clients, servers: servers.map((s) => [s.key, s.hash]) });
}

/**
 * An offer's body as the agent sends it: canonical JSON (keys sorted at every depth) of the
 * envelope, the scan time and the servers' keys and hashes in the report's order. The backend
 * makes the same text (with the scan time blanked) from the report it processed, so the same
 * offer again is recognised from its bytes (as a v1 body is by its raw key), before any parsing.
 */
export function offerBody(envelope: OfferEnvelope & Pick<ScanReport, 'scannedAt'>, offers: readonly ServerOffer[]): string {
  const { schemaVersion, agent, host, scannedAt, clients } = envelope;
  return canonicalJson({ schemaVersion, agent, host, scannedAt, clients, servers: offers.map((o) => ({ key: o.key, hash: o.hash })) });
}

/** A server sent by reference in a v2 report: the backend holds its content under this key and hash. */
export interface ServerReference {
  ref: string;
  hash: string;
}

/** True for a v2 report's server reference (an object with exactly `ref` and `hash`, both strings). */
export function isServerReference(value: unknown): value is ServerReference {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 2 && typeof (value as ServerReference).ref === 'string' && typeof (value as ServerReference).hash === 'string';
}
