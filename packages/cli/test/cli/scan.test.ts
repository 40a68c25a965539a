// `palisade scan` end to end: the real CLI from its sources, a fixture home on disk, every
// output format, exit codes, --output, and no fixture secret in any output.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { allRules, type ScanReport } from '@palisade/core';
import { scanReportJsonSchema } from '../../src/output/json-schema.js';
import { makeFixtureHome, repoRoot, runCli, secretsIn, type CliResult, type FixtureHome } from './helpers.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

let fx: FixtureHome;
let out: Record<'table' | 'json' | 'sarif' | 'markdown', CliResult>;
let tmp: string;

beforeAll(async () => {
  fx = makeFixtureHome();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-cli-out-'));
  const base = ['scan', '--home', fx.home, '--platform', 'linux'];
  const [table, json, sarif, markdown] = await Promise.all([runCli(base), runCli([...base, '--json']), runCli([...base, '--sarif']), runCli([...base, '--markdown'])]);
  out = { table: table!, json: json!, sarif: sarif!, markdown: markdown! };
}, 120_000);

afterAll(() => {
  fx.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

function validator(schema: object) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('palisade scan --json', () => {
  it('exits 0 and prints a report that validates against the committed JSON Schema', () => {
    expect(out.json.code, out.json.stderr).toBe(0);
    const report = JSON.parse(out.json.stdout) as ScanReport;
    const committed = JSON.parse(readFileSync(path.join(repoRoot, 'schema/scan-v1.schema.json'), 'utf8')) as object;
    const validate = validator(committed);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    // and against the closed form: no field the model does not declare
    const closed = validator(scanReportJsonSchema({ closed: true }));
    expect(closed(report), JSON.stringify(closed.errors)).toBe(true);
  });

  it('reports every server, the riskiest first, and the broken file as a client error', () => {
    const report = JSON.parse(out.json.stdout) as ScanReport;
    expect(report.schemaVersion).toBe(1);
    expect(report.servers.map((s) => s.name).sort()).toEqual(['everything', 'github <b>|`x`| @octo/team', 'pipe-to-shell', 'remote'].sort());
    const scores = report.servers.map((s) => s.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const broken = report.clients.find((c) => c.configPath === fx.cursorConfig);
    expect(broken?.error).toBeTruthy();
    expect(report.summary.errors).toBeGreaterThanOrEqual(1);
    expect(report.summary.servers).toBe(4);
  });

  it('keeps env names but never env values', () => {
    const report = JSON.parse(out.json.stdout) as ScanReport;
    const gh = report.servers.find((s) => s.name.startsWith('github'))!;
    expect(gh.envNames).toEqual(expect.arrayContaining(['GITHUB_TOKEN', 'MY_SETTING']));
    expect(out.json.stdout).not.toContain('fixture-env-value');
  });
});

describe('no fixture secret appears in any output', () => {
  for (const format of ['table', 'json', 'sarif', 'markdown'] as const) {
    it(format, () => {
      expect(out[format].code, out[format].stderr).toBe(0);
      expect(out[format].stdout.length).toBeGreaterThan(100);
      expect(secretsIn(out[format].stdout + out[format].stderr)).toEqual([]);
    });
  }
});

describe('palisade scan --sarif', () => {
  it('is SARIF 2.1.0 with one rule entry per registered rule and results pointing at the config file', () => {
    const sarif = JSON.parse(out.sarif.stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe('Palisade');
    const ids: string[] = run.tool.driver.rules.map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of allRules) expect(ids).toContain(rule.meta.id);
    for (const r of run.tool.driver.rules) {
      expect(r.shortDescription.text).toBeTruthy();
      expect(r.fullDescription.text).toBeTruthy();
      expect(r.help.text).toBeTruthy();
      expect(['error', 'warning', 'note']).toContain(r.defaultConfiguration.level);
      expect(r.properties['security-severity']).toMatch(/^\d+\.\d$/);
    }
    expect(run.results.length).toBeGreaterThan(0);
    // paths are relative to the scanned root (the home here), which %SRCROOT% names
    expect(run.originalUriBaseIds['%SRCROOT%'].uri).toBe(new URL(`file://${fx.home}/`).href);
    for (const res of run.results) {
      expect(ids[res.ruleIndex]).toBe(res.ruleId);
      expect(['error', 'warning', 'note']).toContain(res.level);
      expect(res.message.text).toBeTruthy();
      for (const loc of res.locations) {
        expect(loc.physicalLocation.artifactLocation).toMatchObject({ uriBaseId: '%SRCROOT%' });
        expect(loc.physicalLocation.artifactLocation.uri).not.toMatch(/^(?:file:|\/)/);
        expect(loc.physicalLocation.region.startLine).toBeGreaterThan(0);
      }
    }
    const shell = run.results.find((r: { message: { text: string } }) => r.message.text.startsWith('pipe-to-shell'));
    expect(shell.locations[0].physicalLocation.artifactLocation.uri).toBe('.config/Claude/claude_desktop_config.json');
    // the line of the server's own entry in the file
    const lines = readFileSync(fx.claudeConfig, 'utf8').split('\n');
    expect(lines[shell.locations[0].physicalLocation.region.startLine - 1]).toContain('"pipe-to-shell"');
    expect(shell.locations[0].logicalLocations[0].name).toBe('pipe-to-shell');
    expect(shell.level).toBe('error');
    // the unreadable file is reported, not hidden
    expect(run.invocations[0].toolExecutionNotifications.length).toBeGreaterThanOrEqual(1);
  });
});

describe('palisade scan --markdown', () => {
  it('has a summary table, a row per risky server and findings folded, with names escaped', () => {
    const md = out.markdown.stdout;
    expect(md).toContain('## Palisade MCP scan');
    expect(md).toMatch(/\| Level \| Servers \|/);
    expect(md).toContain('<details>');
    // outside code spans, markup from a server name is escaped and @-mentions are broken
    const prose = md.replace(/(`+)[\s\S]*?(?<!`)\1(?!`)/g, '');
    expect(prose).not.toContain('<b>');
    expect(prose).not.toMatch(/@octo/);
    expect(prose).toContain('&lt;b&gt;');
  });
});

describe('palisade scan (table)', () => {
  it('groups by level, shows the client error and a summary line, with no colour when not a terminal', () => {
    const t = out.table.stdout;
    expect(t).not.toContain('\u001b[');
    expect(t).toMatch(/^CRITICAL \(\d+\)$/m);
    expect(t).toContain('Could not read 1 config file');
    expect(t).toMatch(/\n4 servers: \d+ critical, \d+ high, \d+ medium, \d+ low, \d+ none\n\d+ findings; 1 config file could not be read\n$/);
    for (const line of t.split('\n')) if (!line.includes('/')) expect(line.length).toBeLessThanOrEqual(80);
  });
});

describe('exit codes and --output', () => {
  it('--fail-on exits 1 when a finding at or above the level exists', async () => {
    const r = await runCli(['scan', '--home', fx.home, '--platform', 'linux', '--json', '--fail-on', 'high']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).schemaVersion).toBe(1);
  });

  it('--fail-on exits 0 when nothing reaches the level', async () => {
    const safe = makeFixtureHome({ risky: false, broken: false });
    try {
      const r = await runCli(['scan', '--home', safe.home, '--platform', 'linux', '--fail-on', 'critical']);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      safe.cleanup();
    }
  });

  it('--output writes the chosen format to a 0600 file and nothing to stdout', async () => {
    const file = path.join(tmp, 'report.sarif');
    writeFileSync(file, 'old');
    chmodSync(file, 0o644);
    const r = await runCli(['scan', '--home', fx.home, '--platform', 'linux', '--sarif', '--output', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text).version).toBe('2.1.0');
    expect(secretsIn(text)).toEqual([]);
  });

  it('--output to a folder that does not exist exits 2 with one sentence and no stack trace', async () => {
    const r = await runCli(['scan', '--home', fx.home, '--platform', 'linux', '--output', path.join(tmp, 'missing', 'r.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^palisade: cannot write the report to .*its folder does not exist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
