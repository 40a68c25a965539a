// A reader for the plain YAML that AI clients' config files are written in: block mappings,
// block sequences, plain and quoted one-line scalars, one-line flow sequences of simple items,
// `[]`, `{}` and comments. It exists because the full `yaml` parser is the largest single cost
// of a scan that meets a YAML file (~70M instructions for four small files, most of it building
// its concrete syntax tree), and that parser is only loaded when this one gives up.
//
// The contract: for every text it accepts it returns exactly what `yaml`'s parse() returns
// (YAML 1.2 core schema); for anything else (anchors, aliases, tags, block scalars, multi-line
// scalars or flow collections, flow maps with content, `? ` keys, duplicate keys, tabs, CR,
// documents markers after the first line, odd numbers...) it returns UNSUPPORTED and the caller
// uses `yaml`, which also reports the errors. Tested against `yaml` on generated documents.

/** Returned when the text uses YAML this reader does not handle exactly: parse it with `yaml`. */
export const UNSUPPORTED: unique symbol = Symbol('yaml-subset: unsupported');

/** Deeper block nesting is left to `yaml` (this reader recurses once per level). */
const MAX_DEPTH = 100;
/** `yaml` refuses implicit keys of 1024 characters or more: leave long keys to it. */
const MAX_KEY = 1000;

class Unsupported extends Error {}
const giveUp = (): never => {
  throw new Unsupported();
};

interface Line {
  indent: number;
  /** text after the indent, trailing spaces included */
  text: string;
}

// anything but LF as a line break or space as white space, control and non-characters, the
// byte order mark inside the text: `yaml` has its own rules for each, so it reads such a file
// eslint-disable-next-line no-control-regex
const ODD_CHARS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u0085\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function parseYamlSubset(text: string): unknown {
  if (ODD_CHARS.test(text)) return UNSUPPORTED;
  try {
    // JSON is YAML, and some clients' YAML files are written as JSON
    if (/^\s*\{/.test(text)) return jsonDocument(text);
    return new Reader(text).document();
  } catch (err) {
    if (err instanceof Unsupported || err instanceof RangeError) return UNSUPPORTED;
    throw err;
  }
}

// the core schema's plain scalars that are not strings (YAML 1.2, section 10.3.2)
const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const TRUE_RE = /^(?:[Tt]rue|TRUE)$/;
const FALSE_RE = /^(?:[Ff]alse|FALSE)$/;
const NUMBERISH_RE = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;
/** decimal integers that Number() reads as `yaml` does (no plus sign, no leading zero, exact in a double) */
const SIMPLE_INT_RE = /^-?(?:0|[1-9][0-9]{0,14})$/;
/** decimal fractions like 1.5 or -0.25: parseFloat (`yaml`) and Number agree */
const SIMPLE_FLOAT_RE = /^-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}$/;

/** What a plain scalar means in the core schema, or giveUp for the rare forms. */
function plainValue(s: string): unknown {
  if (NULL_RE.test(s)) return null;
  if (TRUE_RE.test(s)) return true;
  if (FALSE_RE.test(s)) return false;
  if (NUMBERISH_RE.test(s)) {
    if (SIMPLE_INT_RE.test(s)) return Number(s);
    if (SIMPLE_FLOAT_RE.test(s)) return Number(s);
    return giveUp();
  }
  return s;
}

/** Characters that may not start a plain scalar (or that start something this reader leaves to `yaml`). */
const BAD_PLAIN_START = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/**
 * Whether a plain scalar may start this way: not with an indicator, except `-` before a character
 * that goes on the scalar (`-y`, `--port`). (`?x`, `:x` are plain too, but rare: left to `yaml`.)
 */
function plainStartOk(s: string, flow: boolean): boolean {
  const c = s[0]!;
  if (!BAD_PLAIN_START.has(c)) return true;
  if (c !== '-' || s.length < 2) return false;
  const d = s[1]!;
  return d !== ' ' && !(flow && ',[]{}'.includes(d));
}

/** A plain scalar in block context: its text must not hold `: `, a trailing `:` or ` #` (callers strip comments). */
function checkBlockPlain(s: string): string {
  if (!plainStartOk(s, false)) giveUp();
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) giveUp();
  return s;
}

/** Index of a comment's `#` in a plain scalar's line (preceded by a space), or -1. */
function commentAt(s: string, from: number): number {
  let i = s.indexOf('#', from);
  while (i !== -1) {
    if (i === 0 || s[i - 1] === ' ') return i;
    i = s.indexOf('#', i + 1);
  }
  return -1;
}

const DQ_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', ' ': ' ', '0': '\0' };

/** A double-quoted scalar that starts at s[i] and ends on this line: [value, index after it]. */
function doubleQuoted(s: string, i: number): [string, number] {
  // most have no escape: one search each for the closing quote and a backslash (the scan runs
  // without the optimising compiler, so a loop over characters in JavaScript is slow)
  const close = s.indexOf('"', i + 1);
  if (close === -1) return giveUp(); // continues on the next line: folding is left to `yaml`
  const escape = s.indexOf('\\', i + 1);
  if (escape === -1 || escape > close) return [s.slice(i + 1, close), close + 1];
  let out = '';
  let j = i + 1;
  let start = j;
  for (;;) {
    if (j >= s.length) return giveUp(); // continues on the next line: folding is left to `yaml`
    const c = s.charCodeAt(j);
    if (c === 34 /* " */) {
      out += s.slice(start, j);
      return [out, j + 1];
    }
    if (c === 92 /* \ */) {
      out += s.slice(start, j);
      const e = s[j + 1];
      if (e === undefined) return giveUp();
      if (e === 'u') {
        const hex = s.slice(j + 2, j + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return giveUp();
        const code = parseInt(hex, 16);
        // surrogates written as escapes: how they pair up is `yaml`'s business
        if (code >= 0xd800 && code <= 0xdfff) return giveUp();
        out += String.fromCharCode(code);
        j += 6;
      } else {
        const r = DQ_ESCAPES[e];
        if (r === undefined) return giveUp();
        out += r;
        j += 2;
      }
      start = j;
      continue;
    }
    j++;
  }
}

/** A single-quoted scalar that starts at s[i] and ends on this line: [value, index after it]. */
function singleQuoted(s: string, i: number): [string, number] {
  let out = '';
  let j = i + 1;
  for (;;) {
    const k = s.indexOf("'", j);
    if (k === -1) return giveUp();
    out += s.slice(j, k);
    if (s[k + 1] === "'") {
      out += "'";
      j = k + 2;
      continue;
    }
    return [out, k + 1];
  }
}

/** After a quoted scalar or a flow collection: only spaces and a comment may follow on the line. */
function expectLineEnd(s: string, i: number): void {
  let j = i;
  while (s[j] === ' ') j++;
  if (j === s.length) return;
  if (s[j] === '#' && j > i) return;
  giveUp();
}

/** A plain item of a flow sequence: up to the next `,` or `]` */
const FLOW_PLAIN = /[^,\]]*/y;

/** A one-line flow sequence `[a, "b", 'c']` at s[i]: [value, index after it]. */
function flowSequence(s: string, i: number): [unknown[], number] {
  const out: unknown[] = [];
  let j = i + 1;
  for (;;) {
    while (s[j] === ' ') j++;
    if (s[j] === ']' && out.length === 0) return [out, j + 1];
    const c = s[j];
    if (c === undefined) return giveUp();
    if (c === '"' || c === "'") {
      const [v, next] = c === '"' ? doubleQuoted(s, j) : singleQuoted(s, j);
      out.push(v);
      j = next;
    } else {
      FLOW_PLAIN.lastIndex = j;
      FLOW_PLAIN.test(s);
      const k = FLOW_PLAIN.lastIndex;
      const item = s.slice(j, k).trimEnd();
      // empty items, pairs (`a: b`), nested collections, comments, quotes inside: all `yaml`'s
      if (item === '' || !plainStartOk(item, true) || /[:#{}[\]"']/.test(item)) return giveUp();
      out.push(plainValue(item));
      j = k;
    }
    while (s[j] === ' ') j++;
    if (s[j] === ']') return [out, j + 1];
    if (s[j] !== ',') return giveUp();
    j++;
    while (s[j] === ' ') j++;
    // a trailing comma `[a, ]`: valid YAML, but left to `yaml`
    if (s[j] === ']') return giveUp();
  }
}

/** A scalar or flow value that fills the rest of a line (from s[i]); an empty rest is `undefined`. */
function inlineValue(s: string, i: number): unknown {
  let j = i;
  while (s[j] === ' ') j++;
  if (j === s.length) return undefined;
  const c = s[j]!;
  if (c === '#') return undefined;
  if (c === '"' || c === "'") {
    const [v, next] = c === '"' ? doubleQuoted(s, j) : singleQuoted(s, j);
    expectLineEnd(s, next);
    return v;
  }
  if (c === '[') {
    const [v, next] = flowSequence(s, j);
    expectLineEnd(s, next);
    return v;
  }
  if (c === '{') {
    let k = j + 1;
    while (s[k] === ' ') k++;
    if (s[k] !== '}') giveUp(); // flow mappings with content: `yaml`
    expectLineEnd(s, k + 1);
    return {};
  }
  const hash = commentAt(s, j);
  const raw = (hash === -1 ? s.slice(j) : s.slice(j, hash)).trimEnd();
  return plainValue(checkBlockPlain(raw));
}

class Reader {
  private readonly lines: Line[] = [];
  private pos = 0;

  constructor(text: string) {
    let start = 0;
    let first = true;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const raw = text.slice(start, end);
      start = end + 1;
      let indent = 0;
      while (raw.charCodeAt(indent) === 32) indent++;
      const body = raw.slice(indent);
      if (body === '' || body[0] === '#') continue;
      if (indent === 0 && (body.startsWith('---') || body.startsWith('...') || body[0] === '%')) {
        // one `---` opening the document is common; directives, later markers, more documents: `yaml`
        if (first && /^---(?:[ ]+(?:#.*)?)?$/.test(body)) {
          first = false;
          continue;
        }
        giveUp();
      }
      first = false;
      this.lines.push({ indent, text: body });
    }
  }

  document(): unknown {
    if (this.lines.length === 0) return null;
    const top = this.lines[0]!;
    if (top.indent !== 0 && this.lines.some((l) => l.indent < top.indent)) giveUp();
    const value = this.block(top.indent, 0);
    if (this.pos < this.lines.length) giveUp();
    // a document that is one scalar or flow value: not a config file, `yaml` decides
    if (value === null || typeof value !== 'object') giveUp();
    return value;
  }

  /** The block collection whose first line is the current one, at exactly `indent`. */
  private block(indent: number, depth: number): unknown {
    if (depth > MAX_DEPTH) giveUp();
    const line = this.lines[this.pos]!;
    if (line.indent !== indent) giveUp();
    if (isSeqItem(line.text)) return this.sequence(indent, depth);
    if (line.text[0] === '[' || line.text[0] === '{') giveUp();
    return this.mapping(indent, depth);
  }

  private sequence(indent: number, depth: number): unknown[] {
    const out: unknown[] = [];
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) giveUp();
      if (!isSeqItem(line.text)) break;
      // the item's content starts after the dash and its spaces: as if it were its own line there
      let j = 1;
      while (line.text[j] === ' ') j++;
      if (j === line.text.length || line.text[j] === '#') {
        this.pos++;
        out.push(this.nestedOrNull(indent, false, depth));
        continue;
      }
      const rest = line.text.slice(j);
      if (isSeqItem(rest) || keyEnd(rest) !== -1) {
        // `- - a` or `- key: value`: a collection that starts mid-line, at column indent + j
        this.lines[this.pos] = { indent: indent + j, text: rest };
        out.push(this.block(indent + j, depth + 1));
        continue;
      }
      this.pos++;
      const v = inlineValue(rest, 0);
      out.push(v === undefined ? null : v);
    }
    return out;
  }

  private mapping(indent: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) giveUp();
      const s = line.text;
      if (isSeqItem(s)) break; // a sequence at the same indent as its parent key ends here
      const colon = keyEnd(s);
      if (colon === -1) giveUp();
      const key = readKey(s, colon);
      if (seen.has(key)) giveUp(); // `yaml` refuses duplicate keys: let it say so
      seen.add(key);
      this.pos++;
      const v = inlineValue(s, colon + 1);
      out[key] = v === undefined ? this.nestedOrNull(indent, true, depth) : v;
    }
    return out;
  }

  /** The value of a `key:` or `-` with nothing after it: a deeper block, a sequence at the key's indent, or null. */
  private nestedOrNull(indent: number, inMapping: boolean, depth: number): unknown {
    const next = this.lines[this.pos];
    if (next === undefined) return null;
    if (next.indent > indent) return this.block(next.indent, depth + 1);
    if (inMapping && next.indent === indent && isSeqItem(next.text)) return this.sequence(indent, depth + 1);
    return null;
  }
}

function isSeqItem(s: string): boolean {
  return s[0] === '-' && (s.length === 1 || s[1] === ' ');
}

/** Where the `:` that ends an implicit key is (followed by a space or the line's end), or -1. */
function keyEnd(s: string): number {
  const c = s[0];
  if (c === '"' || c === "'") {
    const [, next] = c === '"' ? doubleQuoted(s, 0) : singleQuoted(s, 0);
    let j = next;
    while (s[j] === ' ') j++;
    return s[j] === ':' && (j + 1 === s.length || s[j + 1] === ' ') ? j : -1;
  }
  let i = s.indexOf(':');
  while (i !== -1) {
    if (i + 1 === s.length || s[i + 1] === ' ') return i;
    i = s.indexOf(':', i + 1);
  }
  return -1;
}

/** The key before s[colon]: quoted, or a plain scalar that the core schema reads as a string. */
function readKey(s: string, colon: number): string {
  const c = s[0]!;
  let key: string;
  if (c === '"' || c === "'") {
    [key] = c === '"' ? doubleQuoted(s, 0) : singleQuoted(s, 0);
  } else {
    key = s.slice(0, colon).trimEnd();
    if (key === '' || BAD_PLAIN_START.has(c) || key.includes(' #')) giveUp();
    // keys that are null, booleans or numbers become strings by rules of their own: `yaml`'s
    if (plainValue(key) !== key) giveUp();
  }
  if (key.length > MAX_KEY || key === '__proto__' || key === '<<') giveUp();
  return key;
}

/**
 * A JSON object document, read as `yaml` would read it: JSON.parse, where nothing in the text
 * could make the two differ. Outside strings a JSON text has a `:` per key, so as many `:` as
 * keys in the result means no key was written twice (`yaml` refuses duplicates, JSON.parse keeps
 * the last); keys of 1000+ characters (`yaml` refuses implicit keys of 1024), `__proto__`, and
 * integers of 16+ digits (where parseInt, which `yaml` uses, might round otherwise) are left to it.
 */
function jsonDocument(text: string): unknown {
  if (text.includes('"__proto__"')) giveUp();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return giveUp(); // comments, trailing commas, or YAML flow syntax: `yaml`
  }
  // the text without its strings' contents: outside strings valid JSON has no `"`, so each
  // match of JSON_STRING starts at a string's opening quote (regular expressions, not a loop
  // over characters: the scan runs without the optimising compiler)
  // (a string too long to be a key `yaml` accepts becomes "L": a key if a `:` follows it)
  const bare = text.replace(JSON_STRING, (s) => (s.length > MAX_KEY + 2 ? '"L"' : '""'));
  if (/[0-9]{16}/.test(bare) || /"L"\s*:/.test(bare)) giveUp();
  let colons = 0;
  for (let i = bare.indexOf(':'); i !== -1; i = bare.indexOf(':', i + 1)) colons++;
  if (countKeys(value) !== colons) giveUp();
  return value;
}

const JSON_STRING = /"[^"\\]*(?:\\.[^"\\]*)*"/g;

function countKeys(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += countKeys(x);
    return n;
  }
  for (const k in v) n += 1 + countKeys((v as Record<string, unknown>)[k]);
  return n;
}
