// Stage 2, normalise (services/ingest/normalise.ts): core's redaction as the second wall, then
// each server scrubbed, keyed and fingerprinted, the first of each instance key only. No I/O.
import { describe, expect, it } from 'vitest';
import { normaliseServers, redacted, redactedSliced, searchText } from '../../src/services/ingest/normalise.js';
import { report, server } from '../inventory/fixtures.js';

describe('normalise stage', () => {
  it('redacts a secret an old or hostile agent left in a report (made-up test value)', () => {
    const secret = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    const r = report([server({ name: 'n-a', args: ['--token', secret], url: null })]);
    const out = JSON.stringify(redacted(r));
    expect(out).not.toContain(secret);
    // redaction is stable: a redacted report redacts to itself
    expect(JSON.stringify(redacted(redacted(r)))).toBe(out);
  });

  it('redacts a large report a slice of servers at a time into the same report, byte for byte (made-up test values)', async () => {
    const secret = (i: number) => 'ghp_' + `A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r${i % 10}`;
    const servers = Array.from({ length: 300 }, (_, i) =>
      server({
        name: `slice-${i}`,
        args: ['--token', secret(i)],
        findings: [{ ruleId: 'PAL-X001', severity: 'low', title: `t ${secret(i)}`, message: `m ${secret(i)}`, evidence: `e ${secret(i)}` }],
      }),
    );
    const r = { ...report(servers, { hostname: `host ${secret(1)}` }), findings: [{ ruleId: 'PAL-F001', severity: 'high' as const, title: 't', message: `m ${secret(2)}`, evidence: 'e', servers: [] }] };
    const whole = JSON.stringify(redacted(r));
    const sliced = JSON.stringify(await redactedSliced(r, 64));
    expect(sliced).toBe(whole);
    expect(sliced).not.toContain(secret(3));
    // a report of one slice or less: the same function
    expect(JSON.stringify(await redactedSliced(r, 1000))).toBe(whole);
  });

  it('keys and fingerprints each server, keeping the first of each instance key', () => {
    const a = server({ name: 'n-a' });
    const prepared = normaliseServers(report([a, { ...a, args: ['-y', '@example/other@2.0.0'] }, server({ name: 'n-b' })]));
    expect(prepared.map((p) => p.server.name)).toEqual(['n-a', 'n-b']);
    expect(prepared[0]!.server.args).toEqual(a.args);
    expect(new Set(prepared.map((p) => p.key)).size).toBe(2);
    expect(new Set(prepared.map((p) => p.fingerprint)).size).toBe(2);
    // the same definition on another client is another instance of the same fingerprint
    const other = normaliseServers(report([{ ...a, client: 'cursor', id: 'other-id' }]))[0]!;
    expect(other.fingerprint).toBe(prepared[0]!.fingerprint);
    expect(other.key).not.toBe(prepared[0]!.key);
  });

  it('builds bounded, lower-case search text from the parts it is given', () => {
    expect(searchText('Laptop-1', null, 'Alice', undefined)).toBe('laptop-1 alice');
    expect(searchText('x'.repeat(5000)).length).toBe(2048);
  });
});
