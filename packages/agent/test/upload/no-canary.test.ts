// No secret from a config leaves the agent: a home whose configs hold every shape of the
// canary table is scanned, rendered in every output format (JSON, SARIF, Markdown, table)
// and spooled by `report` (the backend unreachable, so the report stays on disk): no canary
// appears anywhere. The output renderers are imported from where they live today.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScanReport } from '@palisade/core';
import { locationContext, scan } from '../../src/index.js';
import { redactBody, reportOnce } from '../../src/upload/run.js';
import { allCanaries, canaryHome } from '../../../core/test/redaction/canary-home.js';
import { CANARY_CASES } from '../../../core/test/redaction/canary-table.js';

type Render = (report: ScanReport, format: 'table' | 'json' | 'sarif' | 'markdown', opts: { color: boolean; width?: number }) => string;

async function renderer(): Promise<Render> {
  // the CLI's output code moved from packages/agent to packages/cli
  for (const p of ['../../../cli/src/output/index.js', '../../src/output/index.js']) {
    try {
      return ((await import(/* @vite-ignore */ p)) as { render: Render }).render;
    } catch {
      // try the next place
    }
  }
  throw new Error('output renderers not found');
}

function leaks(text: string): string[] {
  return allCanaries().filter((c) => text.includes(c));
}

describe('no canary leaves the agent', () => {
  let home: string;
  let state: string;
  let report: ScanReport;
  beforeAll(async () => {
    home = await canaryHome();
    state = await fs.mkdtemp(path.join(os.tmpdir(), 'palisade-canary-state-'));
    report = await scan({ loc: locationContext({ home, platform: 'linux' }) });
  });
  afterAll(async () => {
    await fs.rm(home, { recursive: true, force: true });
    await fs.rm(state, { recursive: true, force: true });
  });

  it('finds every server of the table', () => {
    expect(report.servers.length).toBe(CANARY_CASES.length);
  });

  for (const format of ['json', 'sarif', 'markdown', 'table'] as const) {
    it(`in ${format} output`, async () => {
      const render = await renderer();
      const text = render(report, format, { color: false, width: 200 });
      expect(text.length).toBeGreaterThan(100);
      expect(leaks(text)).toEqual([]);
    });
  }

  it('flags every server with PAL-C008 or PAL-C009', () => {
    for (const s of report.servers) expect(s.findings.some((f) => f.ruleId === 'PAL-C008' || f.ruleId === 'PAL-C009'), s.name).toBe(true);
  });

  it('in the spool written by report', async () => {
    const logs: string[] = [];
    const r = await reportOnce({ server: 'http://127.0.0.1:9', apiKey: 'pal_' + 'T'.repeat(43), home, platform: 'linux' }, { env: {}, stateDir: state, log: (m) => logs.push(m) });
    expect(r.delivered).toBe(false);
    const dir = path.join(state, 'spool');
    const files = await fs.readdir(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const stat = await fs.stat(path.join(dir, f));
      if (stat.isFile()) expect(leaks(await fs.readFile(path.join(dir, f), 'utf8')), f).toEqual([]);
    }
    expect(leaks(logs.join('\n'))).toEqual([]);
  });

  it('in a report spooled by an older agent that did not redact, once it is sent', () => {
    const raw = structuredClone(report);
    raw.servers[0]!.args = [...(CANARY_CASES[0]!.args ?? [])];
    expect(JSON.stringify(raw)).toContain(CANARY_CASES[0]!.canaries[0]);
    expect(leaks(redactBody(JSON.stringify(raw)))).toEqual([]);
  });
});
