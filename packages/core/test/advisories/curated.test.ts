// The curated advisories shipped in packages/core/advisories: every file is a valid OSV record,
// the set covers the advisories Palisade promises, and every range holds at its boundaries.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { advisorySeverity, bundledAdvisoriesDir, isVersionAffected, MemoryAdvisoryDb, parseOsvRecord, type OsvRecord } from '@palisade/core';

const dir = bundledAdvisoriesDir();
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const records: OsvRecord[] = files.map((f) => {
  const r = parseOsvRecord(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
  if (!r.ok) throw new Error(`${f}: ${r.reason}`);
  return r.record;
});
const byCve = new Map(records.flatMap((r) => (r.aliases ?? []).map((a) => [a, r] as const)));

// [CVE, ecosystem, package, versions that are affected, versions that are not, severity]
const table: Array<[string, 'npm' | 'PyPI', string, string[], string[], string]> = [
  ['CVE-2025-6514', 'npm', 'mcp-remote', ['0.0.5', '0.1.0', '0.1.15'], ['0.0.4', '0.1.16', '0.1.17', '0.2.0'], 'critical'],
  ['CVE-2025-49596', 'npm', '@modelcontextprotocol/inspector', ['0.1.0', '0.14.0'], ['0.14.1', '0.16.0'], 'critical'],
  ['CVE-2025-53109', 'npm', '@modelcontextprotocol/server-filesystem', ['0.5.1', '0.6.2', '2025.1.14', '2025.3.28', '2025.7.0'], ['2025.7.1', '2025.8.21'], 'high'],
  ['CVE-2025-53110', 'npm', '@modelcontextprotocol/server-filesystem', ['0.6.2', '2025.1.14', '2025.7.0'], ['2025.7.1'], 'high'],
  ['CVE-2025-68143', 'PyPI', 'mcp-server-git', ['0.6.2', '2025.7.1', '2025.9.24'], ['2025.9.25', '2025.12.18'], 'medium'],
  ['CVE-2025-68144', 'PyPI', 'mcp-server-git', ['2025.9.25', '2025.12.17'], ['2025.12.18', '2026.1.14'], 'medium'],
  ['CVE-2025-68145', 'PyPI', 'mcp-server-git', ['2025.11.25', '2025.12.17'], ['2025.12.18'], 'medium'],
  ['CVE-2026-27735', 'PyPI', 'mcp-server-git', ['2025.12.18', '2026.1.13'], ['2026.1.14', '2026.2.1'], 'medium'],
  ['CVE-2025-66414', 'npm', '@modelcontextprotocol/sdk', ['1.0.0', '1.23.0', '1.23.9'], ['1.24.0', '1.26.0'], 'high'],
  ['CVE-2026-25536', 'npm', '@modelcontextprotocol/sdk', ['1.10.0', '1.25.3'], ['1.9.9', '1.26.0'], 'high'],
  ['CVE-2025-53365', 'PyPI', 'mcp', ['1.9.4', '1.9.999', '1.10.0rc1'], ['1.10.0', '1.10.0.post1'], 'high'],
  ['CVE-2025-53366', 'PyPI', 'mcp', ['1.9.3', '1.9.4rc1'], ['1.9.4', '1.10.0'], 'high'],
  ['CVE-2025-66416', 'PyPI', 'mcp', ['1.22.0', '1.23.0.dev1'], ['1.23.0', '1!0.1'], 'high'],
  ['CVE-2025-53107', 'npm', '@cyanheads/git-mcp-server', ['1.0.0', '2.1.4'], ['2.1.5', '2.2.0'], 'high'],
];

describe('curated advisories', () => {
  it('every file parses as OSV, is named after its id and says how it was reviewed', () => {
    expect(files.length).toBe(records.length);
    for (const [i, r] of records.entries()) {
      expect(files[i]).toBe(`${r.id}.json`);
      expect(String(r.database_specific?.palisade_note)).toMatch(/checked against/);
      expect(r.references?.some((ref) => ref.url === `https://github.com/advisories/${r.id}`)).toBe(true);
    }
  });

  it('covers every promised CVE', () => {
    for (const [cve] of table) expect(byCve.has(cve), cve).toBe(true);
  });

  for (const [cve, eco, name, affected, safe, severity] of table) {
    it(`${cve} (${name}) holds at its range boundaries`, () => {
      const r = byCve.get(cve)!;
      for (const v of affected) expect(isVersionAffected(r, eco, name, v).affected, `${v} affected`).toBe(true);
      for (const v of safe) expect(isVersionAffected(r, eco, name, v).affected, `${v} not affected`).toBe(false);
      expect(advisorySeverity(r).severity).toBe(severity);
    });
  }

  it('indexes every record under its package', () => {
    const db = new MemoryAdvisoryDb(records);
    expect(db.forPackage('PyPI', 'MCP_Server_Git').map((r) => r.aliases?.[0]).sort()).toEqual(['CVE-2025-68143', 'CVE-2025-68144', 'CVE-2025-68145', 'CVE-2026-27735']);
    expect(db.get('CVE-2025-6514')?.id).toBe('GHSA-6xpm-ggf7-wc3p');
  });
});
