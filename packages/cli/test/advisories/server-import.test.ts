// `palisade advisories import PATH --server`: the same sources stored in the backend's database
// (here the embedded SQLite one in a temp data folder).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledAdvisoriesDir } from '@palisade/core';
import { openDatabase } from '@palisade/server';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pal-adv-srv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.DATABASE_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'advisories', ...args], { encoding: 'utf8', env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('palisade advisories import --server', () => {
  it('stores OSV records and the KEV catalog in the backend database', async () => {
    const data = path.join(tmp, 'data');
    const file = path.join(tmp, 'records.json');
    writeFileSync(file, JSON.stringify([JSON.parse(readFileSync(path.join(bundledAdvisoriesDir(), 'GHSA-6xpm-ggf7-wc3p.json'), 'utf8')), { id: 'BROKEN-1' }]));
    const r = await cli('import', file, '--server', '--data', data, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'json', added: 1, skipped: 1, organisations: 0, alerts: 0 });
    // a test catalog, not a claim about the real one
    const kev = path.join(tmp, 'kev.json');
    writeFileSync(kev, JSON.stringify({ catalogVersion: 'test', vulnerabilities: [{ cveID: 'CVE-2025-6514' }] }));
    const k = await cli('import', kev, '--server', '--data', data);
    expect(k.status).toBe(0);
    expect(k.stdout).toMatch(/1 known-exploited CVEs/);
    const store = openDatabase({ dataDir: data });
    try {
      const rows = await store.db.selectFrom('advisories' as never).select(['id' as never]).execute();
      expect(rows).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 180_000);
});
