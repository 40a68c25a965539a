// The line of each server's entry (SARIF region.startLine): JSON keys found by text (small and
// big files alike; ~/.claude.json grows to megabytes), list shapes by walking small files; a
// server that several projects share is placed in the right project.
import { describe, expect, it } from 'vitest';
import { contentFormat, entryLines } from '../../src/formats/lines.js';

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
