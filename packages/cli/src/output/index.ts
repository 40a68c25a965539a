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
