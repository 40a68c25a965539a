// The renderers on a real scan of a fixture home, plus property tests of the text helpers
// that stand between untrusted config text and a terminal or a pull-request comment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ScanReport } from '@palisade/core';
import { locationContext, scan } from '@palisade/agent';

import { renderTable, wrap } from '../../src/output/table.js';
import { escapeHtml, escapeMarkdown, inlineCode, renderMarkdown } from '../../src/output/markdown.js';
import { artifactUri, relativeToRoot, renderSarif, sarifLevel } from '../../src/output/sarif.js';
import { oneLine, terminalSafe } from '../../src/output/order.js';
import { outputFormat, useColor, worstLevel } from '../../src/cli.js';
import { makeFixtureHome, secretsIn, type FixtureHome } from '../cli/helpers.js';

let fx: FixtureHome;
let report: ScanReport;

beforeAll(async () => {
  fx = makeFixtureHome();
  report = await scan({ loc: locationContext({ home: fx.home, platform: 'linux' }), now: new Date('2026-01-02T03:04:05Z') });
});
afterAll(() => fx.cleanup());

describe('table', () => {
  it('paints levels only when asked, and fits 80 columns apart from file paths', () => {
    const plain = renderTable(report, { color: false });
    const coloured = renderTable(report, { color: true });
    expect(plain).not.toContain('\u001b[');
    expect(coloured).toContain('\u001b[');
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(plain);
    for (const line of plain.split('\n')) if (!line.includes('/')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('lists groups from critical down', () => {
    const plain = renderTable(report, { color: false });
    const heads = plain.split('\n').filter((l) => /^(CRITICAL|HIGH|MEDIUM|LOW|NONE) \(\d+\)$/.test(l)).map((l) => l.split(' ')[0]);
    const order = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE'];
    expect(heads).toEqual([...heads].sort((a, b) => order.indexOf(a!) - order.indexOf(b!)));
    expect(heads.length).toBeGreaterThanOrEqual(2);
  });

  it('escapes terminal control sequences and invisible characters from config text', () => {
    const evil: ScanReport = structuredClone(report);
    evil.servers[0]!.name = 'x\u001b]0;pwned\u0007\u202eevil\u200b';
    const t = renderTable(evil, { color: false });
    // eslint-disable-next-line no-control-regex
    expect(t).not.toMatch(/[\u0007\u001b\u202e\u200b]/);
    expect(t).toContain('x\\x1b]0;pwned\\x07\\u{202e}evil\\u{200b}');
  });

  it('wrap keeps every word, in order, within the width', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z]{1,30}$/), { maxLength: 40 }), fc.integer({ min: 10, max: 100 }), (words, width) => {
        const lines = wrap(words.join(' '), width);
        for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
        expect(lines.join('').replace(/ /g, '')).toBe(words.join(''));
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('terminalSafe leaves no control character but newline and tab', () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        // eslint-disable-next-line no-control-regex
        expect(terminalSafe(s)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
        expect(oneLine(s)).not.toMatch(/[\r\n]/);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('markdown', () => {
  it('escapes markup, HTML and mentions so untrusted text renders as text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const md = escapeMarkdown(s);
        expect(md).not.toMatch(/[<>\n]/);
        expect(md).not.toMatch(/@[A-Za-z0-9]/);
        // every pipe is escaped, so a table cell cannot be split
        expect(md.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])\|/);
        expect(escapeHtml(s)).not.toMatch(/[<>"]/);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('inlineCode fences with more backticks than the text holds', () => {
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('`x`')).toBe('`` `x` ``');
    expect(inlineCode('a|b', true)).toBe('`a\\|b`');
    expect(inlineCode('a|b')).toBe('`a|b`');
  });

  it('renders the scan with a summary and folded findings, and no secret', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| 🟥 critical |');
    expect(md.match(/<details>/g)?.length).toBe(report.servers.filter((s) => s.level !== 'none').length);
    expect(secretsIn(md)).toEqual([]);
  });
});

describe('sarif', () => {
  it('maps severities to SARIF levels', () => {
    expect(['critical', 'high', 'medium', 'low', 'info'].map((s) => sarifLevel(s as 'high'))).toEqual(['error', 'error', 'warning', 'note', 'note']);
  });

  it('turns POSIX and Windows paths into file URIs and keeps relative ones relative', () => {
    expect(artifactUri('/home/a b/.cursor/mcp.json')).toBe('file:///home/a%20b/.cursor/mcp.json');
    expect(artifactUri('C:\\Users\\Zoë\\AppData\\Roaming\\Claude\\claude_desktop_config.json')).toBe('file:///C:/Users/Zo%C3%AB/AppData/Roaming/Claude/claude_desktop_config.json');
    expect(artifactUri('.vscode/mcp.json')).toBe('.vscode/mcp.json');
  });

  it('writes paths under the scanned root relative to %SRCROOT%, others as file URIs, with the entry line', () => {
    expect(relativeToRoot('/home/alice/.cursor/mcp.json', '/home/alice')).toBe('.cursor/mcp.json');
    expect(relativeToRoot('/home/alice2/mcp.json', '/home/alice')).toBeUndefined();
    expect(relativeToRoot('C:\\Users\\Alice\\.cursor\\mcp.json', 'c:\\users\\alice\\')).toBe('.cursor/mcp.json');
    const server = report.servers.find((s) => s.findings.length > 0)!;
    const moved: ScanReport = { ...report, servers: [{ ...server, configPath: '/etc/elsewhere/mcp.json', configLine: 7 }, ...report.servers.filter((s) => s !== server)] };
    const sarif = JSON.parse(renderSarif(moved, { root: fx.home }));
    const results = sarif.runs[0].results as Array<{ properties: { serverId: string }; locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region?: { startLine: number } } }> }>;
    const outside = results.find((r) => r.properties.serverId === server.id)!.locations[0]!.physicalLocation;
    expect(outside).toEqual({ artifactLocation: { uri: 'file:///etc/elsewhere/mcp.json' }, region: { startLine: 7 } });
    const inside = results.find((r) => r.properties.serverId !== server.id && r.properties.serverId)!.locations[0]!.physicalLocation;
    expect(inside.artifactLocation).toEqual({ uri: '.config/Claude/claude_desktop_config.json', uriBaseId: '%SRCROOT%' });
    expect(inside.region!.startLine).toBeGreaterThan(1);
  });

  it('has a result per server finding and per cross-server finding', () => {
    const sarif = JSON.parse(renderSarif(report));
    const expected = report.servers.reduce((n, s) => n + s.findings.length, 0) + report.findings.length;
    expect(sarif.runs[0].results).toHaveLength(expected);
    expect(secretsIn(JSON.stringify(sarif))).toEqual([]);
  });
});

describe('cli helpers', () => {
  it('picks one format', () => {
    expect(outputFormat({})).toBe('table');
    expect(outputFormat({ sarif: true })).toBe('sarif');
  });

  it('colours only a terminal without NO_COLOR, --no-color or --output', () => {
    expect(useColor({}, {}, true)).toBe(true);
    expect(useColor({}, {}, false)).toBe(false);
    expect(useColor({}, { NO_COLOR: '1' }, true)).toBe(false);
    expect(useColor({}, { NO_COLOR: '' }, true)).toBe(true);
    expect(useColor({ color: false }, {}, true)).toBe(false);
    expect(useColor({ output: 'x' }, {}, true)).toBe(false);
  });

  it('worstLevel counts cross-server findings too', () => {
    const r: ScanReport = structuredClone(report);
    r.servers = [];
    r.findings = [{ ruleId: 'PAL-F001', severity: 'high', title: 't', message: 'm', evidence: 'e', servers: [] }];
    expect(worstLevel(r)).toBe('high');
    r.findings = [];
    expect(worstLevel(r)).toBe('none');
  });
});

describe('markdown size', () => {
  it('stays under the comment size limit and says what it left out', () => {
    const big: ScanReport = structuredClone(report);
    const risky = report.servers.find((s) => s.level !== 'none')!;
    big.servers = Array.from({ length: 2000 }, (_, i) => ({ ...structuredClone(risky), id: `id-${i}`, name: `server-${i}` }));
    const md = renderMarkdown(big);
    expect(md.length).toBeLessThanOrEqual(60_000);
    expect(md).toMatch(/more risky servers are not listed/);
    // every <details> that was opened is closed
    expect(md.match(/<details>/g)?.length).toBe(md.match(/<\/details>/g)?.length);
  });
});
