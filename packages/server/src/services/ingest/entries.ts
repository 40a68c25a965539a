// Protocol v2 (offer.ts): what the backend keeps of a processed report for its host's next
// offer: each server's instance key and content hash (core offer.ts) and the report's offer
// hash. Pure CPU (a canonical JSON and a sha256 per server), so accept's worker threads
// (parse-pool.ts) compute it with the rest of a body's hashes, off the thread that holds the
// database connection; the pipeline computes it itself when it was not given.
import { instanceKey, offerHash, serverContentHash, type ScanReport } from '@palisade/core';

export interface EntriesPlan {
  /** instance key of each server, in the report's order */
  keys: string[];
  /** content hash of each server, in the report's order */
  hashes: string[];
  offerHash: string;
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
  return { keys, hashes, offerHash: offerHash(report, keys.map((key, i) => ({ key, hash: hashes[i]! }))) };
}
