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
  const problems: Severity[] = [];
  const byRule = new Map<string, Severity>();
  for (const f of findings) {
    if (!Object.hasOwn(severityRank, f.severity)) continue;
    if (typeof f.ruleId !== 'string') problems.push(f.severity);
    else {
      const seen = byRule.get(f.ruleId);
      if (seen === undefined || severityRank[f.severity] > severityRank[seen]) byRule.set(f.ruleId, f.severity);
    }
  }
  problems.push(...byRule.values());
  if (problems.length === 0) return { score: 0, level: 'none' };
  problems.sort((a, b) => severityRank[b] - severityRank[a]);
  const worst = problems[0]!;
  let score = BASE[worst];
  for (const severity of problems.slice(1)) score += EXTRA[severity];
  score = Math.min(score, CEILING[worst]);
  return { score, level: levelForScore(score) };
}
