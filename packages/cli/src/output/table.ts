// The report for people: servers grouped by level, riskiest first, each with its findings,
// then findings across servers, unreadable config files and a summary line. Fits 80 columns.
import pc from 'picocolors';
import type { Level, ScanReport, ScoredServer, Severity } from '@palisade/core';
import { LEVELS_HIGH_TO_LOW, oneLine, sortByRisk } from './order.js';

export interface TableOptions {
  color: boolean;
  /** terminal width; defaults to 80 */
  width?: number;
}

type Paint = (s: string) => string;

/** Break text into lines no wider than `width`, splitting long words when they must. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/ +/)) {
    while (word.length > width) {
      if (line) {
        lines.push(line);
        line = '';
      }
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!word) continue;
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

export function renderTable(report: ScanReport, opts: TableOptions): string {
  const width = Math.max(60, Math.min(opts.width ?? 80, 160));
  const c = pc.createColors(opts.color);
  const paint: Record<Level | Severity, Paint> = {
    critical: (s) => c.bold(c.red(s)),
    high: c.red,
    medium: c.yellow,
    low: c.cyan,
    info: c.dim,
    none: c.green,
  };
  const out: string[] = [];
  const { summary } = report;
  out.push(c.bold(`Palisade scan of ${oneLine(report.host.hostname)}: ${plural(summary.servers, 'server')} in ${plural(summary.clients, 'client')}`));

  const sorted = sortByRisk(report.servers);
  for (const level of LEVELS_HIGH_TO_LOW) {
    const group = sorted.filter((s) => s.level === level);
    if (group.length === 0) continue;
    out.push('');
    out.push(paint[level](`${level.toUpperCase()} (${group.length})`));
    for (const s of group) out.push(...serverLines(s, width, c, paint));
  }

  if (report.findings.length > 0) {
    out.push('');
    out.push(c.bold(`Across servers (${report.findings.length})`));
    const names = new Map(report.servers.map((s) => [s.id, s.name]));
    for (const f of report.findings) {
      const involved = f.servers.map((id) => names.get(id) ?? id).join(', ');
      out.push(...findingLines(f.severity, f.ruleId, `${f.message} (servers: ${involved})`, width, paint));
    }
  }

  const errors = report.clients.filter((cl) => cl.error);
  if (errors.length > 0) {
    out.push('');
    out.push(c.yellow(`Could not read ${plural(errors.length, 'config file')}`));
    for (const cl of errors) {
      out.push(`  ${c.yellow('!')} ${oneLine(cl.name)}  ${oneLine(cl.configPath)}`);
      for (const l of wrap(oneLine(cl.error ?? ''), width - 6)) out.push(`      ${l}`);
    }
  }

  if (report.servers.length === 0 && errors.length === 0) {
    out.push('');
    out.push('No MCP servers found. Use --path DIR to scan project folders or --config FILE for one file.');
  }

  out.push('');
  out.push(summaryLine(report, paint));
  return out.join('\n') + '\n';
}

function serverLines(s: ScoredServer, width: number, c: ReturnType<typeof pc.createColors>, paint: Record<Level | Severity, Paint>): string[] {
  const lines: string[] = [];
  const tags = [s.client, s.scope !== 'user' ? s.scope : '', s.transport, s.disabled ? 'disabled' : ''].filter(Boolean).join(', ');
  lines.push(`  ${paint[s.level](String(s.score).padStart(3))}  ${c.bold(oneLine(s.name))}  ${c.dim(`(${oneLine(tags)})`)}`);
  lines.push(`       ${c.dim(oneLine(s.configPath))}`);
  for (const f of s.findings) lines.push(...findingLines(f.severity, f.ruleId, f.message, width, paint));
  return lines;
}

// "       high      PAL-C001  message wrapped under itself"
const FINDING_INDENT = 7 + 10 + 10;

function findingLines(severity: Severity, ruleId: string, message: string, width: number, paint: Record<Level | Severity, Paint>): string[] {
  const body = wrap(oneLine(message), width - FINDING_INDENT);
  const head = `       ${paint[severity](severity.padEnd(8))}  ${oneLine(ruleId).padEnd(8)}  `;
  return body.map((l, i) => (i === 0 ? head : ' '.repeat(FINDING_INDENT)) + l);
}

function summaryLine(report: ScanReport, paint: Record<Level | Severity, Paint>): string {
  const { summary } = report;
  const b = summary.byLevel;
  const counts = LEVELS_HIGH_TO_LOW.map((l) => (b[l] > 0 ? paint[l](`${b[l]} ${l}`) : `${b[l]} ${l}`)).join(', ');
  const errors = summary.errors > 0 ? `; ${plural(summary.errors, 'config file')} could not be read` : '';
  // two lines, so the worst case still fits 80 columns
  return `${plural(summary.servers, 'server')}: ${counts}\n${plural(summary.findings, 'finding')}${errors}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
