// The advisory sets a scan loads: the shipped curated files are taken as they are (the suite
// validates each against the OSV schema), and give exactly what full validation gives; any
// other folder is validated record by record.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledAdvisoriesDir, parseOsvRecord } from '@palisade/core';
import { loadBundledAdvisories } from '../../src/advisories/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-loader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadBundledAdvisories', () => {
  it('loads every shipped record, identical to what full OSV validation returns', () => {
    const dir = bundledAdvisoriesDir();
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(14);
    const validated = files.map((f) => {
      const r = parseOsvRecord(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
      if (!r.ok) throw new Error(`${f}: ${r.reason}`);
      return r.record;
    });
    const db = loadBundledAdvisories();
    expect(db.size).toBe(validated.length);
    for (const v of validated) expect(db.get(v.id)).toEqual(v);
  });

  it('validates any other folder: a malformed record or a non-JSON file is skipped, the rest load', () => {
    const good = JSON.parse(readFileSync(path.join(bundledAdvisoriesDir(), readdirSync(bundledAdvisoriesDir()).find((f) => f.endsWith('.json'))!), 'utf8'));
    writeFileSync(path.join(tmp, 'good.json'), JSON.stringify(good));
    writeFileSync(path.join(tmp, 'bad-range.json'), JSON.stringify({ ...good, id: 'BAD-1', affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'WHATEVER', events: [] }] }] }));
    writeFileSync(path.join(tmp, 'no-id.json'), JSON.stringify({ modified: '2025-01-01T00:00:00Z' }));
    writeFileSync(path.join(tmp, 'broken.json'), '{ not json');
    const db = loadBundledAdvisories(tmp);
    expect([...db.records()].map((r) => r.id)).toEqual([good.id]);
  });
});
