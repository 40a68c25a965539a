// Where each server's entry starts in its config file (1-based line), for SARIF's
// region.startLine. Found once per file for the names the parser returned: JSON keys by plain
// substring search (jsonc-parser's visitor, with key paths, only for list shapes in small
// files), YAML and TOML by their keys and table headers. A name that cannot be placed simply has no line.
import { visit } from 'jsonc-parser';
import type { ConfigFormat } from '../clients/types.js';

interface Hit {
  line: number;
  /** keys of the containers around the entry (JSON only) */
  path: string[];
}

/** The format the text is written in, from its content (a JSON document starts with `{` or `[`). */
export function contentFormat(text: string, fileName = ''): ConfigFormat {
  const body = text.replace(/^\uFEFF/, '').replace(/^(?:\s+|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*/, '');
  const firstLine = body.slice(0, body.indexOf('\n') >>> 0);
  // `[table]` headers start TOML files too: a header line and `key = value` lines say TOML
  if (body.startsWith('[') && /^\[\[?\s*[A-Za-z0-9_"'][^\]]*\]\]?\s*(?:#.*)?$/.test(firstLine.trim()) && /^\s*[A-Za-z0-9_"'-]+\s*=/m.test(body)) return 'toml';
  if (body.startsWith('{') || body.startsWith('[')) return 'json';
  if (/\.toml$/i.test(fileName)) return 'toml';
  if (/\.ya?ml$/i.test(fileName)) return 'yaml';
  // TOML tables and `key = value` lines, against YAML's `key: value`
  const first = /^[ \t]*([^#\s][^\n]*)$/m.exec(body)?.[1] ?? '';
  if (/^\[[^\]]+\]\s*(?:#.*)?$/.test(first) || /^[A-Za-z0-9_."'-]+\s*=/.test(first)) return 'toml';
  return 'yaml';
}

function jsonHits(text: string, names: ReadonlySet<string>): Map<string, Hit[]> {
  const out = new Map<string, Hit[]>();
  const stack: string[] = [];
  let key: string | undefined;
  const add = (name: string, line: number, path: string[]): void => {
    const list = out.get(name) ?? [];
    list.push({ line: line + 1, path });
    out.set(name, list);
  };
  visit(
    text,
    {
      onObjectBegin: () => {
        stack.push(key ?? '');
        key = undefined;
      },
      onArrayBegin: () => {
        stack.push(key ?? '');
        key = undefined;
      },
      onObjectEnd: () => void stack.pop(),
      onArrayEnd: () => void stack.pop(),
      onObjectProperty: (property, _offset, _length, startLine) => {
        key = property;
        if (names.has(property)) add(property, startLine, [...stack]);
      },
      onLiteralValue: (value, _offset, _length, startLine) => {
        // list shapes (Continue): {"name": "x", ...} inside an array
        if (key === 'name' && typeof value === 'string' && names.has(value)) add(value, startLine, [...stack.slice(0, -1)]);
        key = undefined;
      },
    },
    { allowTrailingComma: true, disallowComments: false },
  );
  return out;
}

function unquote(s: string): string {
  const t = s.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

/** Split a TOML dotted key on dots outside quotes. */
function tomlKeyParts(key: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote = '';
  for (const c of key) {
    if (quote) {
      if (c === quote) quote = '';
      cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === '.') {
      parts.push(unquote(cur));
      cur = '';
    } else cur += c;
  }
  parts.push(unquote(cur));
  return parts;
}

// Per-line patterns, made once (a regular expression literal inside a function is a new object
// every time it runs, here once per line of every file). Every one is linear: no two
// neighbouring quantifiers can trade characters.
const TOML_HEADER = /^\s*\[([^\]]+)\]\s*(?:#.*)?$/;
const TOML_INLINE_TABLE = /^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*\{/;
const YAML_NAME = /^\s*(?:-\s+)?name\s*:\s*(?:("[^"]*"|'[^']*')\s*|([^#\s][^#]*))(?:#.*)?$/;
const YAML_MAP_KEY = /^\s*(?:-\s+)?(?:("[^"]*"|'[^']*')\s*|([^#\s:][^:#]*)):\s*(?:#.*)?$/;

function textHits(text: string, format: 'yaml' | 'toml', names: ReadonlySet<string>): Map<string, Hit[]> {
  const out = new Map<string, Hit[]>();
  const add = (name: string, line: number): void => {
    if (!names.has(name)) return;
    const list = out.get(name) ?? [];
    list.push({ line, path: [] });
    out.set(name, list);
  };
  const lines = text.split('\n');
  lines.forEach((l, i) => {
    if (format === 'toml') {
      const header = TOML_HEADER.exec(l);
      if (header) {
        const parts = tomlKeyParts(header[1]!.trim());
        add(parts[parts.length - 1]!, i + 1);
        return;
      }
      const inline = TOML_INLINE_TABLE.exec(l);
      if (inline) add(unquote(inline[1]!), i + 1);
      return;
    }
    const named = YAML_NAME.exec(l);
    if (named) add(unquote(named[1] ?? named[2]!.trimEnd()), i + 1);
    const mapKey = YAML_MAP_KEY.exec(l);
    if (mapKey) add(unquote(mapKey[1] ?? mapKey[2]!.trimEnd()), i + 1);
  });
  return out;
}

/** Files above this size are never walked, only searched by key text (~/.claude.json grows to megabytes). */
const WALK_MAX_BYTES = 128 * 1024;

/** 1-based line of each offset (offsets in any order). */
function linesOf(text: string, offsets: number[]): Map<number, number> {
  const out = new Map<number, number>();
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  let line = 1;
  let pos = 0;
  for (const off of sorted) {
    for (let nl = text.indexOf('\n', pos); nl !== -1 && nl < off; nl = text.indexOf('\n', nl + 1)) {
      line++;
      pos = nl + 1;
    }
    out.set(off, line);
  }
  return out;
}

/**
 * Where each of `needles` (JSON-quoted keys) is written followed by `:` (blanks between), in
 * one pass over the text: every `"` may start one, and a quoted key runs to the next `"` not
 * escaped by a backslash, so the token starting at each `"` is compared with the needles. The
 * same offsets as searching the text for each needle in turn, without reading a megabyte file
 * once per server (~/.claude.json with thousands of entries took seconds).
 */
function keyIndex(text: string, needles: ReadonlySet<string>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let maxLen = 0;
  for (const n of needles) maxLen = Math.max(maxLen, n.length);
  // token lengths worth comparing: any other token is skipped without being cut out of the text
  const lengths = new Uint8Array(maxLen + 1);
  for (const n of needles) lengths[n.length] = 1;
  // the next backslash at or after a position: found by the native search, moving forward only
  let backslash = -1;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    // the end of the quoted token starting here (escape-aware), or give up past the longest needle
    let end = -1;
    const next = text.indexOf('"', i + 1);
    if (backslash !== Infinity && backslash <= i) {
      backslash = text.indexOf('\\', i + 1);
      if (backslash === -1) backslash = Infinity;
    }
    if (next !== -1 && backslash > next) {
      // no escape before the next quote: that quote ends the token, if it is near enough
      if (next - i < maxLen) end = next;
    } else {
      for (let k = i + 1; k < text.length && k - i < maxLen; k++) {
        const c = text.charCodeAt(k);
        if (c === 92) k++; // backslash: the next character is part of an escape
        else if (c === 34) {
          end = k;
          break;
        }
      }
    }
    if (end === -1 || lengths[end + 1 - i] !== 1) continue;
    const token = text.slice(i, end + 1);
    if (!needles.has(token)) continue;
    let j = end + 1;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
    if (text[j] !== ':') continue;
    const list = out.get(token);
    if (list) list.push(i);
    else out.set(token, [i]);
  }
  return out;
}

/**
 * JSON files: find keys (`"...":`) by plain substring search. Servers come in document
 * order (JSON.parse keeps it), so project entries are found with a cursor that only moves
 * forward: the project's own key, then the server's key after it. Any other server is the
 * least indented key of its name.
 */
function keySearchLines(text: string, targets: readonly LineTarget[]): Array<number | undefined> {
  const needles = new Set<string>();
  for (const t of targets) {
    needles.add(JSON.stringify(t.name));
    if (t.projectPath) needles.add(JSON.stringify(t.projectPath));
  }
  const index = keyIndex(text, needles);
  // the first offset at or after `from` where the key is written, followed by `:`
  const keyAt = (key: string, from: number): number => {
    const list = index.get(JSON.stringify(key));
    if (!list) return -1;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length ? list[lo]! : -1;
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
    // not a project's: of every key of this name, the least indented one (the top level of a
    // pretty-printed file; project entries sit deeper), else the first
    let best = -1;
    let bestIndent = Infinity;
    for (let at = keyAt(t.name, 0), n = 0; at !== -1 && n < 1000; at = keyAt(t.name, at + 1), n++) {
      const lineStart = text.lastIndexOf('\n', at) + 1;
      const indent = at - lineStart;
      if (indent < bestIndent) {
        best = at;
        bestIndent = indent;
      }
    }
    return best;
  });
  const lines = linesOf(text, picks.filter((p) => p >= 0));
  return picks.map((p) => (p >= 0 ? lines.get(p) : undefined));
}

export interface LineTarget {
  name: string;
  projectPath?: string;
}

/**
 * The line each server's entry starts on, in the order given (undefined where unknown). A name
 * met several times (the same server in several projects of ~/.claude.json) is matched by its
 * project folder, else the first entry outside `projects`.
 */
export function entryLines(text: string, format: ConfigFormat, targets: readonly LineTarget[]): Array<number | undefined> {
  if (targets.length === 0) return [];
  if (format === 'json') {
    // key search first (plain substring search: fast); the walk only for what it could not
    // place (list shapes name servers by a `name` value, not a key) and only in small files
    let found: Array<number | undefined>;
    try {
      found = keySearchLines(text, targets);
    } catch {
      found = targets.map(() => undefined);
    }
    if (!found.includes(undefined) || text.length > WALK_MAX_BYTES) return found;
    const walked = walkedLines(text, format, targets);
    return found.map((l, i) => l ?? walked[i]);
  }
  return walkedLines(text, format, targets);
}

function walkedLines(text: string, format: ConfigFormat, targets: readonly LineTarget[]): Array<number | undefined> {
  const names = new Set(targets.map((t) => t.name));
  let hits: Map<string, Hit[]>;
  try {
    hits = format === 'json' ? jsonHits(text, names) : textHits(text, format, names);
  } catch {
    return targets.map(() => undefined);
  }
  const used = new Map<string, number>();
  return targets.map((t) => {
    const list = hits.get(t.name);
    if (!list?.length) return undefined;
    let hit: Hit | undefined;
    if (t.projectPath) hit = list.find((h) => h.path.includes(t.projectPath!));
    if (!hit) {
      // the n-th server of this name takes the n-th entry not yet used
      const start = used.get(t.name) ?? 0;
      hit = list.slice(start).find((h) => !h.path.includes('projects')) ?? list[start] ?? list[0];
      used.set(t.name, list.indexOf(hit!) + 1);
    }
    return hit?.line;
  });
}
