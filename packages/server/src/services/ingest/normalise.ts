// Stage 2, normalise: core's redaction as the second wall (the function the agent uses, on
// every report accepted, so a report from an old or hostile agent cannot put a secret in the
// database), then each server scrubbed and given its instance key and definition
// fingerprint; the same instance key twice in one report keeps the first. No I/O.
import { redactReport, type ScanReport, type ScoredServer } from '@palisade/core';
import { instanceKey, serverFingerprint } from '../fingerprint.js';
import { scrubServer } from '../sanitize.js';

export interface Prepared {
  server: ScoredServer;
  fingerprint: string;
  key: string;
}

/** The report with secrets redacted (core's redactReport). */
export function redacted(report: ScanReport): ScanReport {
  return redactReport(report);
}

/** Servers redacted between two turns of the event loop (redactedSliced). */
export const REDACT_SLICE_SERVERS = 64;

/**
 * redacted(), `slice` servers per turn of the event loop for a large report (core's
 * redactReport redacts each server on its own, so the servers redacted a slice at a time and
 * the rest of the report redacted once are the same report): a 4 MB body does not hold the
 * event loop for its whole redaction at accept.
 */
export async function redactedSliced(report: ScanReport, slice = REDACT_SLICE_SERVERS): Promise<ScanReport> {
  if (!Array.isArray(report.servers) || report.servers.length <= slice) return redactReport(report);
  const servers: ScanReport['servers'] = [];
  for (let i = 0; i < report.servers.length; i += slice) {
    servers.push(...redactReport({ ...report, servers: report.servers.slice(i, i + slice), findings: [], clients: [] }).servers);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { ...redactReport({ ...report, servers: [] }), servers };
}

/** The report's servers, scrubbed, keyed and fingerprinted, first of each instance key only. */
export function normaliseServers(report: ScanReport): Prepared[] {
  const seen = new Set<string>();
  const prepared: Prepared[] = [];
  for (const raw of report.servers) normaliseOne(raw, seen, prepared);
  return prepared;
}

function normaliseOne(raw: ScanReport['servers'][number], seen: Set<string>, prepared: Prepared[]): void {
  const server = scrubServer(raw);
  const key = instanceKey(server);
  if (seen.has(key)) return;
  seen.add(key);
  prepared.push({ server, fingerprint: serverFingerprint(server), key });
}

/** normaliseServers, `slice` servers between two turns of the event loop (a large report). */
export async function normaliseServersSliced(report: ScanReport, slice = 64): Promise<Prepared[]> {
  const seen = new Set<string>();
  const prepared: Prepared[] = [];
  for (let i = 0; i < report.servers.length; i += slice) {
    for (const raw of report.servers.slice(i, i + slice)) normaliseOne(raw, seen, prepared);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return prepared;
}

/** Lower-case search text of a few fields, bounded. */
export function searchText(...parts: Array<string | null | undefined>): string {
  return parts
    .filter((p): p is string => Boolean(p))
    .join(' ')
    .toLowerCase()
    .slice(0, 2048);
}
