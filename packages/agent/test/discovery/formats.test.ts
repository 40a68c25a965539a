// The config readers: clear errors with a place for broken files, and property tests that
// no input makes them throw anything but a plain Error (never a crash, never a hang).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { ClientResultSchema, ServerConfigSchema } from '@palisade/core';
import { discover } from '../../src/discover.js';
import { tempDir, write } from './helpers.js';
import { describe, expect, it } from 'vitest';
import { discoverers } from '../../src/clients/index.js';
import type { LocationContext } from '../../src/clients/types.js';
import { parseJsonc, parseToml, parseYaml } from '../../src/formats/index.js';
import { locationContext } from '../../src/paths.js';

const loc: LocationContext = locationContext({ home: '/nonexistent-home', platform: 'linux' });
const RUNS = { seed: 42, numRuns: 200 };

function throwsOnlyCleanErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RangeError);
    expect(err).not.toBeInstanceOf(TypeError);
    expect((err as Error).message.length).toBeGreaterThan(0);
  }
}

describe('format readers', () => {
  it('JSON errors say line and column', () => {
    expect(() => parseJsonc('{\n  "a": 1,\n  "b": }\n')).toThrow(/invalid JSON at line 3, column 8/);
  });
  it('accepts comments, trailing commas and a byte-order mark', () => {
    expect(parseJsonc('\uFEFF{ // c\n "a": [1, 2,], /* x */ }')).toEqual({ a: [1, 2] });
  });
  it('TOML and YAML errors say where', () => {
    expect(() => parseToml('[a]\nb = "x\n')).toThrow(/invalid TOML: .*line 2/);
    expect(() => parseYaml('a: [1\nb: 2\n')).toThrow(/invalid YAML: .*line \d/);
  });
  it('keeps numbers and booleans in YAML argument lists as written', () => {
    const goose = discoverers.find((d) => d.id === 'goose')!;
    const [s] = goose.parse('extensions:\n  x:\n    cmd: srv\n    args: [--port, 8080, --verbose, true]\n', { path: '/x/config.yaml', scope: 'user', loc });
    expect(s!.args).toEqual(['--port', '8080', '--verbose', 'true']);
  });
  it('refuses YAML alias bombs instead of expanding them', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    expect(() => parseYaml(lines.join('\n'))).toThrow(/invalid YAML/);
  });
  it('absurdly deep nesting is an error, not a stack overflow', () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    throwsOnlyCleanErrors(() => parseJsonc(deep));
    throwsOnlyCleanErrors(() => parseYaml(deep));
    throwsOnlyCleanErrors(() => parseToml(`a = ${deep}`));
  });
});

describe('properties', () => {
  it('arbitrary text never makes a reader throw anything but a clean Error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        throwsOnlyCleanErrors(() => parseJsonc(text));
        throwsOnlyCleanErrors(() => parseToml(text));
        throwsOnlyCleanErrors(() => parseYaml(text));
      }),
      RUNS,
    );
  });

  it('arbitrary JSON documents never crash a discoverer: servers or a clean Error', () => {
    // shapes near the real ones (mcpServers, servers, context_servers, mcp, projects) plus noise
    const value = fc.jsonValue({ maxDepth: 4 });
    const doc = fc.oneof(
      value,
      fc.record({ mcpServers: value }),
      fc.record({ mcpServers: fc.dictionary(fc.string({ maxLength: 8 }), value) }),
      fc.record({ servers: value, mcp: value, context_servers: value, projects: fc.dictionary(fc.string({ maxLength: 8 }), fc.record({ mcpServers: value })) }),
      fc.record({ experimental: fc.record({ modelContextProtocolServers: value }), plugins: value }),
    );
    fc.assert(
      fc.property(doc, (d) => {
        const text = JSON.stringify(d);
        for (const disc of discoverers) {
          throwsOnlyCleanErrors(() => {
            const servers = disc.parse(text, { path: '/x/config.json', scope: 'user', loc });
            expect(Array.isArray(servers)).toBe(true);
          });
          if (disc.follow) throwsOnlyCleanErrors(() => disc.follow!(text, { path: '/x/i.json', scope: 'user', loc }));
        }
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('arbitrary YAML and TOML documents never crash Goose, Continue or Codex', () => {
    const goose = discoverers.find((d) => d.id === 'goose')!;
    const cont = discoverers.find((d) => d.id === 'continue')!;
    const codex = discoverers.find((d) => d.id === 'codex')!;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const asYaml = JSON.stringify({ extensions: v, mcpServers: v });
        throwsOnlyCleanErrors(() => goose.parse(asYaml, { path: '/x/config.yaml', scope: 'user', loc }));
        throwsOnlyCleanErrors(() => cont.parse(asYaml, { path: '/x/config.yaml', scope: 'user', loc }));
        throwsOnlyCleanErrors(() => codex.parse(`[mcp_servers.a]\ncommand = ${JSON.stringify(JSON.stringify(v))}\n`, { path: '/x/config.toml', scope: 'user', loc }));
      }),
      RUNS,
    );
  });
});

describe('discover never throws', () => {
  it('whatever bytes sit in the config files, discover resolves with schema-valid results', async () => {
    const root = await tempDir();
    const files = ['.cursor/mcp.json', '.codex/config.toml', '.config/goose/config.yaml', '.claude.json', '.claude/plugins/installed_plugins.json', '.continue/config.yaml', '.aws/amazonq/cli-agents/a.json'];
    const content = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ mcpServers: v, projects: v, plugins: v, extensions: v, mcp_servers: v })),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
    );
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(content, { minLength: files.length, maxLength: files.length }), async (contents) => {
          const home = path.join(root, String(n++));
          await Promise.all(files.map((f, i) => write(home, f, contents[i]!)));
          const r = await discover({ loc: locationContext({ home, platform: 'linux' }), paths: [home], configFiles: [path.join(home, files[0]!)] });
          for (const c of r.clients) ClientResultSchema.parse(c);
          for (const s of r.servers) ServerConfigSchema.parse(s);
        }),
        { seed: 42, numRuns: 40 },
      );
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
