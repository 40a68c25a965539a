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
 * Writes exactly renderJson(report), in pieces of about `chunk` characters: the text of a big
 * scan is never one string. (One string costs more than its size: JSON.stringify builds it in
 * parts that writing must first copy whole, and a single character beyond Latin-1 anywhere, such
 * as the `…` of a clipped value, makes that copy two bytes per character.) Each top-level array
 * is written element by element, each element as JSON.stringify writes it at that depth.
 */
const ELEMENTS_PER_PIECE = 1;

export function writeJson(report: object, write: (text: string) => void, chunk = 1 << 16): void {
  let buf: string[] = [];
  let size = 0;
  const put = (text: string): void => {
    buf.push(text);
    size += text.length;
    if (size >= chunk) {
      write(buf.join(''));
      buf = [];
      size = 0;
    }
  };
  const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';
  const entries = Object.keys(report).filter((k) => !skipped((report as Record<string, unknown>)[k]));
  // anything JSON.stringify would treat specially at the top (toJSON, a boxed value, no keys) is left to it
  if (typeof (report as { toJSON?: unknown }).toJSON === 'function' || Array.isArray(report) || entries.length === 0) {
    write(renderJson(report as ScanReport));
    return;
  }
  put('{\n');
  entries.forEach((key, i) => {
    const value = (report as Record<string, unknown>)[key];
    put(`  ${JSON.stringify(key)}: `);
    if (Array.isArray(value) && value.length > 0) {
      put('[\n');
      // each element stringified inside an object under the same key, so that JSON.stringify
      // writes it at its final depth (no re-indenting pass over the text); the wrapper's own
      // first and last lines are cut off. (Several elements per call measured fewer
      // instructions but more page faults: 16 per call, ~75 more in the bench scan.)
      const head = `{\n  ${JSON.stringify(key)}: [\n`;
      const tail = '\n  ]\n}';
      for (let j = 0; j < value.length; j += ELEMENTS_PER_PIECE) {
        const text = JSON.stringify({ [key]: value.slice(j, j + ELEMENTS_PER_PIECE) }, null, 2);
        put(text.slice(head.length, text.length - tail.length));
        put(j + ELEMENTS_PER_PIECE < value.length ? ',\n' : '\n');
      }
      put('  ]');
    } else put(indentLines(JSON.stringify(value, null, 2), '  '));
    put(i < entries.length - 1 ? ',\n' : '\n');
  });
  put('}\n');
  if (buf.length) write(buf.join(''));
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
