// The typosquat check's shortcuts give the answers of the plain computation: the ASCII count
// table against counting code points in a Map, and the memo of names judged against the
// built-in list against judging the name against a copy of that list.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findTyposquat, WELL_KNOWN_MCP_PACKAGES } from '@palisade/core';
import { bagDistance } from '../../src/typosquat.js';

function mapBagDistance(a: string, b: string): number {
  const counts = new Map<string, number>();
  for (const c of a) counts.set(c, (counts.get(c) ?? 0) + 1);
  let missing = 0;
  for (const c of b) {
    const n = counts.get(c) ?? 0;
    if (n > 0) counts.set(c, n - 1);
    else missing++;
  }
  let extra = 0;
  for (const n of counts.values()) extra += n;
  return Math.max(missing, extra);
}

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom(...WELL_KNOWN_MCP_PACKAGES.npm.slice(0, 20)));

describe('typosquat shortcuts', () => {
  it('bag distance: the same as counting code points in a map', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(bagDistance(a, b)).toBe(mapBagDistance(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('names judged against the built-in list: the same as against a copy of it, in objects of their own', () => {
    const near = fc.constantFrom(...WELL_KNOWN_MCP_PACKAGES.npm).chain((n) => fc.tuple(fc.constant(n), fc.nat(n.length), fc.constantFrom('', 'x', '-', 'о')).map(([name, at, ch]) => name.slice(0, at) + ch + name.slice(at + 1)));
    fc.assert(
      fc.property(fc.oneof(near, text), fc.constantFrom('npm' as const, 'PyPI' as const), (name, eco) => {
        const first = findTyposquat(name, eco);
        expect(first).toEqual(findTyposquat(name, eco, [...WELL_KNOWN_MCP_PACKAGES[eco]]));
        const again = findTyposquat(name, eco);
        expect(again).toEqual(first);
        if (first) expect(again).not.toBe(first);
      }),
      { numRuns: 500 },
    );
  });
});
