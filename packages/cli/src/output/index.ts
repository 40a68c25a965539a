// One entry for every output format of `palisade scan`.
import type { ScanReport } from '@palisade/core';
import { renderTable } from './table.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';

export const outputFormats = ['table', 'json', 'sarif', 'markdown'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface RenderOptions {
  /** colours in the table (a TTY, no NO_COLOR, no --no-color) */
  color: boolean;
  /** terminal width for the table */
  width?: number;
  /** the scanned root, for SARIF's %SRCROOT% */
  root?: string;
}

export function renderJson(report: ScanReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

const indentLines = (text: string, spaces: string): string => (text.includes('\n') ? text.replace(/\n/g, `\n${spaces}`) : text);

/**
 * Writes exactly renderJson(report) as UTF-8, in pieces of about `chunk` bytes: the text of a big
 * scan is never one string. (One string costs more than its size: JSON.stringify builds it in
 * parts that writing must first copy whole, and a single character beyond Latin-1 anywhere, such
 * as the `…` of a clipped value, makes that copy two bytes per character.) Each top-level array
 * is written element by element, each element as JSON.stringify writes it at that depth, and
 * each text goes straight into the piece's bytes: no string is joined or cut to build a piece.
 */
export function writeJson(report: object, write: (bytes: Uint8Array) => unknown, chunk = 1 << 16): void {
  // Pieces are cut from one larger buffer, each written once and never touched again (a stream
  // may hold on to a piece it could not write at once); a new buffer only when one is full. Every
  // byte of the output is then written to memory once, where joining strings and writing them
  // wrote it three times. A writer that returns true is done with every byte handed to it so far
  // (a stream with nothing left queued: it wrote them or copied them), and the next pieces reuse
  // the buffer from its start: memory already touched, where each new buffer's pages are page
  // faults (a 500-server scan writes ~650 KB: ~140 fewer faults).
  const room = Math.max(4 * chunk, 1 << 18);
  let out = Buffer.allocUnsafeSlow(room);
  let start = 0;
  let at = 0;
  const flush = (): void => {
    // a writer that says it is done with every byte given so far lets the buffer be used again
    if (at > start && write(out.subarray(start, at)) === true) start = at = 0;
    else start = at;
  };
  // `text` less `cutHead` bytes at its start and `cutTail` bytes at its end
  const put = (text: string, cutHead = 0, cutTail = 0): void => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    const most = text.length * 3;
    if (at + most > out.length) {
      flush();
      out = Buffer.allocUnsafeSlow(Math.max(room, most));
      start = at = 0;
    }
    const n = out.write(text, at);
    if (cutHead) out.copyWithin(at, at + cutHead, at + n);
    at += n - cutHead - cutTail;
    if (at - start >= chunk) flush();
  };
  const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';
  const entries = Object.keys(report).filter((k) => !skipped((report as Record<string, unknown>)[k]));
  // anything JSON.stringify would treat specially at the top (toJSON, a boxed value, no keys) is left to it
  if (typeof (report as { toJSON?: unknown }).toJSON === 'function' || Array.isArray(report) || entries.length === 0) {
    put(renderJson(report as ScanReport));
    flush();
    return;
  }
  put('{\n');
  for (let i = 0; i < entries.length; i++) {
    const key = entries[i]!;
    const value = (report as Record<string, unknown>)[key];
    const name = JSON.stringify(key);
    put(`  ${name}: `);
    if (Array.isArray(value) && value.length > 0) {
      put('[\n');
      // the elements stringified eight at a time inside an object under the same key, so that
      // JSON.stringify writes them at their final depth (no re-indenting pass over the text); the
      // wrapper's own first and last lines are cut off as the bytes are written, counted in bytes
      // (the key may hold characters beyond ASCII, which JSON.stringify leaves unescaped). Eight
      // per call: ~7M fewer instructions in the bench scan than one per call, with as many page
      // faults (16 per call cost ~75 more). One wrapper and one list serve every batch.
      const head = Buffer.byteLength(`{\n  ${name}: [\n`);
      const tail = '\n  ]\n}'.length;
      const BATCH = 8;
      const some: unknown[] = [];
      const wrapper = { [key]: some };
      for (let j = 0; j < value.length; j += BATCH) {
        some.length = 0;
        for (let k = j; k < j + BATCH && k < value.length; k++) some.push(value[k]);
        put(JSON.stringify(wrapper, null, 2), head, tail);
        put(j + BATCH < value.length ? ',\n' : '\n');
      }
      put('  ]');
    } else put(indentLines(JSON.stringify(value, null, 2), '  '));
    put(i < entries.length - 1 ? ',\n' : '\n');
  }
  put('}\n');
  flush();
}

export function render(report: ScanReport, format: OutputFormat, opts: RenderOptions): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'sarif':
      return renderSarif(report, opts.root !== undefined ? { root: opts.root } : {});
    case 'markdown':
      return renderMarkdown(report);
    case 'table':
      return renderTable(report, opts);
  }
}

export { renderTable, renderMarkdown, renderSarif };
