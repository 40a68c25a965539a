import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServerSummary } from './api/types';
import { serversToCsv } from './export';

// a small RFC 4180 reader to check what spreadsheets will see
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

function server(name: string, command: string): ServerSummary {
  return {
    id: 'id-1',
    fingerprint: 'f',
    name,
    transport: 'stdio',
    command,
    args: ['-y', 'pkg'],
    url: null,
    package: null,
    score: 90,
    level: 'critical',
    effectiveLevel: 'critical',
    override: null,
    clients: ['cursor', 'zed'],
    hostCount: 2,
    instanceCount: 2,
    findingCount: 3,
    firstSeen: '2026-11-22T00:00:00.000Z',
    lastSeen: '2026-11-22T01:00:00.000Z',
  };
}

describe('serversToCsv', () => {
  it('writes a header and one row per server', () => {
    const rows = parseCsv(serversToCsv([server('a', 'npx'), server('b', 'uvx')]));
    expect(rows[0]![0]).toBe('id');
    expect(rows.length).toBe(3);
    expect(rows[1]![1]).toBe('a');
    expect(rows[1]![10]).toBe('cursor zed');
  });
  it('keeps spreadsheets from running a name as a formula', () => {
    const rows = parseCsv(serversToCsv([server('=HYPERLINK("http://x")', '+cmd')]));
    expect(rows[1]![1]).toBe('\'=HYPERLINK("http://x")');
    expect(rows[1]![6]).toBe("'+cmd");
  });
  it('round-trips any name through a CSV reader', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, command) => {
        const rows = parseCsv(serversToCsv([server(name, command)]));
        expect(rows.length).toBe(2);
        const guarded = (s: string) => (/^[=+\-@\t\r]/.test(s) ? "'" + s : s);
        expect(rows[1]![1]).toBe(guarded(name));
        expect(rows[1]![6]).toBe(guarded(command));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
