// An unchanged re-scan is recognised in the body's bytes (touch.ts rawBodyKey) before it is
// decoded: the key must be the one the text path (validate.ts rawReportKey) stores and looks
// up, for every body, or null (then the text path decides; a miss only costs time).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawBodyKey } from '../../src/services/ingest/touch.js';
import { rawReportKey } from '../../src/services/ingest/validate.js';

const same = (text: string) => {
  const fromBytes = rawBodyKey(Buffer.from(text, 'utf8'));
  const fromText = rawReportKey(text);
  if (fromBytes) expect(fromBytes).toEqual(fromText);
  return { fromBytes, fromText };
};

describe('rawBodyKey', () => {
  it('gives the text path’s key for real report shapes, non-ASCII text before and after the field included', () => {
    for (const text of [
      JSON.stringify({ schemaVersion: 1, host: { hostname: 'ħøst-ünïcode-😀', user: 'zoë' }, scannedAt: '2026-12-05T03:00:00.000Z', servers: [{ name: 'сервер' }] }),
      '{"scannedAt":"2026-12-05T03:00:00Z","host":{"hostname":"a"}}',
      '{"a":"日本語","scannedAt" : "2026-12-05T03:00:00.123456789+02:00","b":"ß"}',
      '{\n  "scannedAt":\n\t"2026-12-05T03:00:00.1-05:30"\n}',
      // the first field is the one that counts, as in the text path
      '{"scannedAt":"2026-12-05T03:00:00Z","nested":{"scannedAt":"2026-12-06T03:00:00Z"}}',
    ]) {
      const { fromBytes, fromText } = same(text);
      expect(fromText).not.toBeNull();
      expect(fromBytes).not.toBeNull();
    }
  });

  it('is null where there is no well-formed scan time, as the text path is', () => {
    for (const text of ['{}', '{"scannedAt":1}', '{"scannedAt":"yesterday"}', '{"scannedAt":"2026-12-05"}', '', 'not json "scannedAt"']) {
      expect(rawBodyKey(Buffer.from(text))).toBeNull();
      expect(rawReportKey(text)).toBeNull();
    }
  });

  it('never disagrees with the text path on any body (property)', () => {
    const time = fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
    const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n', '\u00a0', '\u2028', '\ufeff');
    const body = fc.tuple(fc.string({ unit: 'grapheme' }), space, space, time, fc.string({ unit: 'grapheme' }), fc.boolean()).map(([before, s1, s2, t, after, field]) =>
      field ? `{"x":${JSON.stringify(before)},"scannedAt"${s1}:${s2}"${t}","y":${JSON.stringify(after)}}` : `${before}${after}`,
    );
    fc.assert(
      fc.property(body, (text) => {
        const { fromBytes, fromText } = same(text);
        // null from the bytes only where the text path needs its wider idea of whitespace
        if (!fromBytes && fromText) expect(text).toMatch(/[\u00a0\u2028\ufeff]/);
      }),
      { numRuns: 2000 },
    );
  });
});
