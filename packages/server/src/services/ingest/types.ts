import type { Rule } from '@palisade/core';
import type { OrgScope, Tx } from '../../db/index.js';

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
  /** runs inside the transaction after a changed report is stored (the audit entry) */
  afterWrite?: (tx: Tx, result: IngestResult) => Promise<void>;
  /** called after commit when alerts were raised (the webhook dispatcher listens) */
  onAlerts?: (scope: OrgScope, count: number) => void;
}
