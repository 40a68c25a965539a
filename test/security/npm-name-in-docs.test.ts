// On the npm registry `palisade` is an unrelated package: a command or client config in the docs
// that runs `npx palisade ...` would download and run someone else's code. The agent's package is
// palisade-mcp; the backend and the gateway run from a checkout (node packages/cli/bin/palisade.js).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function markdownFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  for (const pkg of readdirSync(path.join(root, 'packages'))) {
    try {
      readFileSync(path.join(root, 'packages', pkg, 'README.md'));
      out.push(path.join('packages', pkg, 'README.md'));
    } catch {
      // no README in this package
    }
  }
  return out;
}

// `npx palisade`, `npx -y palisade`, `npx --yes palisade` not followed by -mcp (or another name character)
const NPX_PALISADE = /npx\s+(?:(?:-y|--yes)\s+)?palisade(?![\w-])/;
// a client config that launches it: "command": "npx", "args": ["palisade", ...] (with or without -y)
const NPX_CONFIG = /"command"\s*:\s*"npx"\s*,\s*"args"\s*:\s*\[\s*(?:"(?:-y|--yes)"\s*,\s*)?"palisade"/;

describe('the docs never run the unrelated npm package `palisade`', () => {
  it('finds the patterns it looks for', () => {
    expect(NPX_PALISADE.test('npx palisade gateway --config g.yaml')).toBe(true);
    expect(NPX_PALISADE.test('npx -y palisade scan')).toBe(true);
    expect(NPX_PALISADE.test('npx palisade-mcp scan')).toBe(false);
    expect(NPX_CONFIG.test('{ "command": "npx", "args": ["palisade", "guard", "--"] }')).toBe(true);
    expect(NPX_CONFIG.test('{ "command": "npx", "args": ["-y", "palisade-mcp", "scan"] }')).toBe(false);
  });

  it.each(markdownFiles())('%s', (file) => {
    const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
    const bad = lines
      .map((line, i) => ({ line, n: i + 1 }))
      // the sentences that warn about the name are the only place it may appear
      .filter(({ line }) => (NPX_PALISADE.test(line) && !/\bnever\b|unrelated/i.test(line)) || NPX_CONFIG.test(line))
      .map(({ line, n }) => `${file}:${n}: ${line.trim()}`);
    expect(bad).toEqual([]);
  });
});
