// The line of each server's entry (SARIF region.startLine): JSON keys found by text (small and
// big files alike; ~/.claude.json grows to megabytes), list shapes by walking small files; a
// server that several projects share is placed in the right project.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentFormat, entryLines, type LineTarget } from '../../src/formats/lines.js';

/** The key search as it was written first (one substring search per key): the reference the indexed one must equal. */
function referenceKeyLines(text: string, targets: readonly LineTarget[]): Array<number | undefined> {
  const keyAt = (key: string, from: number): number => {
    const needle = JSON.stringify(key);
    for (let i = text.indexOf(needle, from); i !== -1; i = text.indexOf(needle, i + 1)) {
      let j = i + needle.length;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
      if (text[j] === ':') return i;
    }
    return -1;
  };
  let cursor = 0;
  const picks = targets.map((t) => {
    if (t.projectPath) {
      let p = keyAt(t.projectPath, cursor);
      if (p === -1) p = keyAt(t.projectPath, 0);
      if (p !== -1) {
        cursor = p;
        const at = keyAt(t.name, p);
        if (at !== -1) return at;
      }
    }
    let best = -1;
    let bestIndent = Infinity;
    for (let at = keyAt(t.name, 0), n = 0; at !== -1 && n < 1000; at = keyAt(t.name, at + 1), n++) {
      const indent = at - (text.lastIndexOf('\n', at) + 1);
      if (indent < bestIndent) {
        best = at;
        bestIndent = indent;
      }
    }
    return best;
  });
  return picks.map((p) => (p >= 0 ? text.slice(0, p).split('\n').length : undefined));
}

function claudeJson(padding: number): string {
  const projects: Record<string, unknown> = {};
  for (let i = 0; i < 5; i++) projects[`/home/a/p${i}`] = { history: Array.from({ length: padding }, (_, j) => ({ display: `prompt ${j} "github": no` })), mcpServers: { github: { command: 'npx', args: [`p${i}`] } } };
  return JSON.stringify({ numStartups: 3, projects, mcpServers: { github: { command: 'top' } } }, null, 2);
}

function check(text: string): void {
  const targets = [{ name: 'github' }, ...[3, 0, 4].map((i) => ({ name: 'github', projectPath: `/home/a/p${i}` }))];
  const lines = entryLines(text, 'json', targets);
  const all = text.split('\n');
  // the top-level entry: its next lines hold its own command
  expect(all.slice(lines[0]! - 1, lines[0]! + 1).join('\n')).toMatch(/"github": \{\n\s+"command": "top"/);
  [3, 0, 4].forEach((p, i) => {
    const at = lines[i + 1]!;
    expect(all[at - 1]).toMatch(/^\s+"github": \{$/);
    expect(all.slice(at - 1, at + 5).join('\n')).toContain(`"p${p}"`);
  });
}

describe('entry lines', () => {
  it('small JSON', () => check(claudeJson(3)));
  it('JSON lists name servers by value: found by walking the file', () => {
    expect(entryLines('{"mcpServers": [\n  {"name": "a", "command": "x"},\n  {"name": "b", "command": "y"}\n]}', 'json', [{ name: 'b' }, { name: 'a' }])).toEqual([3, 2]);
  });
  it('big JSON (over 128 KiB), project entries in document order or not', () => {
    const text = claudeJson(3000);
    expect(text.length).toBeGreaterThan(128 * 1024);
    check(text);
  });
  it('big JSON: thousands of servers in one file are all placed (one pass over the text, not one per server)', () => {
    const mcpServers = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`s${i}`, { command: 'npx', args: [`@acme/s${i}`] }]));
    const text = JSON.stringify({ history: Array.from({ length: 2000 }, (_, i) => ({ display: `"s${i}": mentioned` })), mcpServers }, null, 2);
    const targets = Object.keys(mcpServers).map((name) => ({ name }));
    const lines = entryLines(text, 'json', targets);
    const all = text.split('\n');
    lines.forEach((l, i) => expect(all[l! - 1]).toBe(`    "s${i}": {`));
  });
  it('JSON key search: the same lines as searching the text for each key (escapes, keys inside values, projects)', () => {
    const key = fc.constantFrom('a', 'b', 'a"b', 'a\\', '\\"', 'é', '/p/x', ':', ' a');
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 6 }), key, fc.integer(), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
      object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    })).object;
    fc.assert(
      fc.property(json, fc.array(fc.record({ name: key, projectPath: fc.option(key, { nil: undefined }) }), { minLength: 1, maxLength: 6 }), fc.boolean(), (doc, targets, pretty) => {
        const text = pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc);
        const clean = targets.map((t) => (t.projectPath === undefined ? { name: t.name } : t));
        // the key search alone: a big file is never walked, so pad it past the walk limit
        const big = `${text}${' '.repeat(130 * 1024)}`;
        expect(entryLines(big, 'json', clean)).toEqual(referenceKeyLines(big, clean));
      }),
      { numRuns: 300 },
    );
  });
  it('YAML keys, YAML list names and TOML table headers', () => {
    expect(entryLines('extensions:\n  dev:\n    type: builtin\n  "fetch":\n    cmd: uvx\n', 'yaml', [{ name: 'fetch' }, { name: 'dev' }])).toEqual([4, 2]);
    expect(entryLines('mcpServers:\n  - name: "SQLite MCP"\n    command: npx\n', 'yaml', [{ name: 'SQLite MCP' }])).toEqual([2]);
    expect(entryLines('[projects."/x"]\ntrust_level = "trusted"\n\n[mcp_servers."my.server"]\ncommand = "a"\n[mcp_servers.b.env]\nX = "1"\n[mcp_servers.b]\n', 'toml', [{ name: 'my.server' }, { name: 'b' }])).toEqual([4, 8]);
  });
  it('tells the format from the content', () => {
    expect(contentFormat('// c\n{"a":1}')).toBe('json');
    expect(contentFormat('[mcp_servers.x]\ncommand = "node"\n')).toBe('toml');
    expect(contentFormat('model = "o3"\n')).toBe('toml');
    expect(contentFormat('mcpServers:\n  x: {}\n')).toBe('yaml');
    expect(contentFormat('["a", "b"]')).toBe('json');
  });
});
