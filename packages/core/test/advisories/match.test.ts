import { describe, expect, it } from 'vitest';
import { evaluate, isVersionAffected, knownVulnerablePackage, matchPackage, MemoryAdvisoryDb, mergeAdvisoryDbs, parseOsvRecord, type OsvRecord, type ServerConfig } from '@palisade/core';

const rec = (over: Partial<OsvRecord>): OsvRecord => ({ id: 'TEST-0001', modified: '2025-01-01T00:00:00Z', ...over });

describe('OSV range semantics', () => {
  it('treats last_affected as inclusive', () => {
    const r = rec({ affected: [{ package: { ecosystem: 'npm', name: 'p' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.2.0' }] }] }] });
    expect(isVersionAffected(r, 'npm', 'p', '0.9.9').affected).toBe(false);
    expect(isVersionAffected(r, 'npm', 'p', '1.0.0').affected).toBe(true);
    expect(isVersionAffected(r, 'npm', 'p', '1.2.0').affected).toBe(true);
    expect(isVersionAffected(r, 'npm', 'p', '1.2.1').affected).toBe(false);
  });
  it('reads several intervals in one range, events in any order', () => {
    const r = rec({ affected: [{ package: { ecosystem: 'PyPI', name: 'p' }, ranges: [{ type: 'ECOSYSTEM', events: [{ fixed: '2.1' }, { introduced: '2.0' }, { introduced: '0' }, { fixed: '1.5' }] }] }] });
    expect(isVersionAffected(r, 'PyPI', 'p', '1.4')).toEqual({ affected: true, fixed: '1.5' });
    expect(isVersionAffected(r, 'PyPI', 'p', '1.5').affected).toBe(false);
    expect(isVersionAffected(r, 'PyPI', 'p', '2.0rc1').affected).toBe(false);
    expect(isVersionAffected(r, 'PyPI', 'p', '2.0.post1')).toEqual({ affected: true, fixed: '2.1' });
    expect(isVersionAffected(r, 'PyPI', 'p', '2.1').affected).toBe(false);
  });
  it('matches exact `versions` lists in the ecosystem sense and finds the next fix', () => {
    const r = rec({ affected: [{ package: { ecosystem: 'PyPI', name: 'p' }, versions: ['1.0', '1.1'], ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2' }] }] }] });
    expect(isVersionAffected(r, 'PyPI', 'p', '1.0.0')).toEqual({ affected: true, fixed: '1.2' });
  });
  it('says "cannot tell" for a version it cannot read, and ignores GIT ranges', () => {
    const r = rec({ affected: [{ package: { ecosystem: 'npm', name: 'p' }, ranges: [{ type: 'GIT', repo: 'https://example.com/r', events: [{ introduced: '0' }, { fixed: 'abc' }] }, { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] }] });
    expect(isVersionAffected(r, 'npm', 'p', 'not-a-version').affected).toBeUndefined();
    expect(isVersionAffected(r, 'npm', 'p', '0.5.0').affected).toBe(true);
  });
});

describe('matching package references', () => {
  const remote = rec({ id: 'GHSA-6xpm-ggf7-wc3p', aliases: ['CVE-2025-6514'], severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H' }], affected: [{ package: { ecosystem: 'npm', name: 'mcp-remote' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0.0.5' }, { fixed: '0.1.16' }] }] }] });
  const db = new MemoryAdvisoryDb([remote]);
  it('reports an exact affected version with its fix', () => {
    const [m] = matchPackage(db, { ecosystem: 'npm', name: 'mcp-remote', version: '0.1.15', pinned: true });
    expect(m).toMatchObject({ status: 'affected', fixed: '0.1.16', ids: ['GHSA-6xpm-ggf7-wc3p', 'CVE-2025-6514'], severity: { severity: 'critical', score: 9.6 } });
  });
  it('reports an unpinned package as possibly affected, and a range only when it reaches the affected versions', () => {
    expect(matchPackage(db, { ecosystem: 'npm', name: 'mcp-remote', pinned: false })[0]).toMatchObject({ status: 'possibly', fixed: '0.1.16' });
    expect(matchPackage(db, { ecosystem: 'npm', name: 'mcp-remote', version: '^0.1.0', pinned: false })[0]?.status).toBe('possibly');
    expect(matchPackage(db, { ecosystem: 'npm', name: 'mcp-remote', version: '>=0.1.16', pinned: false })).toEqual([]);
  });
  it('escalates a known-exploited advisory to critical and skips withdrawn ones', () => {
    const low = rec({ id: 'GHSA-aaaa-bbbb-cccc', aliases: ['CVE-2099-0001'], database_specific: { severity: 'LOW' }, affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }] });
    const kevDb = new MemoryAdvisoryDb([low, { ...low, id: 'GHSA-dddd-eeee-ffff', withdrawn: '2025-01-02T00:00:00Z' }], ['cve-2099-0001']);
    const ms = matchPackage(kevDb, { ecosystem: 'npm', name: 'x', version: '1.0.0', pinned: true });
    expect(ms).toHaveLength(1);
    expect(ms[0]!.severity).toMatchObject({ severity: 'critical', knownExploited: true });
  });
  it('merges databases keeping the newest modified', () => {
    const newer = { ...remote, modified: '2026-01-01T00:00:00Z', summary: 'newer' };
    const merged = mergeAdvisoryDbs(db, new MemoryAdvisoryDb([newer]));
    expect(merged.forPackage('npm', 'mcp-remote').map((r) => r.summary)).toEqual(['newer']);
  });
});

describe('parsing OSV records', () => {
  it('skips malformed records with a reason naming the field', () => {
    expect(parseOsvRecord({ id: 'X-1' })).toMatchObject({ ok: false, reason: expect.stringContaining('modified') });
    expect(parseOsvRecord({ id: 'X-1', modified: 'yesterday' })).toMatchObject({ ok: false, reason: expect.stringContaining('not a date') });
    expect(parseOsvRecord({ id: 'bad id with spaces', modified: '2025-01-01T00:00:00Z' })).toMatchObject({ ok: false });
    expect(parseOsvRecord({ id: 'X-1', modified: '2025-01-01T00:00:00Z', affected: [{ ranges: [{ type: 'SEMVER', events: [] }] }] })).toMatchObject({ ok: false, reason: expect.stringContaining('affected.0.ranges.0.events') });
    expect(parseOsvRecord(null)).toMatchObject({ ok: false });
    expect(parseOsvRecord({ id: 'X-1', modified: '2025-01-01T00:00:00Z', future_field: 1 })).toMatchObject({ ok: true });
  });
});

describe('rule PAL-V001 case table', () => {
  const cases = (knownVulnerablePackage as { cases?: { valid: Array<{ name: string; server: Partial<ServerConfig>; ctx?: object }>; invalid: Array<{ name: string; server: Partial<ServerConfig>; ctx?: object; evidence?: RegExp | string; severity?: string }> } }).cases!;
  const full = (s: Partial<ServerConfig>): ServerConfig => ({ id: 's1', name: 'test', client: 'claude-desktop', configPath: '/tmp/x.json', scope: 'user', transport: 'stdio', command: null, args: [], cwd: null, url: null, envNames: [], headerNames: [], ...s });
  for (const c of cases.valid) {
    it(`valid: ${c.name}`, () => {
      expect(knownVulnerablePackage.check(full(c.server), { platform: 'linux', ...c.ctx })).toEqual([]);
    });
  }
  for (const c of cases.invalid) {
    it(`invalid: ${c.name}`, () => {
      const hits = knownVulnerablePackage.check(full(c.server), { platform: 'linux', ...c.ctx });
      expect(hits.length).toBeGreaterThan(0);
      if (c.evidence) expect(hits.map((h) => h.evidence).join('\n')).toMatch(c.evidence);
      if (c.severity) expect(hits[0]!.severity).toBe(c.severity);
    });
  }
  it('is silent without a database and flows through evaluate() into the score', () => {
    const server = full(cases.invalid[0]!.server);
    expect(knownVulnerablePackage.check(server, { platform: 'linux' })).toEqual([]);
    const { servers } = evaluate([server], { platform: 'linux', ...cases.invalid[0]!.ctx }, [knownVulnerablePackage]);
    expect(servers[0]).toMatchObject({ level: 'critical', findings: [{ ruleId: 'PAL-V001', severity: 'critical' }] });
    expect(servers[0]!.findings[0]!.message).toMatch(/Move to 0\.1\.16 or later/);
  });
});
