import type { Rule, ScoredServer } from '@palisade/core';
import type { OrgScope, Tx } from '../../db/index.js';
import type { KnownTools } from '../rescore.js';
import type { EntriesPlan } from './entries.js';
import type { Prepared } from './normalise.js';

/**
 * A large report's CPU work done before its transaction (pipeline.ts prescore): its servers
 * normalised and re-scored against what the database held then. The transaction uses the
 * scores only when what it reads is the same (the rug-pull baseline of every definition and
 * the advisories), else it re-scores as usual: the result is the same either way.
 */
export interface Prescored {
  /** normaliseServers() of the report (servers scrubbed, not re-scored) */
  normalised: readonly Prepared[];
  /** the re-scored server of each normalised one */
  servers: readonly ScoredServer[];
  /** what they were scored against */
  knownTools: KnownTools;
  advisories: string;
}

export interface IngestResult {
  reportId: string | null;
  hostId: string;
  unchanged: boolean;
  servers: number;
  events: number;
  alerts: number;
}

export interface IngestOptions {
  agentKeyId?: string | null;
  /** rawReportKey() of the body this report was parsed from, remembered for the fast path */
  rawKey?: string | null;
  /**
   * the report went through core's redactReport already (the queue redacts every body at
   * accept, before it reaches the inbox), so the pipeline does not run it a second time
   */
  redacted?: boolean;
  /** the id the stored report gets (the inbox id, so a report is stored at most once) */
  reportId?: string;
  now?: Date;
  /** the rules to score with; the full core set unless a test narrows it */
  rules?: readonly Rule[];
  /** protocol v2: the report's server keys, content hashes and offer hash, computed at accept (entries.ts); computed in the transaction when undefined */
  hostEntries?: EntriesPlan | null;
  /** the report normalised and re-scored before its transaction (a large report; see Prescored) */
  prescored?: Prescored;
  /** runs inside the transaction after a changed report is stored (the audit entry) */
  afterWrite?: (tx: Tx, result: IngestResult) => Promise<void>;
  /** called after commit when alerts were raised (the webhook dispatcher listens) */
  onAlerts?: (scope: OrgScope, count: number) => void;
}
