// Stage 1, validate (services/ingest/validate.ts): a raw body's limits and schema, the keys that
// recognise a re-sent report (raw key: only the scan time differs; body hash: the same bytes),
// and the host key. No I/O.
import { describe, expect, it } from 'vitest';
import { bodyHash, contentHash, hostKey, parseReportText, rawReportKey, ReportRejected } from '../../src/services/ingest/validate.js';
import { report, server } from '../inventory/fixtures.js';

const body = (at: string) => JSON.stringify(report([server({ name: 'v-a' })], {}, at));

describe('validate stage', () => {
  it('parses a valid report and refuses bad bodies with a clear code, whatever they hold', () => {
    expect(parseReportText(body('2026-11-20T10:00:00.000Z')).servers[0]!.name).toBe('v-a');
    const refused = (text: string) => {
      try {
        parseReportText(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ReportRejected);
        return (err as ReportRejected).code;
      }
      return 'accepted';
    };
    expect(refused('{not json')).toBe('invalid_json');
    expect(refused('['.repeat(100) + ']'.repeat(100))).toBe('too_deep');
    expect(refused(JSON.stringify({ schemaVersion: 1 }))).toBe('invalid_report');
    // a field the contract does not know is refused, not dropped
    expect(refused(JSON.stringify({ ...report([server({ name: 'v-a' })]), extra: 1 }))).toBe('invalid_report');
  });

  it('gives the same raw key to bodies that differ only in their scan time, and another to any other change', () => {
    const a = rawReportKey(body('2026-11-20T10:00:00.000Z'))!;
    const b = rawReportKey(body('2026-11-20T10:15:00.000Z'))!;
    expect(a.key).toBe(b.key);
    expect(a.scannedAt).toBe('2026-11-20T10:00:00.000Z');
    expect(b.scannedAt).toBe('2026-11-20T10:15:00.000Z');
    expect(rawReportKey(JSON.stringify(report([server({ name: 'v-b' })], {}, '2026-11-20T10:00:00.000Z')))!.key).not.toBe(a.key);
    // no (well-formed) scan time: no key, the body is parsed
    expect(rawReportKey('{"servers":[]}')).toBeNull();
    expect(rawReportKey('{"scannedAt":"yesterday"}')).toBeNull();
  });

  it('hashes exact bodies for idempotency and names the host by hostname and user', () => {
    expect(bodyHash(body('2026-11-20T10:00:00.000Z'))).toBe(bodyHash(body('2026-11-20T10:00:00.000Z')));
    expect(bodyHash(body('2026-11-20T10:00:00.000Z'))).not.toBe(bodyHash(body('2026-11-20T10:15:00.000Z')));
    expect(hostKey(report([], { hostname: 'h1', user: 'bob' }))).toBe('h1|bob');
  });

  it('gives reports with the same content the same content hash (scan time, summary and scores aside)', () => {
    const a = report([server({ name: 'v-a' })], {}, '2026-11-20T10:00:00.000Z');
    const b = { ...report([server({ name: 'v-a', score: 50, level: 'medium' as const })], {}, '2026-11-21T00:00:00.000Z'), summary: { ...a.summary, findings: 3 } };
    expect(contentHash(b)).toBe(contentHash(a));
    expect(contentHash(report([server({ name: 'v-a', envNames: ['TOKEN'] })]))).not.toBe(contentHash(a));
  });
});
