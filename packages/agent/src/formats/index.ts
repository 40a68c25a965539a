// Readers for the file formats AI clients write. Each throws an Error whose message says
// where the file is broken, so a bad file becomes a clear `clients[].error`.
import { parse as parseJsoncText, type ParseError } from 'jsonc-parser';
import { parse as parseTomlText } from 'smol-toml';
import { parse as parseYamlText } from 'yaml';
import type { ConfigFormat } from '../clients/types.js';
import { parseYamlSubset, UNSUPPORTED } from './yaml-subset.js';

// --config tries every client's reader on one file: within withParseMemo each text is parsed
// once per format (result or error), not once per reader (a 5 MB ~/.claude.json, 25 readers).
let memo: Map<string, { text: string; hit: { value: unknown } | { error: unknown } }> | undefined;

export function withParseMemo<T>(fn: () => T): T {
  const previous = memo;
  memo = new Map();
  try {
    return fn();
  } finally {
    memo = previous;
  }
}

function memoized(format: string, text: string, parse: (text: string) => unknown): unknown {
  if (!memo) return parse(text);
  let entry = memo.get(format);
  if (entry?.text !== text) {
    let hit: { value: unknown } | { error: unknown };
    try {
      hit = { value: parse(text) };
    } catch (error) {
      hit = { error };
    }
    entry = { text, hit };
    memo.set(format, entry);
  }
  if ('error' in entry.hit) throw entry.hit.error;
  return entry.hit.value;
}

/** JSON with comments and trailing commas, as VS Code, Zed and Cursor write it. */
export function parseJsonc(text: string): unknown {
  return memoized('json', text, parseJsoncUncached);
}

// What each of jsonc-parser's ParseErrorCode values (1..16) means, in plain words. Only the
// parser is imported (its formatter builds ~250 KB of strings when it loads: see the CLI's
// bundle script), so the messages are the reader's own.
const JSONC_ERRORS: Record<number, string> = {
  1: 'unexpected symbol',
  2: 'invalid number',
  3: 'a property name was expected',
  4: 'a value was expected',
  5: 'a colon was expected',
  6: 'a comma was expected',
  7: 'a closing brace was expected',
  8: 'a closing bracket was expected',
  9: 'the end of the file was expected',
  10: 'invalid comment',
  11: 'a comment is not closed',
  12: 'a string is not closed',
  13: 'a number is cut off',
  14: 'invalid unicode escape',
  15: 'invalid escape character',
  16: 'invalid character in a string',
};

function parseJsoncUncached(text: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  // most files are plain JSON: the native parser is far faster on big files (~/.claude.json
  // grows to megabytes); comments or trailing commas fall through to the tolerant parser
  try {
    return JSON.parse(body) ?? {};
  } catch {
    // not strict JSON
  }
  const errors: ParseError[] = [];
  let value: unknown;
  try {
    value = parseJsoncText(body, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  } catch (err) {
    // the parser recurses per nesting level: absurd nesting ends here, not in a crash
    throw new Error(`invalid JSON: ${tooDeep(err) ? 'nested too deeply' : firstLine(err)}`);
  }
  if (errors.length > 0) {
    const e = errors[0]!;
    const { line, column } = lineCol(body, e.offset);
    throw new Error(`invalid JSON at line ${line}, column ${column}: ${JSONC_ERRORS[e.error] ?? 'unreadable here'}`);
  }
  return value ?? {};
}

export function parseToml(text: string): unknown {
  return memoized('toml', text, parseTomlUncached);
}

function parseTomlUncached(text: string): unknown {
  try {
    return parseTomlText(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new Error(`invalid TOML: ${tooDeep(err) ? 'nested too deeply' : tomlMessage(err)}`);
  }
}

/** YAML flow collections nested deeper than this are refused before parsing (the parser recurses per level). */
export const MAX_YAML_FLOW_DEPTH = 1000;

/** Approximate depth of `[`/`{` nesting outside quotes and comments: cheap, and only an upper guard. */
function flowDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') i++;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
    } else if (c === '[' || c === '{') {
      if (++depth > max) return true;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return false;
}

export function parseYaml(text: string): unknown {
  // while --config tries every reader: a JSON document read by a YAML reader (JSON is YAML)
  // takes the JSON parse, seconds faster on a big file than the YAML parser
  if (memo && /^\uFEFF?\s*\{/.test(text.slice(0, 256))) return parseJsonc(text);
  return memoized('yaml', text, parseYamlUncached);
}

function parseYamlUncached(text: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  // the plain YAML config files are written in: read without the full parser, which is loaded
  // (in the bundle: on first use) for anything else, errors included; same result either way
  const plain = parseYamlSubset(body);
  if (plain !== UNSUPPORTED) return plain ?? {};
  if (flowDepthExceeds(body, MAX_YAML_FLOW_DEPTH)) throw new Error('invalid YAML: nested too deeply');
  try {
    // maxAliasCount bounds "billion laughs" alias expansion
    return parseYamlText(body, { maxAliasCount: 100, prettyErrors: true, logLevel: 'error' }) ?? {};
  } catch (err) {
    throw new Error(`invalid YAML: ${tooDeep(err) ? 'nested too deeply' : firstLine(err)}`);
  }
}

/** Parse text in the given format, or guess it from the file name (.toml, .yaml/.yml, else JSON). */
export function parseConfigText(text: string, format: ConfigFormat): unknown {
  if (format === 'toml') return parseToml(text);
  if (format === 'yaml') return parseYaml(text);
  return parseJsonc(text);
}

export function formatOf(fileName: string): ConfigFormat {
  if (/\.toml$/i.test(fileName)) return 'toml';
  if (/\.ya?ml$/i.test(fileName)) return 'yaml';
  return 'json';
}

function tooDeep(err: unknown): boolean {
  return err instanceof RangeError || /call stack/i.test(String((err as Error | undefined)?.message));
}

// smol-toml puts a code frame after the first line; the first line already says line and column
function tomlMessage(err: unknown): string {
  const e = err as { line?: number; column?: number };
  const first = firstLine(err);
  return typeof e.line === 'number' && !/line \d/.test(first) ? `${first} (line ${e.line}, column ${e.column ?? 0})` : first;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'parse error';
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/** Small helpers for walking untyped parsed config. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
/** argv-like lists: YAML and TOML turn `8080` or `true` into numbers and booleans; keep them as written */
export function strArray(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  // indexed (the scan runs without the optimising compiler, where for...of allocates per step)
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out.push(String(x));
  }
  return out;
}
/** env/header maps: keep string-ish values (numbers and booleans appear in real files) */
export function strMap(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  // the keys once, no [key, value] pair per entry
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const val = v[k];
    if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
  }
  return out;
}
