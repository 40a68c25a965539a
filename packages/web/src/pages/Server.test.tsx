// The server page's verdict helpers: findings grouped by rule (occurrences kept, worst first)
// and the top three reasons, cross-server findings counted once.
// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { CrossFinding, ServerFinding } from '../api/types';
import { groupFindings, verdictReasons } from './Server';

const f = (ruleId: string, severity: ServerFinding['severity'], title: string, evidence: string, hostCount = 1): ServerFinding => ({ ruleId, severity, title, message: `${title}: ${evidence}`, evidence, hostCount, firstSeen: '2026-12-01T00:00:00.000Z', rationale: 'Why `it` matters.', remediation: null });

describe('server verdict', () => {
  const findings = [
    f('PAL-C001', 'high', 'Unpinned package', 'npx pkg', 3),
    f('PAL-C002', 'critical', 'Shell inline code', 'bash -c a'),
    f('PAL-C002', 'critical', 'Shell inline code', 'bash -c b', 2),
    f('PAL-C003', 'medium', 'Secret in environment', 'TOKEN'),
    f('PAL-C004', 'low', 'Broad filesystem access', '/'),
    f('PAL-F001', 'high', 'Lethal trifecta', 'untrusted input: "fetch"'),
  ];

  it('groups occurrences by rule, worst first, and leaves cross-server rules to their own list', () => {
    const groups = groupFindings(findings, new Set(['PAL-F001']));
    expect(groups.map((g) => [g.ruleId, g.occurrences.length, g.hosts])).toEqual([
      ['PAL-C002', 2, 2],
      ['PAL-C001', 1, 3],
      ['PAL-C003', 1, 1],
      ['PAL-C004', 1, 1],
    ]);
  });

  it('gives the three worst distinct reasons, a cross-server finding among them', () => {
    const cross: CrossFinding[] = [{ ruleId: 'PAL-F001', severity: 'high', title: 'Lethal trifecta', message: 'm', evidence: 'e', client: 'cursor', hostCount: 1, servers: [], rationale: null, remediation: null }];
    expect(verdictReasons(groupFindings(findings, new Set(['PAL-F001'])), cross)).toEqual(['Shell inline code', 'Lethal trifecta', 'Unpinned package']);
    expect(verdictReasons([], [])).toEqual([]);
  });
});
