// Properties of the other core parsers that take outside input: hidden-Unicode and ANSI
// handling of tool text (from any MCP server), OSV records and CVSS vectors (from advisory
// feeds), and the canonical JSON that tool pins hash. None may throw on any input.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  advisorySeverity,
  approximateCvss4,
  canonicalJson,
  cvss3BaseScore,
  escapeInvisible,
  findAnsiEscapes,
  findHiddenUnicode,
  hashJson,
  parseOsvRecord,
  revealHiddenText,
  stripAnsi,
} from '@palisade/core';

const RUNS = { seed: 42, numRuns: 200 };

const hiddenBits = fc.constantFrom('\u200b', '\u200d', '\u202e', '\u2066', '\u{E0041}', '\u{E0069}', '\u{E007F}', '\u{E0100}', '\u00ad', '\u001b[8m', '\u001b]0;x\u0007', '\u009b2J', '\u001b', '\u{1F3F4}', '\u{1F600}', 'a', ' ', 'ignore');
const toolText = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.array(fc.oneof(hiddenBits, fc.string({ maxLength: 4 })), { maxLength: 20 }).map((a) => a.join('')));

describe('hidden text in tool descriptions', () => {
  it('never throws, and the revealed text holds no hidden character and no ANSI escape', () => {
    fc.assert(
      fc.property(toolText, (t) => {
        const report = findHiddenUnicode(t);
        expect(report.chars.length).toBeGreaterThanOrEqual(0);
        const shown = revealHiddenText(t);
        // what a model reads has nothing left to hide in
        expect(findHiddenUnicode(shown).chars).toEqual([]);
        expect(findAnsiEscapes(stripAnsi(t))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('escapeInvisible leaves no control or hidden character to render', () => {
    fc.assert(
      fc.property(toolText, (t) => {
        const shown = escapeInvisible(t);
        expect(findHiddenUnicode(shown).chars).toEqual([]);
        // eslint-disable-next-line no-control-regex
        expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }),
      RUNS,
    );
  });
});

describe('advisory feeds', () => {
  it('parseOsvRecord never throws on any JSON value and explains every refusal', () => {
    const osvish = fc.record({ id: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), modified: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 10 })), affected: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }), severity: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), osvish), (v) => {
        const r = parseOsvRecord(v);
        if (r.ok) expect(() => advisorySeverity(r.record)).not.toThrow();
        else expect(r.reason.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  const metric = (name: string, values: string) => fc.constantFrom(...values.split('')).map((v) => `${name}:${v}`);
  const cvss31 = fc.tuple(metric('AV', 'NALP'), metric('AC', 'LH'), metric('PR', 'NLH'), metric('UI', 'NR'), metric('S', 'UC'), metric('C', 'NLH'), metric('I', 'NLH'), metric('A', 'NLH')).map((m) => `CVSS:3.1/${m.join('/')}`);

  it('CVSS 3.1 vectors score within 0..10 in tenths; garbage scores nothing and never throws', () => {
    fc.assert(
      fc.property(cvss31, (v) => {
        const s = cvss3BaseScore(v);
        expect(s).toBeDefined();
        expect(s!).toBeGreaterThanOrEqual(0);
        expect(s!).toBeLessThanOrEqual(10);
        expect(Math.round(s! * 10)).toBeCloseTo(s! * 10, 6);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), cvss31.map((v) => v.replace(/\/[A-Z]+:[A-Z]$/, '')), cvss31.map((v) => v.replace('CVSS:3.1', 'CVSS:4.0'))), (v) => {
        const s = cvss3BaseScore(v);
        if (s !== undefined) expect(s >= 0 && s <= 10).toBe(true);
        const s4 = approximateCvss4(v);
        if (s4 !== undefined) expect(s4 >= 0 && s4 <= 10).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('canonical JSON (tool pins)', () => {
  it('does not depend on key order and round-trips through JSON', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(hashJson(reversed)).toBe(hashJson(obj));
        expect(canonicalJson(JSON.parse(canonicalJson(obj)))).toBe(canonicalJson(obj));
      }),
      RUNS,
    );
  });
});
