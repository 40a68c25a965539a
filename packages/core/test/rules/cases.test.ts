// Runs every registered rule against its own case table (the RuleTester idea): valid cases
// report nothing, invalid cases report at least one finding matching the case's expectations.
import { describe, expect, it } from 'vitest';
import { allRules, runRuleCase, severities, type Rule } from '@palisade/core';

const ID = /^PAL-[CTFV]\d{3}$/;
const PREFIX: Record<string, string> = { config: 'C', tool: 'T', flow: 'F', advisory: 'V' };

describe('rule registry', () => {
  it('has unique ids', () => {
    const ids = allRules.map((r) => r.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has every rule named in the product brief', () => {
    const ids = new Set(allRules.map((r) => r.meta.id));
    for (let i = 1; i <= 13; i++) expect(ids.has(`PAL-C${String(i).padStart(3, '0')}`)).toBe(true);
    for (let i = 1; i <= 8; i++) expect(ids.has(`PAL-T${String(i).padStart(3, '0')}`)).toBe(true);
    expect(ids.has('PAL-F001')).toBe(true);
  });
});

describe.each(allRules.map((r) => [r.meta.id, r] as const))('%s', (_id, rule: Rule) => {
  it('has complete metadata', () => {
    const m = rule.meta;
    expect(m.id).toMatch(ID);
    expect(m.id[4]).toBe(PREFIX[m.category]);
    expect(severities).toContain(m.severity);
    expect(m.title.length).toBeGreaterThan(5);
    expect(m.rationale.length).toBeGreaterThan(60);
    expect(m.remediation.length).toBeGreaterThan(40);
    expect(m.rationale).toMatch(/[.!]$/);
  });

  it('has at least two valid and two invalid cases', () => {
    expect(rule.cases?.valid.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(rule.cases?.invalid.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  for (const c of rule.cases?.valid ?? []) {
    it(`valid: ${c.name}`, () => {
      expect(runRuleCase(rule, c)).toEqual([]);
    });
  }

  for (const c of rule.cases?.invalid ?? []) {
    it(`invalid: ${c.name}`, () => {
      const hits = runRuleCase(rule, c);
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) {
        expect(h.message.length).toBeGreaterThan(20);
        expect(h.message).toMatch(/[.!]$/);
        expect(h.evidence.length).toBeGreaterThan(0);
      }
      if (c.severity) expect(hits.map((h) => h.severity)).toContain(c.severity);
      if (c.evidence !== undefined) {
        const ev = c.evidence;
        const ok = hits.some((h) => (typeof ev === 'string' ? h.evidence.includes(ev) : ev.test(h.evidence)));
        expect(ok, `evidence ${String(ev)} not in ${JSON.stringify(hits.map((h) => h.evidence))}`).toBe(true);
      }
      if (rule.kind === 'scan') for (const h of hits) expect(h.servers?.length).toBeGreaterThan(0);
    });
  }
});
