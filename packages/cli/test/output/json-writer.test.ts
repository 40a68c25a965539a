// writeJson writes `scan --json` in pieces; the bytes must be exactly renderJson's, whatever the
// report holds (empty arrays, nested values, characters beyond Latin-1, keys to escape).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ScanReport } from '@palisade/core';
import { renderJson, writeJson } from '../../src/output/index.js';

function written(value: object, chunk?: number): { text: string; pieces: number } {
  const pieces: string[] = [];
  writeJson(value, (p) => pieces.push(p), chunk);
  return { text: pieces.join(''), pieces: pieces.length };
}

describe('writeJson', () => {
  it('writes what renderJson returns, for any JSON object and any piece size', () => {
    const value = fc.jsonValue({ maxDepth: 4 });
    const topLevel = fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(value, fc.array(value, { maxLength: 5 }), fc.constant(undefined)), { maxKeys: 6 });
    fc.assert(
      fc.property(topLevel, fc.integer({ min: 1, max: 200 }), (report, chunk) => {
        expect(written(report, chunk).text).toBe(renderJson(report as unknown as ScanReport));
      }),
      { numRuns: 500 },
    );
  });

  it('a report with a clipped value (…), unicode and quotes in keys, empty arrays, in several pieces', () => {
    const report = {
      schemaVersion: 1,
      clients: [],
      servers: Array.from({ length: 50 }, (_, i) => ({ id: `s${i}`, name: `srv-${i}…`, args: ['-y', 'é', '"q"'], env: {}, findings: [{ ruleId: 'PAL-C001', message: 'line\nbreak\u2028' }], 'odd"key': undefined })),
      findings: [undefined, null, 'x'],
      summary: { servers: 50 },
    };
    const out = written(report, 1000);
    expect(out.text).toBe(renderJson(report as unknown as ScanReport));
    expect(out.pieces).toBeGreaterThan(1);
  });

  it('leaves objects JSON.stringify treats specially to it', () => {
    const withToJson = { toJSON: () => ({ a: [1] }) };
    expect(written(withToJson).text).toBe(`${JSON.stringify(withToJson, null, 2)}\n`);
    expect(written({}).text).toBe('{}\n');
  });
});
