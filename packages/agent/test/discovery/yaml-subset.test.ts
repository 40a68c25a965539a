// The small YAML reader must give exactly what the `yaml` package gives on every text it
// accepts (and give up on the rest). Generated documents in the shapes config files use, with
// tricky scalars written plain, quoted or in flow lists, comments and varied indentation; the
// same texts mutated character by character; JSON texts (JSON is YAML); and the repository's
// YAML fixtures.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseWithYaml } from 'yaml';
import { parseYaml } from '../../src/formats/index.js';
import { parseYamlSubset, UNSUPPORTED } from '../../src/formats/yaml-subset.js';

const fixturesDir = path.join(import.meta.dirname, '../fixtures');

/** The reference: what `yaml` makes of the text, or that it refuses it. */
function reference(text: string): { value: unknown } | { error: true } {
  try {
    return { value: parseWithYaml(text, { maxAliasCount: 100, logLevel: 'error' }) };
  } catch {
    return { error: true };
  }
}

let accepted = 0;
/** Asserts the subset reader agrees with `yaml` when it accepts; returns whether it did. */
function agrees(text: string): boolean {
  const mine = parseYamlSubset(text);
  if (mine === UNSUPPORTED) return false;
  const ref = reference(text);
  if ('error' in ref) throw new Error(`accepted a text yaml refuses: ${JSON.stringify(text)} -> ${JSON.stringify(mine)}`);
  if (!isDeepStrictEqual(mine, ref.value)) throw new Error(`differs from yaml on ${JSON.stringify(text)}:\n mine ${JSON.stringify(mine)}\n yaml ${JSON.stringify(ref.value)}`);
  accepted++;
  return true;
}

// ---- generated documents ----
const TRICKY = [
  'npx', 'uvx', '-y', '--port', '-', '--', '8080', '-1', '0', '-0', '007', '+1', '1.5', '-2.25', '1.', '.5', '1e3', '0x1F', '0o17', '.inf', '-.Inf', '.nan',
  'true', 'True', 'FALSE', 'yes', 'no', 'on', 'null', 'Null', '~', '', ' ', ' lead', 'trail ', 'a b', 'a: b', 'a:b', 'a:', ':a', 'a #b', 'a#b', '#x', '- y', '-y',
  '?x', '? x', "it's", 'say "hi"', 'back\\slash', 'tab\there', 'line\nbreak', '@scope/pkg@1.2.3', '&anchor', '*alias', '!tag', '|', '>', '%x', '`x`', 'a,b', '[x]', '{x}',
  'x]', 'x}', 'https://mcp.example.com:8443/mcp?x=1&y=2', '${API_KEY}', '${input:token}', 'Bearer ${TOKEN}', 'ü ñ 中文', '😀', '__proto__', '<<', 'constructor',
  '12345678901234567890', '1_000', '---', '...', 'x\u2028y', 'é\u0085',
];
const KEYS = ['name', 'command', 'args', 'env', 'url', 'type', 'mcpServers', 'extensions', 'a', 'b', 'API_KEY', 'my-server', 'srv.1', 'x y', '1', 'true', 'null', '~', '-k', 'k:', 'k #', '"q"', "'s'", '__proto__', '<<', 'é'];

type Tree = string | number | boolean | null | Tree[] | { [k: string]: Tree };
const scalar = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 8 }), fc.integer({ min: -1e6, max: 1e6 }), fc.boolean(), fc.constant(null));
const { tree } = fc.letrec<{ tree: Tree; map: Tree; seq: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('seq')),
  map: fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('tree'), { maxKeys: 4 }),
  seq: fc.array(tie('tree'), { maxLength: 4 }),
}));

interface Style {
  indent: number;
  /** how each scalar is written: plain (as is, even where that changes its meaning), quoted... */
  quoting: number[];
  flowLists: boolean;
  seqUnderKeyIndented: boolean;
  comments: boolean;
  docStart: boolean;
}
const style: fc.Arbitrary<Style> = fc.record({
  indent: fc.integer({ min: 1, max: 4 }),
  quoting: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
  flowLists: fc.boolean(),
  seqUnderKeyIndented: fc.boolean(),
  comments: fc.boolean(),
  docStart: fc.boolean(),
});

function render(value: Tree, st: Style): string {
  let q = 0;
  const writeScalar = (v: Tree): string => {
    const how = st.quoting[q++ % st.quoting.length]!;
    const s = v === null ? 'null' : String(v);
    if (how === 0 || typeof v !== 'string') return s; // plain, whatever that means in YAML
    if (how === 1) return JSON.stringify(s); // double-quoted (JSON escapes are YAML escapes)
    if (how === 2) return `'${s.replaceAll("'", "''")}'`;
    return `"${s}"`; // double quotes around raw text: often invalid, which is the point
  };
  const comment = (i: number): string => (st.comments && i % 3 === 1 ? ' # note' : '');
  const lines: string[] = [];
  if (st.docStart) lines.push('---');
  const isScalar = (v: Tree): v is string | number | boolean | null => v === null || typeof v !== 'object';
  const write = (v: Tree, indent: number, lead: string | undefined): void => {
    const pad = ' '.repeat(indent);
    // `lead`: a `- ` already written on the current line, where this collection starts
    let first = lead !== undefined;
    const open = (): string => {
      if (first) {
        first = false;
        return lines.pop()!;
      }
      return pad;
    };
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const start = open();
        if (isScalar(item) || (Array.isArray(item) && item.length === 0) || (!Array.isArray(item) && Object.keys(item as object).length === 0)) {
          lines.push(`${start}- ${isScalar(item) ? writeScalar(item) : Array.isArray(item) ? '[]' : '{}'}${comment(i)}`);
        } else {
          lines.push(`${start}- `);
          write(item, indent + 2, '- ');
        }
      });
      return;
    }
    Object.entries(v as Record<string, Tree>).forEach(([k, item], i) => {
      const start = open();
      const key = writeScalar(k);
      if (isScalar(item)) lines.push(`${start}${key}: ${writeScalar(item)}${comment(i)}`);
      else if (Array.isArray(item) && item.length === 0) lines.push(`${start}${key}: []`);
      else if (!Array.isArray(item) && Object.keys(item).length === 0) lines.push(`${start}${key}: {}`);
      else if (Array.isArray(item) && st.flowLists && item.every(isScalar)) lines.push(`${start}${key}: [${item.map(writeScalar).join(', ')}]${comment(i)}`);
      else {
        lines.push(`${start}${key}:${comment(i + 1)}`);
        if (st.comments && i % 2 === 0) lines.push(`${pad}  # about ${i}`);
        const deeper = Array.isArray(item) && !st.seqUnderKeyIndented ? indent : indent + st.indent;
        write(item, deeper, undefined);
      }
    });
  };
  write(value, 0, undefined);
  return lines.join('\n') + '\n';
}

const docs = fc.tuple(fc.oneof(fc.dictionary(fc.constantFrom(...KEYS), tree, { minKeys: 1, maxKeys: 4 }), fc.array(tree, { minLength: 1, maxLength: 3 })), style).map(([v, st]) => render(v, st));

const MUTATION_CHARS = [' ', '  ', ':', ': ', '-', '- ', '#', ' #', "'", '"', '[', ']', '{', '}', ',', '\n', '\n  ', '&', '*', '!', '|', '>', '?', '\\', '\t', '\r', '0', 'x', '---\n'];
const mutated = fc
  .tuple(docs, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...MUTATION_CHARS)), { minLength: 1, maxLength: 3 }))
  .map(([text, edits]) => {
    let t = text;
    for (const [at, del, ins] of edits) {
      const i = at % (t.length + 1);
      t = t.slice(0, i) + ins + t.slice(i + del);
    }
    return t;
  });

const jsonDocs = fc
  .tuple(fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 5 })), fc.jsonValue({ maxDepth: 3 }), { minKeys: 0, maxKeys: 5 }), fc.constantFrom(0, 1, 2, 4, '\t'))
  .map(([v, indent]) => JSON.stringify(v, null, indent));

describe('the small YAML reader', () => {
  it('gives what yaml gives on generated config-like documents', () => {
    accepted = 0;
    fc.assert(fc.property(docs, (text) => void agrees(text)), { numRuns: 3000 });
    // not vacuous: most of these are plain enough for it
    expect(accepted).toBeGreaterThan(600);
  });

  it('gives what yaml gives on mutated documents (or leaves them to yaml)', () => {
    accepted = 0;
    fc.assert(fc.property(mutated, (text) => void agrees(text)), { numRuns: 3000 });
    expect(accepted).toBeGreaterThan(100);
  });

  it('gives what yaml gives on JSON documents, written compact or indented', () => {
    accepted = 0;
    fc.assert(fc.property(jsonDocs, (text) => void agrees(text)), { numRuns: 1000 });
    expect(accepted).toBeGreaterThan(250);
  });

  it('reads the shapes real clients write, as yaml does', () => {
    const goose = [
      '# Goose configuration',
      'GOOSE_PROVIDER: anthropic',
      'GOOSE_MODEL: claude-sonnet-4',
      'extensions:',
      '  developer:',
      '    bundled: true',
      '    enabled: true',
      '    name: developer',
      '    timeout: 300',
      '    type: builtin',
      '  github:',
      '    args:',
      '    - -y',
      '    - "@modelcontextprotocol/server-github"',
      '    cmd: npx',
      '    enabled: true',
      '    envs:',
      '      GITHUB_PERSONAL_ACCESS_TOKEN: ${GITHUB_TOKEN}',
      '    env_keys: []',
      '    name: github',
      '    timeout: 300',
      '    type: stdio',
      '    description: null',
      '',
    ].join('\n');
    const continueYaml = [
      'name: My Assistant',
      'version: 0.0.1',
      'schema: v1',
      'models:',
      '  - name: Claude',
      '    provider: anthropic',
      '    model: claude-3-7-sonnet-latest',
      '    apiKey: ${{ secrets.ANTHROPIC_API_KEY }}',
      '    roles: [chat, edit]',
      'mcpServers:',
      '  - name: SQLite MCP',
      '    command: npx',
      '    args:',
      '      - "-y"',
      '      - "mcp-sqlite"',
      '      - "/path/to/your/database.db"',
      '  - name: remote', // a comment-free second entry
      '    type: streamable-http',
      "    url: 'https://mcp.example.com/mcp'",
      '',
    ].join('\n');
    const libreChat = [
      'version: 1.2.8',
      'cache: true',
      'mcpServers:',
      '  everything:',
      '    # type: sse # type can optionally be omitted',
      '    url: http://localhost:3001/sse',
      '    timeout: 60000  # 1 minute timeout for this server',
      '  puppeteer:',
      '    type: stdio',
      '    command: npx',
      '    args:',
      '      - -y',
      '      - "@modelcontextprotocol/server-puppeteer"',
      '    headers:',
      '      Authorization: "Bearer {{LIBRECHAT_USER_ID}}"',
      '    iconPath: /home/user/LibreChat/client/public/assets/logo.svg',
      '',
    ].join('\n');
    for (const text of [goose, continueYaml, libreChat]) expect(agrees(text), text).toBe(true);
  });

  it('agrees with yaml on every YAML fixture of the repository, accepting the plain ones', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.ya?ml$/.test(name)) files.push(p);
      }
    };
    walk(fixturesDir);
    expect(files.length).toBeGreaterThan(5);
    let read = 0;
    for (const f of files) if (agrees(readFileSync(f, 'utf8'))) read++;
    expect(read).toBeGreaterThanOrEqual(files.length - 2);
  });

  it('leaves to yaml what it does not read exactly', () => {
    const left = [
      'a: &x 1\nb: *x\n', // anchors and aliases
      'a: !!str 1\n', // tags
      'a: |\n  text\n', // block scalars
      'a: >\n  folded\n',
      'a: one\n  two\n', // a plain scalar on two lines
      'a: "one\n  two"\n', // a quoted one
      'a: {b: 1}\n', // flow mappings with content
      'a: [1, [2]]\n',
      '? a\n: b\n', // explicit keys
      'a: 1\na: 2\n', // duplicate keys (yaml refuses them)
      'a:\n\tb: 1\n', // tabs
      'a: 1\r\nb: 2\r\n', // CR LF
      'a: 1\n---\nb: 2\n', // two documents
      '%YAML 1.2\n---\na: 1\n',
      '1: a\n', // keys that are not strings
      'a: 0x1F\n', // numbers beyond plain decimals
      'a: 1e3\n',
      'a: 12345678901234567890\n',
      'just a string\n',
      '{"a": 1, "a": 2}', // JSON with a duplicate key
      '{"a": 1} # comment',
      `{"${'k'.repeat(1100)}": 1}`,
      '{"__proto__": {"x": 1}}',
    ];
    for (const text of left) expect(parseYamlSubset(text), text).toBe(UNSUPPORTED);
  });

  it('reads a JSON document with a huge string full of escaped quotes in one pass', () => {
    // a search that could start at every escaped quote would never finish on this
    const value = { mcpServers: { a: { command: 'x', args: ['\\"'.repeat(300_000)] } } };
    const text = JSON.stringify(value);
    expect(parseYamlSubset(text)).toEqual(JSON.parse(text));
  });

  it('parseYaml reads through it and still falls back to yaml, errors included', () => {
    expect(parseYaml('mcpServers:\n  - name: a\n    command: npx\n    args: [-y, "pkg@1.0.0", 8080]\n')).toEqual({ mcpServers: [{ name: 'a', command: 'npx', args: ['-y', 'pkg@1.0.0', 8080] }] });
    expect(parseYaml('a: &x [1]\nb: *x\n')).toEqual({ a: [1], b: [1] });
    expect(parseYaml('# only a comment\n')).toEqual({});
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow(/invalid YAML: .*unique/);
  });
});
