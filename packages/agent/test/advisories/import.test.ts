// Import into a real state folder: folders, zips, single files and the KEV catalog; malformed
// records skipped with reasons; re-imports idempotent; newest `modified` kept.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledAdvisoriesDir, matchPackage } from '@palisade/core';
import { importAdvisories, ImportError, loadAdvisories, loadAdvisoryDb, openStore } from '../../src/advisories/index.js';
import { writeZip } from './zip-writer.js';

const curatedDir = bundledAdvisoriesDir();
const curated = readdirSync(curatedDir).filter((f) => f.endsWith('.json'));
const record = (id: string) => JSON.parse(readFileSync(path.join(curatedDir, `${id}.json`), 'utf8')) as Record<string, unknown>;

let tmp: string;
let stateDir: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pal-adv-'));
  stateDir = path.join(tmp, 'state');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

// An advisory for a made-up package, shaped like an OSV npm export entry (test fixture).
const synthetic = (n: number, modified = '2026-01-01T00:00:00Z') => ({
  id: `TEST-${String(n).padStart(4, '0')}`,
  modified,
  aliases: [`CVE-2099-${String(1000 + n)}`],
  summary: `test fixture advisory ${n}`,
  affected: [{ package: { ecosystem: 'npm', name: `palisade-fixture-${n}` }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] }],
});

describe('advisories import', () => {
  it('imports a folder of real OSV records, skipping malformed ones with reasons', async () => {
    const dir = path.join(tmp, 'export');
    mkdirSync(path.join(dir, 'nested'), { recursive: true });
    for (const f of curated) writeFileSync(path.join(dir, 'nested', f), readFileSync(path.join(curatedDir, f)));
    writeFileSync(path.join(dir, 'broken.json'), '{ not json');
    writeFileSync(path.join(dir, 'no-modified.json'), JSON.stringify({ id: 'TEST-BAD' }));
    writeFileSync(path.join(dir, 'README.md'), 'ignored');
    const s = await importAdvisories(dir, { stateDir });
    expect(s).toMatchObject({ kind: 'folder', added: curated.length, updated: 0, unchanged: 0, skipped: 2, total: curated.length });
    expect(s.reasons.join('\n')).toMatch(/broken\.json: not valid JSON/);
    expect(s.reasons.join('\n')).toMatch(/no-modified\.json: TEST-BAD: modified/);
    const store = openStore(stateDir)!;
    expect(store.get('CVE-2025-6514')?.id).toBe('GHSA-6xpm-ggf7-wc3p');
    expect(store.forPackage('PyPI', 'MCP-Server_Git')).toHaveLength(4);
  });

  it('is idempotent: a second import changes nothing on disk', async () => {
    const dir = path.join(tmp, 'export');
    mkdirSync(dir);
    for (const f of curated) writeFileSync(path.join(dir, f), readFileSync(path.join(curatedDir, f)));
    await importAdvisories(dir, { stateDir });
    const index = path.join(stateDir, 'advisories', 'index.json');
    const before = [readFileSync(index, 'utf8'), statSync(index).mtimeMs, readdirSync(path.join(stateDir, 'advisories')).sort()];
    const again = await importAdvisories(dir, { stateDir });
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: curated.length });
    expect([readFileSync(index, 'utf8'), statSync(index).mtimeMs, readdirSync(path.join(stateDir, 'advisories')).sort()]).toEqual(before);
  });

  it('keeps the newest modified: a newer record replaces, an older one is ignored', async () => {
    const base = record('GHSA-6xpm-ggf7-wc3p');
    const file = path.join(tmp, 'one.json');
    writeFileSync(file, JSON.stringify(base));
    await importAdvisories(file, { stateDir });
    writeFileSync(file, JSON.stringify({ ...base, modified: '2026-03-01T00:00:00Z', summary: 'newer text' }));
    expect(await importAdvisories(file, { stateDir })).toMatchObject({ kind: 'json', updated: 1 });
    writeFileSync(file, JSON.stringify({ ...base, modified: '2025-01-01T00:00:00Z', summary: 'older text' }));
    expect(await importAdvisories(file, { stateDir })).toMatchObject({ unchanged: 1, updated: 0 });
    expect(openStore(stateDir)!.get('GHSA-6xpm-ggf7-wc3p')?.summary).toBe('newer text');
    // each write replaces the previous generation: one records file and one shard folder remain
    const left = readdirSync(path.join(stateDir, 'advisories'));
    expect(left.filter((f) => f.startsWith('records-'))).toHaveLength(1);
    expect(left.filter((f) => f !== 'index.json' && !f.startsWith('records-'))).toHaveLength(1);
    // the merged database (bundled + store) sees the newer text too
    expect(loadAdvisoryDb(stateDir).forPackage('npm', 'mcp-remote')[0]?.summary).toBe('newer text');
  });

  it('imports an OSV export zip (deflated entries) with a damaged entry skipped', async () => {
    const entries = [
      ...[1, 2, 3].map((n) => ({ name: `TEST-000${n}.json`, data: JSON.stringify(synthetic(n)) })),
      { name: 'GHSA-3q26-f695-pp76.json', data: readFileSync(path.join(curatedDir, 'GHSA-3q26-f695-pp76.json')) },
      { name: 'bad.json', data: JSON.stringify({ ...synthetic(4), affected: [{ ranges: [{ type: 'SEMVER', events: [] }] }] }) },
    ];
    const zip = path.join(tmp, 'all.zip');
    writeFileSync(zip, writeZip(entries));
    const s = await importAdvisories(zip, { stateDir });
    expect(s).toMatchObject({ kind: 'zip', added: 4, skipped: 1 });
    expect(s.reasons[0]).toMatch(/bad\.json: TEST-0004: affected\.0\.ranges\.0\.events/);
    const [m] = matchPackage(loadAdvisoryDb(stateDir), { ecosystem: 'npm', name: 'palisade-fixture-2', version: '0.9.0', pinned: true });
    expect(m).toMatchObject({ status: 'affected', fixed: '1.0.0' });
  });

  it('refuses a file that is not a zip, not JSON or missing, leaving the store untouched', async () => {
    const notZip = path.join(tmp, 'x.zip');
    writeFileSync(notZip, 'plain text');
    await expect(importAdvisories(notZip, { stateDir })).rejects.toThrow(ImportError);
    await expect(importAdvisories(path.join(tmp, 'missing.json'), { stateDir })).rejects.toThrow(/does not exist/);
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, '[1,');
    await expect(importAdvisories(bad, { stateDir })).rejects.toThrow(/not valid JSON/);
    expect(openStore(stateDir)).toBeUndefined();
  });

  it('imports the CISA KEV catalog: matching advisories (bundled ones too) become known exploited and critical', async () => {
    const kev = path.join(tmp, 'known_exploited_vulnerabilities.json');
    // test fixture in the catalog's shape; CVE-2025-68143 is not claimed to be in the real catalog
    writeFileSync(kev, JSON.stringify({ title: 'test fixture', catalogVersion: '2099.01.01', dateReleased: '2099-01-01T00:00:00.000Z', count: 2, vulnerabilities: [{ cveID: 'CVE-2025-68143', vendorProject: 'x' }, { cveID: 42 }] }));
    const s = await importAdvisories(kev, { stateDir });
    expect(s).toMatchObject({ kind: 'kev', skipped: 1, kev: { cves: 1 } });
    const db = loadAdvisoryDb(stateDir);
    const [m] = matchPackage(db, { ecosystem: 'PyPI', name: 'mcp-server-git', version: '2025.9.24', pinned: true }).filter((x) => x.ids.includes('CVE-2025-68143'));
    expect(m?.severity).toMatchObject({ severity: 'critical', knownExploited: true });
    // records imported after the catalog carry the mark too
    const one = path.join(tmp, 'one.json');
    writeFileSync(one, JSON.stringify(record('GHSA-5cgr-j3jf-jw3v')));
    await importAdvisories(one, { stateDir });
    expect(openStore(stateDir)!.get('CVE-2025-68143')?.database_specific?.palisade_known_exploited).toBe(true);
  });

  it('falls back to the bundled set with a warning when the store is damaged', async () => {
    mkdirSync(path.join(stateDir, 'advisories'), { recursive: true });
    writeFileSync(path.join(stateDir, 'advisories', 'index.json'), '{"version": 99}');
    const loaded = loadAdvisories(stateDir);
    expect(loaded.warning).toMatch(/re-import/);
    expect(loaded.db.forPackage('npm', 'mcp-remote')).toHaveLength(1);
  });
});
