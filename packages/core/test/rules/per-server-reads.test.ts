// Rules remember what they read of a server's command line (its words, the packages it
// launches) and what a package's advisories say, so a scan does not work them out again for
// every rule. What they remember must never outlive a change to the server, nor leak from one
// caller's result into another's.
import { describe, expect, it } from 'vitest';
import { findRule, knownVulnerablePackage, MemoryAdvisoryDb, PAL_V001_CASE_ADVISORIES, type RuleContext, type ServerConfig, type ServerRule } from '@palisade/core';

const ctx: RuleContext = { platform: 'linux' };

function server(command: string, args: unknown[]): ServerConfig {
  return { id: 'x', name: 'x', client: 'cursor', configPath: '/tmp/x.json', scope: 'user', transport: 'stdio', command, args: args as string[], cwd: null, url: null, envNames: [], headerNames: [] };
}

const rule = (id: string): ServerRule => findRule(id) as ServerRule;

describe('per-server command reads', () => {
  it('follows arguments changed in place on the same server object', () => {
    const s = server('npx', ['-y', 'some-pkg']);
    expect(rule('PAL-C003').check(s, ctx).map((h) => h.evidence)).toEqual(['npx some-pkg (no version)']);
    s.args[1] = 'other-pkg@2.0.0';
    expect(rule('PAL-C003').check(s, ctx)).toEqual([]);
    s.args.push('--flag');
    s.args[1] = 'third-pkg';
    expect(rule('PAL-C003').check(s, ctx).map((h) => h.evidence)).toEqual(['npx third-pkg (no version)']);
  });

  it('follows a changed command', () => {
    const s = server('bash', ['-c', 'echo hello > /tmp/x']);
    expect(rule('PAL-C001').check(s, ctx)).toHaveLength(1);
    s.command = 'node';
    expect(rule('PAL-C001').check(s, ctx)).toEqual([]);
    s.command = 'sudo';
    s.args = ['node', 'server.js'];
    expect(rule('PAL-C007').check(s, ctx)).toHaveLength(1);
    s.command = 'node';
    s.args = ['server.js'];
    expect(rule('PAL-C007').check(s, ctx)).toEqual([]);
  });

  it('reads arguments that are not all strings the same way each time', () => {
    const s = server('npx', ['-y', 7, 'git+https://github.com/o/r.git']);
    const first = rule('PAL-C004').check(s, ctx);
    expect(first).toHaveLength(1);
    expect(rule('PAL-C004').check(s, ctx)).toEqual(first);
    (s.args as unknown[])[2] = 'plain-pkg@1.0.0';
    expect(rule('PAL-C004').check(s, ctx)).toEqual([]);
  });

  it('gives each caller its own packages', () => {
    const s = server('npx', ['-y', '@smithery/cli@latest', 'run', '@owner/server']);
    const first = rule('PAL-C003').check(s, ctx);
    expect(first.length).toBeGreaterThan(0);
    // PAL-C003 puts the discovered package into its list; a second rule and a second run see the original chain
    s.package = { ecosystem: 'npm', name: 'something-else', pinned: false, runner: 'npx' };
    const withKnown = rule('PAL-C003').check(s, ctx);
    delete s.package;
    expect(rule('PAL-C003').check(s, ctx)).toEqual(first);
    expect(withKnown.length).toBe(first.length + 1);
  });
});

describe('PAL-V001 hits per package', () => {
  const db = new MemoryAdvisoryDb(PAL_V001_CASE_ADVISORIES);
  const withPkg = (version?: string): ServerConfig => ({ ...server('npx', ['-y', `mcp-remote${version ? `@${version}` : ''}`]), package: { ecosystem: 'npm', name: 'mcp-remote', ...(version ? { version } : {}), pinned: Boolean(version), runner: 'npx' } });

  it('gives every server equal hits in objects of its own', () => {
    const c: RuleContext = { platform: 'linux', advisories: db };
    const a = knownVulnerablePackage.check(withPkg('0.1.0'), c);
    const b = knownVulnerablePackage.check(withPkg('0.1.0'), c);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    a[0]!.message = 'changed by a caller';
    expect(knownVulnerablePackage.check(withPkg('0.1.0'), c)[0]!.message).not.toBe('changed by a caller');
  });

  it('tells versions apart, and follows the database of the context', () => {
    const c: RuleContext = { platform: 'linux', advisories: db };
    expect(knownVulnerablePackage.check(withPkg('0.1.0'), c)[0]!.message).toMatch(/mcp-remote@0\.1\.0 is affected/);
    expect(knownVulnerablePackage.check(withPkg('0.1.16'), c)).toEqual([]);
    expect(knownVulnerablePackage.check(withPkg(), c)[0]!.message).toMatch(/^Possibly affected/);
    c.advisories = new MemoryAdvisoryDb([]);
    expect(knownVulnerablePackage.check(withPkg('0.1.0'), c)).toEqual([]);
  });
});
