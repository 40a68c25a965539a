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
  return result.data;
}
