// `palisade advisories import|list|show` as a user runs them: exit codes, messages, --json.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledAdvisoriesDir } from '@palisade/core';
import { writeZip } from '../../../agent/test/advisories/zip-writer.js';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pal-adv-cli-'));
const stateDir = path.join(tmp, 'state');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'advisories', ...args], { encoding: 'utf8', env: { ...process.env, PALISADE_STATE_DIR: stateDir, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('palisade advisories (CLI)', () => {
  it('imports a zip, lists bundled and imported advisories, shows one, and refuses bad input with exit 1', async () => {
    // one made-up advisory (test fixture) and one malformed entry
    const zip = path.join(tmp, 'npm-all.zip');
    writeFileSync(
      zip,
      writeZip([
        { name: 'TEST-CLI-0001.json', data: JSON.stringify({ id: 'TEST-CLI-0001', modified: '2026-01-01T00:00:00Z', aliases: ['CVE-2099-4242'], summary: 'test fixture advisory', database_specific: { severity: 'LOW' }, affected: [{ package: { ecosystem: 'npm', name: 'palisade-cli-fixture' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }] }] }) },
        { name: 'broken.json', data: '{' },
      ]),
    );
    const imp = await cli('import', zip, '--json');
    expect(imp.status).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ kind: 'zip', added: 1, skipped: 1, total: 1 });

    const list = await cli('list');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/TEST-CLI-0001 +low/);
    expect(list.stdout).toMatch(/GHSA-6xpm-ggf7-wc3p +critical/);
    expect(list.stdout).toMatch(/15 advisories \(14 bundled, 1 imported\)/);

    const byPkg = await cli('list', '--package', 'mcp-server-git', '--ecosystem', 'PyPI', '--json');
    expect(JSON.parse(byPkg.stdout).map((a: { id: string }) => a.id)).toHaveLength(4);

    const show = await cli('show', 'cve-2099-4242');
    expect(show.stdout).toMatch(/^TEST-CLI-0001 \(CVE-2099-4242\)/);
    expect(show.stdout).toMatch(/fixed in: 2\.0\.0/);

    const json = await cli('show', 'GHSA-6xpm-ggf7-wc3p', '--json');
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(readFileSync(path.join(bundledAdvisoriesDir(), 'GHSA-6xpm-ggf7-wc3p.json'), 'utf8')));

    const missing = await cli('show', 'GHSA-0000-0000-0000');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no advisory GHSA-0000-0000-0000 is known; run `palisade advisories list`/);

    const bad = await cli('import', path.join(tmp, 'nope.zip'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/does not exist or cannot be read/);
  }, 180_000); // eight CLI processes on a shared 2-core machine
});
