// Property: range matching agrees with the OSV specification's reference algorithm (sort the
// events, walk them, introduced sets affected, fixed clears at >=, last_affected clears at >)
// on generated ranges made of ordered, non-overlapping intervals.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, isVersionAffected, type OsvRecord } from '@palisade/core';

const version = fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4)).map(([a, b, c]) => `${a}.${b}.${c}`);

type Ev = { introduced: string } | { fixed: string } | { last_affected: string };

function reference(events: Ev[], v: string): boolean {
  const key = (e: Ev) => ('introduced' in e ? e.introduced : 'fixed' in e ? e.fixed : e.last_affected);
  const sorted = [...events].sort((a, b) => (key(a) === '0' ? -1 : key(b) === '0' ? 1 : compareVersions('npm', key(a), key(b))!));
  let affected = false;
  for (const e of sorted) {
    if ('introduced' in e && (e.introduced === '0' || compareVersions('npm', v, e.introduced)! >= 0)) affected = true;
    else if ('fixed' in e && compareVersions('npm', v, e.fixed)! >= 0) affected = false;
    else if ('last_affected' in e && compareVersions('npm', v, e.last_affected)! > 0) affected = false;
  }
  return affected;
}

// strictly increasing distinct versions, paired into intervals; the last may stay open
const ranges = fc.uniqueArray(version, { minLength: 1, maxLength: 7 }).chain((vs) => {
  const sorted = [...vs].sort((a, b) => compareVersions('npm', a, b)!);
  return fc.tuple(fc.constant(sorted), fc.array(fc.boolean(), { minLength: sorted.length, maxLength: sorted.length }), fc.boolean());
});

describe('OSV range matching (property)', () => {
  it('matches the reference algorithm', () => {
    fc.assert(
      fc.property(ranges, version, ([points, kinds, fromZero], v) => {
        const events: Ev[] = [];
        for (let i = 0; i < points.length; i++) {
          const p = points[i]!;
          if (i % 2 === 0) events.push(i === 0 && fromZero ? { introduced: '0' } : { introduced: p });
          else events.push(kinds[i] ? { fixed: p } : { last_affected: p });
        }
        const rec: OsvRecord = { id: 'PROP-1', modified: '2025-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'p' }, ranges: [{ type: 'SEMVER', events: [...events].reverse() }] }] };
        expect(isVersionAffected(rec, 'npm', 'p', v).affected).toBe(reference(events, v));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
