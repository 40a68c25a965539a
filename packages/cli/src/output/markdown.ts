// Markdown for pull-request comments: a summary table by level, a row per risky server and
// each server's findings folded in <details>. Everything taken from config files is escaped,
// so a server name cannot inject markup, HTML, links or @-mentions into the comment.
import { hiddenCharPattern, type Level, type ScanReport } from '@palisade/core';
import { LEVELS_HIGH_TO_LOW, sortByRisk } from './order.js';

const LEVEL_ICON: Record<Level, string> = { critical: '🟥', high: '🟧', medium: '🟨', low: '🟦', none: '⬜' };

/** Escape untrusted text for HTML (inside an HTML block such as <summary>), on one line. */
export function escapeHtml(text: string): string {
  return (
    text
      .replace(/[\r\n\t]+/g, ' ')
      // control and invisible characters would be hidden in the rendered comment
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .replace(hiddenCharPattern(), (ch) => Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''))
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // "@org/team" or "@user" would notify people; a word joiner after @ breaks the mention
      .replace(/@/g, '@\u2060')
      // bare URLs would be autolinked
      .replace(/:\/\//g, ':/\u2060/')
  );
}

/** Escape untrusted text for Markdown and HTML, on one line. Safe inside table cells. */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text).replace(/[\\`*_{}[\]()#+\-.!|~]/g, (ch) => `\\${ch}`);
}

/** Untrusted text as inline code: a fence longer than any backtick run inside; in a table cell pipes are escaped. */
export function inlineCode(text: string, inTable = false): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ');
  const clean = inTable ? flat.replace(/\|/g, '\\|') : flat;
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') || clean.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

// GitHub refuses comments over 65,536 characters: stay under it with room to spare.
export const MAX_MARKDOWN_CHARS = 60_000;
const RESERVE = 1_000;

export function renderMarkdown(report: ScanReport, maxChars = MAX_MARKDOWN_CHARS): string {
  const out: string[] = [];
  let size = 0;
  const push = (...lines: string[]) => {
    for (const l of lines) {
      out.push(l);
      size += l.length + 1;
    }
  };
  // lines that may be left out when the comment would grow too long
  let shortened = false;
  const pushIfRoom = (...lines: string[]): boolean => {
    const more = lines.reduce((n, l) => n + l.length + 1, 0);
    if (size + more + RESERVE > maxChars) {
      shortened = true;
      return false;
    }
    push(...lines);
    return true;
  };
  const { summary } = report;
  const b = summary.byLevel;
  push('## Palisade MCP scan', '');
  push(`${summary.servers} MCP server${summary.servers === 1 ? '' : 's'} in ${summary.clients} client${summary.clients === 1 ? '' : 's'} on ${inlineCode(report.host.hostname)}, highest level: **${summary.maxLevel}**.`, '');
  push('| Level | Servers |', '| --- | ---: |');
  for (const level of LEVELS_HIGH_TO_LOW) push(`| ${LEVEL_ICON[level]} ${level} | ${b[level]} |`);
  push('');

  let left = 0;
  const risky = sortByRisk(report.servers).filter((s) => s.level !== 'none');
  if (risky.length > 0) {
    push('| Level | Score | Server | Client | Findings |', '| --- | ---: | --- | --- | ---: |');
    let shown = 0;
    for (const s of risky) {
      if (!pushIfRoom(`| ${LEVEL_ICON[s.level]} ${s.level} | ${s.score} | ${inlineCode(s.name, true)} | ${escapeMarkdown(s.client)} | ${s.findings.length} |`)) break;
      shown += 1;
    }
    push('');
    for (const s of risky.slice(0, shown)) {
      const block = [
        '<details>',
        `<summary>${LEVEL_ICON[s.level]} ${escapeHtml(s.name)}: ${s.findings.length} finding${s.findings.length === 1 ? '' : 's'}</summary>`,
        '',
        `Config: ${inlineCode(s.configPath)}`,
        '',
        ...s.findings.map((f) => `- **${f.severity}** ${f.ruleId} ${escapeMarkdown(f.title)}: ${escapeMarkdown(f.message)}`),
        '',
        '</details>',
        '',
      ];
      if (!pushIfRoom(...block)) break;
    }
    left = risky.length - shown;
  } else {
    push('No risky servers found.', '');
  }

  if (report.findings.length > 0) {
    const names = new Map(report.servers.map((s) => [s.id, s.name]));
    if (pushIfRoom('### Across servers', '')) {
      for (const f of report.findings) {
        const involved = f.servers.map((id) => inlineCode(names.get(id) ?? id)).join(', ');
        if (!pushIfRoom(`- **${f.severity}** ${f.ruleId} ${escapeMarkdown(f.title)}: ${escapeMarkdown(f.message)} (${involved})`)) break;
      }
      push('');
    }
  }

  const errors = report.clients.filter((c) => c.error);
  if (errors.length > 0 && pushIfRoom('### Config files that could not be read', '')) {
    for (const c of errors) if (!pushIfRoom(`- ${escapeMarkdown(c.name)} ${inlineCode(c.configPath)}: ${escapeMarkdown(c.error ?? '')}`)) break;
    push('');
  }

  if (shortened) {
    push(`_This comment is shortened to stay within comment size limits${left > 0 ? `: ${left} more risky server${left === 1 ? ' is' : 's are'} not listed` : ''}. Run \`palisade scan --json\` for the full report._`, '');
  }
  return out.join('\n');
}
