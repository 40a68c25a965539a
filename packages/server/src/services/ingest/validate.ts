// Stage 1, validate: a raw body's limits and schema (report-limits.ts), its content hash for
// idempotency, and the key that recognises a re-sent body whatever its scan time.
import { createHash } from 'node:crypto';
import type { ScanReport } from '@palisade/core';
import { reportHash } from '../fingerprint.js';
import { parseReportText, ReportRejected } from '../report-limits.js';

export { parseReportText, ReportRejected };

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

/** sha256 of the exact body: the same body sent twice is one report (the inbox's idempotency key). */
export function bodyHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The host a report is about, as one key (hostname and OS user), for turns and idempotency. */
export function hostKey(report: Pick<ScanReport, 'host'>): string {
  return `${report.host.hostname}|${report.host.user}`;
}

/**
 * The content hash of a (redacted) report: core's reportHash (which already leaves out the
 * scan time, the summary and every score) of the report without the fields that change from
 * one scan to the next when nothing else did: each probe's duration. Stored as the host's
 * last_report_hash; a report with the same content hash as the host's last one is an
 * unchanged re-scan, whatever its bytes.
 */
export function contentHash(report: ScanReport): string {
  if (!report.servers.some((s) => s.probe?.durationMs !== undefined)) return reportHash(report);
  return reportHash({
    ...report,
    servers: report.servers.map((s) => {
      if (s.probe?.durationMs === undefined) return s;
      const { durationMs: _d, ...probe } = s.probe;
      return { ...s, probe };
    }),
  });
}
