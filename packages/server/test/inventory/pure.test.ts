// The pure parts of the inventory: report limits, fingerprints, the host diff, webhook signing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonDepth, MAX_REPORT_DEPTH, parseReportText, ReportRejected } from '../../src/services/report-limits.js';
import { instanceKey, reportHash, reportPlatform, serverFingerprint } from '../../src/services/fingerprint.js';
import { rawReportKey } from '../../src/services/ingest.js';
import { diffHost, type InstanceState } from '../../src/services/diff.js';
import { signPayload, verifySignature } from '../../src/services/webhooks/sign.js';
import { retryDelayMs, MAX_ATTEMPTS } from '../../src/services/webhooks/send.js';
import { checkWebhookUrl } from '../../src/services/webhooks/url.js';
import { webhookBody } from '../../src/services/webhooks/payload.js';
import { scrubServer } from '../../src/services/sanitize.js';
import { report, server } from './fixtures.js';

describe('report limits', () => {
  it('measures nesting depth, ignoring brackets inside strings', () => {
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[[{{{{\\"[["}')).toBe(1);
    expect(jsonDepth('1')).toBe(0);
  });

  it('agrees with a recursive count on arbitrary JSON', () => {
    const depthOf = (v: unknown): number => (Array.isArray(v) ? 1 + Math.max(0, ...v.map(depthOf)) : v && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(jsonDepth(JSON.stringify(v))).toBe(depthOf(v));
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('stays linear on hostile strings (escaped quotes, long backslash runs)', () => {
    const t0 = Date.now();
    expect(jsonDepth('"' + '\\"'.repeat(1_000_000))).toBe(0);
    expect(jsonDepth('["' + '\\'.repeat(1_000_000) + '"]')).toBe(1);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('rejects deep nesting before parsing, and accepts a real report', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => parseReportText(deep)).toThrow(ReportRejected);
    try {
      parseReportText(`{"x":${'['.repeat(MAX_REPORT_DEPTH + 1)}${']'.repeat(MAX_REPORT_DEPTH + 1)}}`);
    } catch (e) {
      expect((e as ReportRejected).code).toBe('too_deep');
    }
    const ok = report([server({ name: 'files' })]);
    expect(parseReportText(JSON.stringify(ok)).servers[0]!.name).toBe('files');
  });

  it('rejects wrong schema versions and over-long strings with a sentence', () => {
    const bad = { ...report([]), schemaVersion: 2 };
    expect(() => parseReportText(JSON.stringify(bad))).toThrow(/schema version 1/);
    const long = report([server({ name: 'x'.repeat(600) })]);
    expect(() => parseReportText(JSON.stringify(long))).toThrow(ReportRejected);
    expect(() => parseReportText('{nope')).toThrow(/not valid JSON/);
  });
});

describe('fingerprints', () => {
  it('ignores where a server is configured, and the order of env and header names', () => {
    const a = server({ name: 'gh', envNames: ['B', 'A'] });
    const b = server({ name: 'gh', envNames: ['A', 'B'], client: 'cursor', configPath: '/other/mcp.json', scope: 'project', cwd: '/x' });
    expect(serverFingerprint(a)).toBe(serverFingerprint(b));
    expect(instanceKey(a)).not.toBe(instanceKey(b));
  });

  it('changes with the command, the arguments, the url or the package', () => {
    const a = server({ name: 'gh' });
    expect(serverFingerprint({ ...a, args: ['-y', '@example/gh@2.0.0'] })).not.toBe(serverFingerprint(a));
    expect(serverFingerprint({ ...a, command: 'bash' })).not.toBe(serverFingerprint(a));
    expect(serverFingerprint({ ...a, url: 'https://x.example/mcp' })).not.toBe(serverFingerprint(a));
  });

  it('hashes a report the same across scans when nothing but the scan time and scores changed', () => {
    const r1 = report([server({ name: 'a' })]);
    const r2 = { ...report([server({ name: 'a', score: 50, level: 'medium' as const })], {}, '2026-11-21T10:00:00.000Z') };
    expect(reportHash(r1)).toBe(reportHash(r2));
    expect(reportHash(report([server({ name: 'b' })]))).not.toBe(reportHash(r1));
  });

  it('reads the platform from the host os string', () => {
    expect(reportPlatform('darwin 24.1.0')).toBe('darwin');
    expect(reportPlatform('win32 10.0.22631')).toBe('win32');
    expect(reportPlatform('linux 6.8.0')).toBe('linux');
  });
});

describe('raw report key (the unchanged fast path)', () => {
  it('ignores only the first scannedAt value, which must be a well-formed time', () => {
    const a = JSON.stringify(report([server({ name: 'a' })]));
    const b = a.replace('2026-11-20T10:00:00.000Z', '2026-12-01T08:30:00.000Z');
    expect(rawReportKey(a)!.key).toBe(rawReportKey(b)!.key);
    expect(rawReportKey(b)!.scannedAt).toBe('2026-12-01T08:30:00.000Z');
    expect(rawReportKey(a.replace('"name":"a"', '"name":"b"'))!.key).not.toBe(rawReportKey(a)!.key);
    expect(rawReportKey(a.replace('2026-11-20T10:00:00.000Z', 'yesterday'))).toBeNull();
    expect(rawReportKey('{"x":1}')).toBeNull();
  });
});

describe('backend scrubbing (defence in depth)', () => {
  it('redacts literal secrets an agent failed to redact, and leaves redacted values alone', () => {
    // test fixture values, not real credentials
    const leaky = server({ name: 'gh', args: ['--token', 'ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234', '--api-key=<redacted:openai-key>'], url: 'https://user:pa55w0rd@example.test/mcp?key=abcdef123456' });
    const clean = scrubServer(leaky);
    expect(JSON.stringify(clean)).not.toContain('ghp_FAKE');
    expect(JSON.stringify(clean)).not.toContain('pa55w0rd');
    expect(clean.args[2]).toBe('--api-key=<redacted:openai-key>');
  });
});

describe('host diff', () => {
  const inst = (over: Partial<InstanceState> & { key: string }): InstanceState => ({ name: over.key, client: 'cursor', configPath: '/p', fingerprint: 'f-' + over.key, score: 0, level: 'none', findings: [], ...over });

  it('reports a new host and its servers', () => {
    const events = diffHost('h', null, [inst({ key: 'a', level: 'high', score: 65 })]);
    expect(events.map((e) => e.type)).toEqual(['host_added', 'server_added']);
    expect(events[1]!.severity).toBe('high');
  });

  it('reports added, removed and changed servers, raised levels and new high findings', () => {
    const before = [inst({ key: 'a' }), inst({ key: 'b' }), inst({ key: 'c', level: 'low', score: 10 })];
    const after = [
      inst({ key: 'a' }),
      inst({ key: 'b', fingerprint: 'f-b2' }),
      inst({ key: 'c', level: 'critical', score: 90, findings: [{ ruleId: 'PAL-C001', severity: 'critical', title: 't', evidence: 'bash' }] }),
      inst({ key: 'd' }),
    ];
    const types = diffHost('h', before, after).map((e) => `${e.type}:${e.instanceKey}`);
    expect(types.sort()).toEqual(['config_changed:b', 'finding_added:c', 'level_raised:c', 'server_added:d'].sort());
    const removed = diffHost('h', before, [inst({ key: 'a' }), inst({ key: 'b' })]);
    expect(removed.map((e) => e.type)).toEqual(['server_removed']);
  });

  it('reports nothing for an unchanged host, nor for a lowered level', () => {
    const s = [inst({ key: 'a', level: 'high', score: 60 })];
    expect(diffHost('h', s, s)).toEqual([]);
    expect(diffHost('h', s, [inst({ key: 'a', level: 'low', score: 5 })])).toEqual([]);
  });

  it('reports tool changes as high-severity rug pulls', () => {
    const e = diffHost('h', [], [], [{ fingerprint: 'f', serverName: 's', tool: 'read', previousHash: '1', hash: '2' }]);
    expect(e[0]).toMatchObject({ type: 'tool_changed', severity: 'high' });
  });
});

describe('webhook signing and sending rules', () => {
  it('signs timestamp.body with HMAC-SHA256 and verifies in constant time', () => {
    const sig = signPayload('whsec_test', 1_700_000_000, '{"a":1}');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_test', '1700000000', '{"a":1}', sig, 1_700_000_010)).toBe(true);
    expect(verifySignature('whsec_test', '1700000000', '{"a":2}', sig, 1_700_000_010)).toBe(false);
    expect(verifySignature('other', '1700000000', '{"a":1}', sig, 1_700_000_010)).toBe(false);
    expect(verifySignature('whsec_test', '1700000000', '{"a":1}', sig, 1_700_009_999)).toBe(false);
  });

  it('backs off exponentially and stops after the last attempt', () => {
    const delays = [1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, () => 0));
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(MAX_ATTEMPTS)).toBeNull();
  });

  it('accepts only http(s) URLs without credentials', () => {
    const open = { allowPrivate: true };
    expect(checkWebhookUrl('https://hooks.example.test/x', open).ok).toBe(true);
    expect(checkWebhookUrl('http://127.0.0.1:9/x', open).ok).toBe(true);
    expect(checkWebhookUrl('file:///etc/passwd', open).ok).toBe(false);
    expect(checkWebhookUrl('javascript:alert(1)', open).ok).toBe(false);
    expect(checkWebhookUrl('https://u:p@example.test/', open).ok).toBe(false);
  });

  it('builds Slack-compatible payloads with escaped text', () => {
    const body = JSON.parse(webhookBody('slack', 'alert.created', { id: '1', type: 'server_added', severity: 'high', status: 'open', title: 'New <server>', message: 'a & b', serverId: null, hostId: null, createdAt: 'now' }, new Date(0)));
    expect(body.text).toContain('New &lt;server&gt;');
    expect(body.blocks[0].text.text).toContain('a &amp; b');
  });
});
