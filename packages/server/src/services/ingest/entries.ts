// Protocol v2 (offer.ts): what the backend keeps of a processed report for its host's next
// offer: each server's instance key and content hash (core offer.ts) and the report's offer
// hash. Pure CPU (a canonical JSON and a sha256 per server), so accept's worker threads
// (parse-pool.ts) compute it with the rest of a body's hashes, off the thread that holds the
// database connection; the pipeline computes it itself when it was not given.
import { instanceKey, offerBody, offerHash, serverContentHash, sha256, type ScanReport } from '@palisade/core';

export interface EntriesPlan {
  /** instance key of each server, in the report's order */
  keys: string[];
  /** content hash of each server, in the report's order */
  hashes: string[];
  offerHash: string;
  /** sha256 of the offer's body as the agent sends it (core offerBody) with its scan time blanked: the same offer recognised from its bytes (routes/ingest.ts rawBodyKey) */
  offerRawKey: string;
}

/** The plan of a (redacted) report; null when two of its servers share a key (nothing is kept for such a report). */
export function planEntries(report: ScanReport): EntriesPlan | null {
  const keys: string[] = [];
  const hashes: string[] = [];
  const seen = new Set<string>();
  for (const s of report.servers) {
    const key = instanceKey(s);
    if (seen.has(key)) return null;
    seen.add(key);
    keys.push(key);
    hashes.push(serverContentHash(s));
  }
  const offers = keys.map((key, i) => ({ key, hash: hashes[i]! }));
  return { keys, hashes, offerHash: offerHash(report, offers), offerRawKey: sha256(offerBody({ ...report, scannedAt: '' }, offers)) };
}
