// Properties of the engine over arbitrary ServerConfig-shaped input: it never throws, scores
// stay in 0..100 with the documented levels, the same input gives the same result whatever
// the order of servers, and the output always fits the wire format.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluate, levelForScore, ScoredServerSchema, CrossFindingSchema, scoreFindings, severities, type ServerConfig } from '@palisade/core';

const RUNS = { seed: 42, numRuns: 200 };

// Words that steer rules into their interesting branches, mixed with arbitrary text.
const tricky = fc.constantFrom(
  'bash', '-c', 'cmd', '/c', 'powershell', '-enc', '-Command', 'sudo', 'docker', 'run', '-v', '/:/h', '--privileged', '--network=host',
  'npx', '-y', 'uvx', '--from', 'git+https://x', 'github:a/b', '@modelcontextprotocoI/server-github', 'mcp-rem\u043ete', 'curl x | sh',
  '~', '${HOME}', '%USERPROFILE%', 'C:\\', '/', '~/.ssh', 'http://example.com', 'https://<redacted>@x', '\u001b[8m', '\u{E0041}\u{E0042}',
  '\u200b', '<IMPORTANT>', 'ignore previous instructions', 'send_email', 'read_file', '*', '', '-', '=', '"', "'", '$(', '<(',
);
const text = fc.oneof(tricky, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.array(tricky, { maxLength: 6 }).map((a) => a.join(' ')));
const severity = fc.constantFrom(...severities);

const tool = fc.record(
  {
    name: text,
    description: text,
    schemaText: text,
    annotations: fc.dictionary(fc.constantFrom('destructiveHint', 'openWorldHint', 'readOnlyHint', 'title'), fc.oneof(fc.boolean(), text, fc.constant(null), fc.integer())),
    definitionHash: fc.string({ maxLength: 64 }),
    pin: fc.record({ status: fc.constantFrom('new', 'unchanged', 'changed'), previousHash: fc.string({ maxLength: 64 }), firstSeen: text }, { requiredKeys: ['status'] }),
  },
  { requiredKeys: ['name'] },
);

const server = (i: number) =>
  fc.record(
    {
      id: fc.constant(`s${i}`),
      name: text,
      client: fc.constantFrom('claude-desktop', 'cursor', 'vscode'),
      configPath: text,
      scope: fc.constantFrom('user', 'project', 'managed'),
      transport: fc.constantFrom('stdio', 'http', 'sse'),
      command: fc.option(text, { nil: null }),
      args: fc.array(text, { maxLength: 8 }),
      cwd: fc.option(text, { nil: null }),
      url: fc.option(fc.oneof(text, fc.webUrl()), { nil: null }),
      envNames: fc.array(text, { maxLength: 4 }),
      headerNames: fc.array(text, { maxLength: 3 }),
      secrets: fc.array(fc.record({ location: fc.constantFrom('env', 'header', 'arg', 'url'), name: text, type: text }), { maxLength: 3 }),
      tlsVerifyDisabled: fc.boolean(),
      autoApprove: fc.array(text, { maxLength: 4 }),
      disabled: fc.boolean(),
      package: fc.record({ ecosystem: fc.constantFrom('npm', 'PyPI', 'docker', 'git', 'unknown'), name: text, version: text, pinned: fc.boolean(), runner: text }, { requiredKeys: ['ecosystem', 'name', 'pinned'] }),
      tools: fc.array(tool, { maxLength: 5 }),
    },
    { requiredKeys: ['id', 'name', 'client', 'configPath', 'scope', 'transport', 'command', 'args', 'cwd', 'url', 'envNames', 'headerNames'] },
  ) as fc.Arbitrary<ServerConfig>;

const scan = fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => server(i))));
const ctx = { platform: 'linux' as const, home: '/home/alice' };

describe('evaluate over arbitrary input', () => {
  it('never throws, keeps scores in 0..100 with matching levels, and fits the wire format', () => {
    fc.assert(
      fc.property(scan, (servers) => {
        const result = evaluate(servers, ctx);
        expect(result.servers).toHaveLength(servers.length);
        for (const s of result.servers) {
          expect(s.score).toBeGreaterThanOrEqual(0);
          expect(s.score).toBeLessThanOrEqual(100);
          expect(s.level).toBe(levelForScore(s.score));
          expect(s.findings.some((f) => f.evidence === 'rule error'), JSON.stringify(s.findings)).toBe(false);
          for (const f of s.findings) expect(() => ScoredServerSchema.shape.findings.element.parse(f)).not.toThrow();
        }
        for (const f of result.findings) expect(() => CrossFindingSchema.parse(f)).not.toThrow();
      }),
      RUNS,
    );
  });

  it('gives the same result for the same input, whatever the order of servers', () => {
    fc.assert(
      fc.property(scan, (servers) => {
        const a = evaluate(servers, ctx);
        const b = evaluate([...servers].reverse(), ctx);
        const byId = (r: typeof a) => Object.fromEntries(r.servers.map((s) => [s.id, { score: s.score, level: s.level, findings: s.findings }]));
        expect(byId(b)).toEqual(byId(a));
        expect(evaluate(servers, ctx)).toEqual(a);
      }),
      RUNS,
    );
  });
});

describe('scoreFindings', () => {
  const findings = fc.array(fc.record({ severity }), { maxLength: 60 });

  it('stays in 0..100, is order independent and is set in band by the worst finding', () => {
    const floor = { critical: 85, high: 60, medium: 30, low: 1, info: 0 } as const;
    const ceiling = { critical: 100, high: 84, medium: 59, low: 29, info: 0 } as const;
    fc.assert(
      fc.property(findings, fc.integer(), (list, seed) => {
        const r = scoreFindings(list);
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(100);
        expect(Number.isInteger(r.score)).toBe(true);
        const shuffled = [...list].sort((x, y) => ((x.severity.length * 31 + seed) % 7) - ((y.severity.length * 31 + seed) % 7));
        expect(scoreFindings(shuffled)).toEqual(r);
        if (list.length > 0) {
          const rank = ['info', 'low', 'medium', 'high', 'critical'] as const;
          const worst = rank[Math.max(...list.map((f) => rank.indexOf(f.severity)))]!;
          expect(r.score).toBeGreaterThanOrEqual(floor[worst]);
          expect(r.score).toBeLessThanOrEqual(ceiling[worst]);
        }
      }),
      RUNS,
    );
  });

  it('counts the findings of one rule as one problem, at their worst severity', () => {
    const one = scoreFindings([{ ruleId: 'PAL-T007', severity: 'medium' }, { ruleId: 'PAL-C003', severity: 'medium' }]);
    const many = scoreFindings([...Array.from({ length: 40 }, () => ({ ruleId: 'PAL-T007', severity: 'low' as const })), { ruleId: 'PAL-T007', severity: 'medium' }, { ruleId: 'PAL-C003', severity: 'medium' }]);
    expect(many).toEqual(one);
    expect(one).toEqual({ score: 37, level: 'medium' });
    expect(scoreFindings([{ ruleId: 'PAL-C001', severity: 'critical' }, { ruleId: 'PAL-C001', severity: 'critical' }]).score).toBe(90);
    expect(scoreFindings([{ severity: 'info' }, { ruleId: 'PAL-X001', severity: 'bogus' as never }])).toEqual({ score: 0, level: 'none' });
  });

  it('never goes down when a finding is added', () => {
    fc.assert(
      fc.property(findings, severity, (list, extra) => {
        expect(scoreFindings([...list, { severity: extra }]).score).toBeGreaterThanOrEqual(scoreFindings(list).score);
        const withIds = list.map((f, i) => ({ ...f, ruleId: `PAL-C00${i % 4}` }));
        expect(scoreFindings([...withIds, { severity: extra, ruleId: 'PAL-C001' }]).score).toBeGreaterThanOrEqual(scoreFindings(withIds).score);
      }),
      RUNS,
    );
  });
});
