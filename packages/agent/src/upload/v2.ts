// Ingest protocol v2 (docs/api.md): offer the report as its envelope and each server's key and
// content hash; the backend answers "done" (an unchanged re-scan) or which servers it needs in
// full; then send those, and the others as references. Whatever goes wrong with v2 that the
// whole report can fix is answered by sending it whole (protocol v1): a backend without the v2
// routes (404/405), a reference it can no longer resolve (409), an offer it refuses. The spool
// keeps whole redacted reports, so that fallback is always possible.
import { hasDuplicateKeys, offerBody, serverOffers, type ScanReport } from '@palisade/core';
import { REPORT_PATH, sendReport, type SendOutcome } from './send.js';
import type { UploadTarget } from './target.js';

export const OFFER_PATH = `${REPORT_PATH}/offer`;
export const REPORT_V2_PATH = `${REPORT_PATH}/v2`;

/** How a report was delivered (or not): the outcome, and which protocol carried it. */
export type Delivery = SendOutcome & {
  protocol: 'v1' | 'v2';
  /** v2: the servers sent in full (the others went as references); v1: all of them */
  sentServers?: number;
  /** why v1 was used when v2 was tried */
  fallback?: string;
};

/** Backends that answered the offer route 404/405 (no v2): asked again after this long. */
const NO_V2_MS = 6 * 3600_000;
const noV2 = new Map<string, number>();

/** Forgets which backends lack v2 (tests). */
export function forgetProtocolMemo(): void {
  noV2.clear();
}

export interface DeliverOptions {
  timeoutMs?: number;
  /** false: only v1 (the whole report) */
  v2?: boolean;
}

const v1 = async (target: UploadTarget, body: string, timeoutMs: number, fallback?: string): Promise<Delivery> => {
  const outcome = await sendReport(target, body, timeoutMs);
  return { ...outcome, protocol: 'v1', ...(fallback ? { fallback } : {}) };
};

const noRoute = (o: SendOutcome) => o.kind === 'rejected' && (o.status === 404 || o.status === 405);

/** Delivers one redacted report body: protocol v2 when the backend has it, else the whole body (v1). */
export async function deliverReport(target: UploadTarget, body: string, opts: DeliverOptions = {}): Promise<Delivery> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const until = noV2.get(target.server);
  if (opts.v2 === false || (until !== undefined && until > Date.now())) return v1(target, body, timeoutMs);
  let report: ScanReport;
  try {
    report = JSON.parse(body) as ScanReport;
  } catch {
    return v1(target, body, timeoutMs); // not JSON: the backend's v1 answer says why
  }
  if (!report || typeof report !== 'object' || !Array.isArray(report.servers) || !report.host) return v1(target, body, timeoutMs);
  let offers;
  try {
    offers = serverOffers(report);
  } catch {
    return v1(target, body, timeoutMs);
  }
  // two servers under one key cannot be referenced apart: sent whole, as v1 stores it
  if (hasDuplicateKeys(offers)) return v1(target, body, timeoutMs, 'two servers share a key');

  // canonical JSON: the backend recognises an unchanged re-scan's offer from its bytes
  const offered = await sendReport(target, offerBody(report, offers), timeoutMs, OFFER_PATH);
  if (offered.kind === 'retry') return { ...offered, protocol: 'v2' };
  if (offered.kind === 'rejected') {
    if (noRoute(offered)) noV2.set(target.server, Date.now() + NO_V2_MS);
    return v1(target, body, timeoutMs, noRoute(offered) ? 'the backend has no protocol v2' : offered.reason);
  }
  const answer = offered.body as { status?: unknown; need?: unknown; offer?: unknown } | null;
  if (answer?.status === 'done') return { ...offered, protocol: 'v2', sentServers: 0 };
  if (!answer || !Array.isArray(answer.need) || typeof answer.offer !== 'string') return v1(target, body, timeoutMs, 'the offer answer was not understood');

  const need = new Set(answer.need.filter((k): k is string => typeof k === 'string'));
  let sent = 0;
  const servers = report.servers.map((s, i) => {
    const o = offers[i]!;
    if (need.has(o.key)) {
      sent++;
      return s;
    }
    return { ref: o.key, hash: o.hash };
  });
  const outcome = await sendReport(target, JSON.stringify({ ...report, servers, offer: answer.offer }), timeoutMs, REPORT_V2_PATH);
  // the backend no longer holds what was referenced (409), or lost the route since the offer
  if (outcome.kind === 'rejected' && (outcome.status === 409 || noRoute(outcome))) return v1(target, body, timeoutMs, outcome.reason);
  return { ...outcome, protocol: 'v2', sentServers: sent };
}
