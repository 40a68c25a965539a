import type { Finding, Level, Severity } from './model.js';
import { severityRank } from './model.js';

/** Level thresholds from the product contract: critical >= 85, high >= 60, medium >= 30, low > 0. */
export function levelForScore(score: number): Level {
  if (score >= 85) return 'critical';
  if (score >= 60) return 'high';
  if (score >= 30) return 'medium';
  if (score > 0) return 'low';
  return 'none';
}

const BASE: Record<Severity, number> = { critical: 90, high: 65, medium: 35, low: 10, info: 0 };
const EXTRA: Record<Severity, number> = { critical: 5, high: 4, medium: 2, low: 1, info: 0 };
// More findings raise a score inside its band; only a worse finding moves it to a higher band.
const CEILING: Record<Severity, number> = { critical: 100, high: 84, medium: 59, low: 29, info: 0 };

/**
 * Score a server 0..100 from its findings. Deterministic and order-independent: the worst
 * finding sets the base, every other problem adds a little, capped inside the worst one's band.
 * Findings of one rule count as one problem (at their worst severity), so a server with forty
 * file-writing tools does not outscore one with a single, different flaw.
 */
export function scoreFindings(findings: readonly (Pick<Finding, 'severity'> & Partial<Pick<Finding, 'ruleId'>>)[]): { score: number; level: Level } {
  if (findings.length === 0) return { score: 0, level: 'none' };
  if (findings.length === 1) {
    // one finding is one problem: its severity's base score (what the loop below gives)
    const severity = findings[0]!.severity;
    if (!Object.hasOwn(severityRank, severity)) return { score: 0, level: 'none' };
    const score = Math.min(BASE[severity], CEILING[severity]);
    return { score, level: levelForScore(score) };
  }
  // one problem per rule at its worst severity (a finding without a rule id is one of its own);
  // the worst problem sets the base and each of the others adds its extra. Worked out in one
  // pass over short lists (no map, no sort: a scan scores every server this way)
  const ruleIds: Array<string | undefined> = [];
  const problems: Severity[] = [];
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i]!;
    if (!Object.hasOwn(severityRank, f.severity)) continue;
    const at = typeof f.ruleId === 'string' ? ruleIds.indexOf(f.ruleId) : -1;
    if (at < 0) {
      // a finding without a rule id never matches another (its slot holds no id)
      ruleIds.push(typeof f.ruleId === 'string' ? f.ruleId : undefined);
      problems.push(f.severity);
    } else if (severityRank[f.severity] > severityRank[problems[at]!]) problems[at] = f.severity;
  }
  if (problems.length === 0) return { score: 0, level: 'none' };
  let worst = problems[0]!;
  let extras = 0;
  for (let i = 0; i < problems.length; i++) {
    const severity = problems[i]!;
    extras += EXTRA[severity];
    if (severityRank[severity] > severityRank[worst]) worst = severity;
  }
  const score = Math.min(BASE[worst] + extras - EXTRA[worst], CEILING[worst]);
  return { score, level: levelForScore(score) };
}
