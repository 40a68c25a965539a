// Severity of an advisory, from its CVSS data: critical for 9.0+ or known exploited (CISA KEV),
// high 7.0+, medium 4.0+, low otherwise. Which number is used is reported as `basis`.
import type { Severity } from '../model.js';
import { approximateCvss4, cvss3BaseScore } from './cvss.js';
import type { OsvRecord, OsvSeverity } from './osv.js';

export interface AdvisorySeverity {
  severity: Exclude<Severity, 'info'>;
  /** the score behind it, when one is known */
  score?: number;
  /** how it was decided: `CVSS:3.1 9.6`, `database: HIGH`, `CVSS:4.0 ~9.5 (approximation)`, `known exploited`, `unknown` */
  basis: string;
  knownExploited: boolean;
}

export function severityFromScore(score: number): Exclude<Severity, 'info'> {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}

const WORD: Record<string, Exclude<Severity, 'info'>> = { CRITICAL: 'critical', HIGH: 'high', MODERATE: 'medium', MEDIUM: 'medium', LOW: 'low' };

function allSeverities(record: OsvRecord): OsvSeverity[] {
  return [...(record.severity ?? []), ...(record.affected ?? []).flatMap((a) => a.severity ?? [])];
}

function statedSeverity(record: OsvRecord): Exclude<Severity, 'info'> | undefined {
  const candidates: unknown[] = [record.database_specific?.severity, ...(record.affected ?? []).flatMap((a) => [a.database_specific?.severity, a.ecosystem_specific?.severity])];
  for (const c of candidates) if (typeof c === 'string' && WORD[c.toUpperCase()]) return WORD[c.toUpperCase()];
  return undefined;
}

/** Decide an advisory's severity; `knownExploited` (from the KEV catalog) makes it critical. */
export function advisorySeverity(record: OsvRecord, knownExploited = false): AdvisorySeverity {
  const base = baseSeverity(record);
  if (knownExploited) return { ...base, severity: 'critical', basis: `known exploited (CISA KEV); ${base.basis}`, knownExploited: true };
  return base;
}

function baseSeverity(record: OsvRecord): AdvisorySeverity {
  const sev = allSeverities(record);
  let best: number | undefined;
  let bestVector = '';
  for (const s of sev) {
    if (s.type !== 'CVSS_V3') continue;
    const score = cvss3BaseScore(s.score);
    if (score !== undefined && (best === undefined || score > best)) {
      best = score;
      bestVector = s.score.slice(0, 8);
    }
  }
  if (best !== undefined) return { severity: severityFromScore(best), score: best, basis: `${bestVector} ${best.toFixed(1)}`, knownExploited: false };
  const stated = statedSeverity(record);
  if (stated) return { severity: stated, basis: `database: ${stated}`, knownExploited: false };
  for (const s of sev) {
    if (s.type !== 'CVSS_V4') continue;
    const approx = approximateCvss4(s.score);
    if (approx !== undefined) return { severity: severityFromScore(approx), score: approx, basis: `CVSS:4.0 ~${approx.toFixed(1)} (approximation)`, knownExploited: false };
  }
  return { severity: 'medium', basis: 'unknown (no CVSS data; assumed medium)', knownExploited: false };
}
