// Hidden text: zero-width, bidi controls, tag characters (which spell ASCII invisibly) and
// ANSI escapes are removed before text reaches the client; what they hid is reported so it
// can go to the audit log. Detection is core's, the same the scanner's rules use.
import { detectSecret, escapeInvisible, findAnsiEscapes, findHiddenUnicode, redactArgs, stripAnsi } from '@palisade/core';

export interface HiddenFound {
  /** where in the message (e.g. "tool everything__echo description") */
  where: string;
  /** the decoded hidden text (tag runs) and escaped ANSI sequences, bounded */
  decoded: string[];
  counts: Record<string, number>;
}

/** `text` without hidden characters or ANSI escapes; `found` says what was removed. */
export function stripHidden(text: string, where: string, found: HiddenFound[]): string {
  const ansi = findAnsiEscapes(text);
  const report = findHiddenUnicode(text);
  if (ansi.length === 0 && report.chars.length === 0) return text;
  let out = ansi.length ? stripAnsi(text) : text;
  if (report.chars.length) {
    // recompute on the ANSI-free text: indexes moved
    const drop = new Set(findHiddenUnicode(out).chars.map((c) => c.index));
    let kept = '';
    let index = 0;
    for (const ch of Array.from(out)) {
      if (!drop.has(index)) kept += ch;
      index += ch.length;
    }
    out = kept;
  }
  const counts: Record<string, number> = { ...report.counts } as Record<string, number>;
  if (ansi.length) counts.ansi = ansi.length;
  found.push({ where, decoded: [...report.tagTexts.map((t) => t.slice(0, 2000)), ...ansi.slice(0, 20).map((a) => escapeInvisible(a))], counts });
  return out;
}

/** Apply `fn` to every string in a JSON value under the given keys (all strings when keys is undefined). */
export function mapStrings(value: unknown, fn: (s: string, path: string) => string, path = '', keys?: ReadonlySet<string>, depth = 0): unknown {
  if (depth > 64) return value;
  if (typeof value === 'string') return fn(value, path);
  if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, fn, `${path}[${i}]`, keys, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') out[k] = !keys || keys.has(k) ? fn(v, path ? `${path}.${k}` : k) : v;
      else out[k] = mapStrings(v, fn, path ? `${path}.${k}` : k, keys, depth + 1);
    }
    return out;
  }
  return value;
}

/** Replace anything shaped like a secret (core's detectors) with `<redacted:type>`. Returns the count. */
export function redactSecrets(text: string): { text: string; count: number } {
  let count = 0;
  const out = text.replace(/\S+/g, (word) => {
    const type = detectSecret(word);
    if (type) {
      count++;
      return `<redacted:${type}>`;
    }
    if (word.includes('=') || word.includes('://')) {
      const r = redactArgs([word]);
      if (r.found.length > 0) {
        count++;
        return r.args[0] ?? word;
      }
    }
    return word;
  });
  // "Bearer xyz" spans two words
  const bearer = out.replace(/\bBearer\s+(?!<redacted)[A-Za-z0-9._~+/=-]{16,}/gi, () => {
    count++;
    return 'Bearer <redacted:bearer-token>';
  });
  return { text: bearer, count };
}
