// Limits the ingest route applies before and around the schema: the body size, the JSON
// nesting depth (checked on the raw text, before anything parses it) and the schema's own
// counts and string lengths (core LIMITS, enforced by ScanReportSchema).
import { ScanReportSchema, type ScanReport } from '@palisade/core';

/** Largest report body accepted, in bytes. A 5,000-server scan with tools fits well below. */
export const MAX_REPORT_BYTES = 5 * 1024 * 1024;
/** Deepest JSON nesting accepted. A scan report nests about 8 levels deep; 32 leaves room. */
export const MAX_REPORT_DEPTH = 32;

export class ReportRejected extends Error {
  constructor(
    readonly code: 'invalid_json' | 'too_deep' | 'invalid_report' | 'payload_too_large',
    message: string,
    readonly statusCode = code === 'payload_too_large' ? 413 : 400,
  ) {
    super(message);
  }
}

/**
 * The deepest nesting of objects and arrays in a JSON text, stopping early once it
 * passes `limit`. Brackets inside strings do not count.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // jump to the closing quote with indexOf (native and linear): strings are most of a report
      let k = i;
      for (;;) {
        k = text.indexOf('"', k + 1);
        if (k < 0) return max; // unterminated string: not JSON, the parser will say so
        let slashes = 0;
        while (text.charCodeAt(k - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = k;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Parse and validate a raw report body. Throws ReportRejected with a sentence a user can act on. */
export function parseReportText(text: string): ScanReport {
  if (Buffer.byteLength(text, 'utf8') > MAX_REPORT_BYTES) {
    throw new ReportRejected('payload_too_large', `The report is larger than ${MAX_REPORT_BYTES / 1024 / 1024} MiB; scan fewer folders per report.`);
  }
  if (jsonDepth(text, MAX_REPORT_DEPTH) > MAX_REPORT_DEPTH) {
    throw new ReportRejected('too_deep', `The report nests deeper than ${MAX_REPORT_DEPTH} levels; send the output of \`palisade scan --json\` unchanged.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ReportRejected('invalid_json', 'The report is not valid JSON; send the output of `palisade scan --json` unchanged.');
  }
  return validateReport(value, text);
}

/** True when any string (key or value) holds a NUL character, which PostgreSQL text cannot store. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

/** Validate an already parsed value against the scan schema (version 1). */
export function validateReport(value: unknown, text?: string): ScanReport {
  // the walk is needed only when the raw text has an escaped NUL at all
  if ((text === undefined || text.includes('\\u0000')) && containsNul(value)) throw new ReportRejected('invalid_report', 'The report contains NUL characters; send the output of `palisade scan --json` unchanged.');
  const result = ScanReportSchema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.slice(0, 6).join('.')}` : '';
    throw new ReportRejected('invalid_report', `The report does not match scan schema version 1${where}: ${first?.message ?? 'invalid'}. Upgrade the agent or send \`palisade scan --json\` output unchanged.`);
  }
  // the schema is a contract: a field it does not know is refused, not dropped silently
  const unknown = unknownField(value, result.data);
  if (unknown) throw new ReportRejected('invalid_report', `The report has a field that scan schema version 1 does not define: "${unknown}". The agent and the server must speak the same schema version: upgrade whichever is older, or send \`palisade scan --json\` output unchanged.`);
  const badName = badEnvOrHeaderName(result.data);
  if (badName) throw new ReportRejected('invalid_report', badName);
  return result.data;
}

const shownPath = (path: string) => (path.length > 200 ? `${path.slice(0, 200)}...` : path);
const shownKey = (k: string) => JSON.stringify(k.length > 64 ? `${k.slice(0, 64)}...` : k).slice(1, -1);

/**
 * The first key of `input` (at any depth) that the schema's parse dropped from `parsed`, as a
 * dotted path; null when there is none. Zod strips unknown keys: comparing the two finds them
 * without repeating the schema here. Records (any key allowed) keep theirs, so never show up.
 */
export function unknownField(input: unknown, parsed: unknown, path = '', depth = 0): string | null {
  if (depth > 64 || input === null || typeof input !== 'object' || parsed === null || typeof parsed !== 'object') return null;
  if (Array.isArray(input)) {
    if (!Array.isArray(parsed)) return null;
    for (let i = 0; i < input.length && i < parsed.length; i++) {
      const f = unknownField(input[i], parsed[i], `${path}[${i}]`, depth + 1);
      if (f) return f;
    }
    return null;
  }
  const out = parsed as Record<string, unknown>;
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    const here = path ? `${path}.${shownKey(k)}` : shownKey(k);
    if (!Object.prototype.hasOwnProperty.call(out, k)) return shownPath(here);
    const f = unknownField(v, out[k], here, depth + 1);
    if (f) return f;
  }
  return null;
}

/** Environment variable names: a letter or underscore, then letters, digits, `_`, `.` or `-`; at most 128 characters. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
/** HTTP header field names: an RFC 7230 token, at most 128 characters. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/**
 * A sentence naming the first env or header name that is not a name (for example `X=secret`,
 * which would smuggle a value into a field that must only ever hold names); null when all are.
 */
export function badEnvOrHeaderName(report: unknown): string | null {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: report, path: '', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (depth > 16 || v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    const o = v as Record<string, unknown>;
    const check = (list: unknown, field: string, re: RegExp, what: string): string | null => {
      if (!Array.isArray(list)) return null;
      for (let i = 0; i < list.length; i++) {
        const n = list[i];
        if (typeof n === 'string' && !re.test(n)) return `The report's ${path ? `${path}.` : ''}${field}[${i}] (${JSON.stringify(n.slice(0, 40))}) is not ${what}; send names only, never values.`;
      }
      return null;
    };
    const problem =
      check(o.envNames, 'envNames', ENV_NAME, 'an environment variable name (a letter or _, then letters, digits, _ . or -, at most 128 characters)') ??
      check(o.headerNames, 'headerNames', HEADER_NAME, 'an HTTP header name (an RFC 7230 token: letters, digits and !#$%&\'*+.^_`|~-, at most 128 characters)');
    if (problem) return problem;
    if (typeof o.location === 'string' && typeof o.name === 'string' && (o.location === 'env' || o.location === 'header')) {
      const re = o.location === 'env' ? ENV_NAME : HEADER_NAME;
      if (!re.test(o.name)) return `The report's ${path}.name (${JSON.stringify(o.name.slice(0, 40))}) is not ${o.location === 'env' ? 'an environment variable' : 'an HTTP header'} name; send names only, never values.`;
    }
    for (const [k, x] of Object.entries(o)) if (x && typeof x === 'object') stack.push({ v: x, path: path ? `${path}.${k}` : k, depth: depth + 1 });
  }
  return null;
}
