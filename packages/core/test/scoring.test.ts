import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { levelForScore, scoreFindings, severityRank, type Severity } from '@palisade/core';

// The scoring rule written out the plain way (one problem per rule at its worst severity, sorted
// worst first, the base of the first plus the extra of each other, capped in the worst's band):
// scoreFindings must give exactly this for any list.
const BASE: Record<Severity, number> = { critical: 90, high: 65, medium: 35, low: 10, info: 0 };
const EXTRA: Record<Severity, number> = { critical: 5, high: 4, medium: 2, low: 1, info: 0 };
const CEILING: Record<Severity, number> = { critical: 100, high: 84, medium: 59, low: 29, info: 0 };
function reference(findings: Array<{ severity: string; ruleId?: string }>): { score: number; level: string } {
  const problems: Severity[] = [];
  const byRule = new Map<string, Severity>();
  for (const f of findings) {
    if (!Object.hasOwn(severityRank, f.severity)) continue;
    const sev = f.severity as Severity;
    if (typeof f.ruleId !== 'string') problems.push(sev);
    else if (!byRule.has(f.ruleId) || severityRank[sev] > severityRank[byRule.get(f.ruleId)!]) byRule.set(f.ruleId, sev);
  }
  problems.push(...byRule.values());
  if (problems.length === 0) return { score: 0, level: 'none' };
  problems.sort((a, b) => severityRank[b] - severityRank[a]);
  let score = BASE[problems[0]!];
  for (const sev of problems.slice(1)) score += EXTRA[sev];
  score = Math.min(score, CEILING[problems[0]!]);
  return { score, level: levelForScore(score) };
}

describe('scoring', () => {
  it('maps scores to levels at the documented thresholds', () => {
    expect(levelForScore(0)).toBe('none');
    expect(levelForScore(1)).toBe('low');
    expect(levelForScore(29)).toBe('low');
    expect(levelForScore(30)).toBe('medium');
    expect(levelForScore(59)).toBe('medium');
    expect(levelForScore(60)).toBe('high');
    expect(levelForScore(84)).toBe('high');
    expect(levelForScore(85)).toBe('critical');
    expect(levelForScore(100)).toBe('critical');
  });

  it('is order independent and stays inside the worst finding band', () => {
    const many = Array.from({ length: 40 }, () => ({ severity: 'medium' as const }));
    expect(scoreFindings(many)).toEqual({ score: 59, level: 'medium' });
    const a = scoreFindings([{ severity: 'high' }, { severity: 'low' }, { severity: 'critical' }]);
    const b = scoreFindings([{ severity: 'critical' }, { severity: 'high' }, { severity: 'low' }]);
    expect(a).toEqual(b);
    expect(a.level).toBe('critical');
    expect(scoreFindings([])).toEqual({ score: 0, level: 'none' });
  });

  it('gives the plain rule score for any list: repeated rules, findings without a rule id, unknown severities', () => {
    const finding = fc.record(
      { severity: fc.constantFrom('critical', 'high', 'medium', 'low', 'info', 'bogus', '__proto__'), ruleId: fc.constantFrom('PAL-C001', 'PAL-C002', 'PAL-T001', 'PAL-F001', 'x') },
      { requiredKeys: ['severity'] },
    );
    fc.assert(
      fc.property(fc.array(finding, { maxLength: 30 }), (findings) => {
        expect(scoreFindings(findings as Parameters<typeof scoreFindings>[0])).toEqual(reference(findings));
      }),
      { numRuns: 2000 },
    );
  });
});
