// writeJson writes `scan --json` in pieces; the bytes must be exactly renderJson's, whatever the
// report holds (empty arrays, nested values, characters beyond Latin-1, keys to escape); a
// piece once handed over is never written again, unless the writer says it is done with it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ScanReport } from '@palisade/core';
import { renderJson, writeJson } from '../../src/output/index.js';

function written(value: object, chunk?: number): { text: string; pieces: number } {
  const pieces: Buffer[] = [];
  // a copy of each piece as it is handed over: the writer must never change a piece afterwards
  const copies: Buffer[] = [];
  writeJson(value, (p) => {
    pieces.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    copies.push(Buffer.from(p));
  }, chunk);
  const text = Buffer.concat(pieces).toString('utf8');
  expect(text).toBe(Buffer.concat(copies).toString('utf8'));
  return { text, pieces: pieces.length };
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

  it('cuts the wrapper by bytes when a key holds characters beyond ASCII, and keeps a __proto__ key', () => {
    const report = { 'sérvers…': [{ a: 'é' }, { b: ['x'] }], ['__proto__']: [1, 2], tail: 'z' };
    Object.defineProperty(report, '__proto__', { value: [1, 2], enumerable: true, configurable: true, writable: true });
    for (const chunk of [1, 7, 1 << 16]) expect(written(report, chunk).text).toBe(renderJson(report as unknown as ScanReport));
  });

  it('writes a text larger than its buffer', () => {
    const report = { servers: [{ big: 'é'.repeat(300_000) }, { small: 1 }] };
    expect(written(report, 1024).text).toBe(renderJson(report as unknown as ScanReport));
  });

  it('uses its buffer again once the writer says it is done with every byte (a drained stream)', () => {
    const report = { servers: Array.from({ length: 3000 }, (_, i) => ({ id: `s${i}`, name: `srv-${i}…`, args: ['-y', `pkg-${i}@1.0.0`] })), summary: { n: 3000 } };
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    writeJson(report, (p) => {
      copies.push(Buffer.from(p));
      buffers.add(p.buffer);
      return true;
    }, 1024);
    expect(Buffer.concat(copies).toString('utf8')).toBe(renderJson(report as unknown as ScanReport));
    expect(copies.length).toBeGreaterThan(10);
    // every piece came from the first buffer (a stream that holds on to pieces gets new ones: above)
    expect(buffers.size).toBe(1);
  });

  it('gives the same bytes when the writer is done with some pieces and not others', () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    const topLevel = fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(value, fc.array(value, { maxLength: 8 })), { maxKeys: 5 });
    fc.assert(
      fc.property(topLevel, fc.integer({ min: 1, max: 120 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), (report, chunk, answers) => {
        const copies: Buffer[] = [];
        let n = 0;
        writeJson(report, (p) => {
          copies.push(Buffer.from(p));
          return answers[n++ % answers.length];
        }, chunk);
        expect(Buffer.concat(copies).toString('utf8')).toBe(renderJson(report as unknown as ScanReport));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves objects JSON.stringify treats specially to it', () => {
    const withToJson = { toJSON: () => ({ a: [1] }) };
    expect(written(withToJson).text).toBe(`${JSON.stringify(withToJson, null, 2)}\n`);
    expect(written({}).text).toBe('{}\n');
  });
});
