// `palisade rules` lists every rule; `palisade rules ID` explains one. Both read the same
// metadata the engine uses, so what is listed is what runs.
import type { Command } from 'commander';
import pc from 'picocolors';
import { allRules, compareText, explainRule, findRule, type RuleMeta, type Severity } from '@palisade/core';
import { wrap } from '../output/table.js';
import { oneLine, terminalSafe } from '../output/order.js';

function colors(): ReturnType<typeof pc.createColors> {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  return pc.createColors(Boolean(process.stdout.isTTY) && !noColor);
}

function paintSeverity(c: ReturnType<typeof pc.createColors>, severity: Severity, text: string): string {
  if (severity === 'critical') return c.bold(c.red(text));
  if (severity === 'high') return c.red(text);
  if (severity === 'medium') return c.yellow(text);
  if (severity === 'low') return c.cyan(text);
  return c.dim(text);
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** The rule list: id, severity and title, one rule a line (titles wrap under themselves). */
export function renderRuleList(metas: readonly RuleMeta[], color = false): string {
  const c = pc.createColors(color);
  const width = 80;
  const lines = [c.bold(`${'ID'.padEnd(10)}${'SEVERITY'.padEnd(10)}TITLE`)];
  const sorted = [...metas].sort((a, b) => compareText(a.id, b.id));
  for (const m of sorted) {
    const title = wrap(oneLine(m.title), width - 20);
    lines.push(`${m.id.padEnd(10)}${paintSeverity(c, m.severity, m.severity.padEnd(10))}${title[0] ?? ''}`);
    for (const more of title.slice(1)) lines.push(' '.repeat(20) + more);
  }
  const counts = (Object.keys(SEVERITY_ORDER) as Severity[])
    .map((s) => [s, metas.filter((m) => m.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  lines.push('', `${metas.length} rule${metas.length === 1 ? '' : 's'}${counts ? ` (${counts})` : ''}. Run \`palisade rules ID\` to read one.`);
  return lines.join('\n') + '\n';
}

/** Wrap each line of a text to `width`, keeping its indentation on the continuation lines. */
export function wrapLines(text: string, width = 80): string {
  return text
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width) return [line];
      const indent = /^\s*/.exec(line)![0];
      return wrap(line.slice(indent.length), Math.max(20, width - indent.length)).map((l) => indent + l);
    })
    .join('\n');
}

/** One rule explained (core's explainRule: why it matters, what to do, an example), fitted to 80 columns. */
export function renderRuleExplanation(rule: Parameters<typeof explainRule>[0], color = false): string {
  const c = pc.createColors(color);
  const [head = '', ...rest] = terminalSafe(wrapLines(explainRule(rule))).split('\n');
  return [c.bold(head), ...rest].join('\n');
}

export function registerRulesCommand(program: Command): void {
  program
    .command('rules')
    .description('list the rules Palisade judges servers by, or explain one rule')
    .argument('[id]', 'a rule id such as PAL-C001')
    .option('--json', 'print the rule metadata as JSON')
    .action((id: string | undefined, flags: { json?: boolean }) => {
      const c = colors();
      if (id === undefined) {
        const metas = allRules.map((r) => r.meta);
        process.stdout.write(flags.json ? JSON.stringify(metas, null, 2) + '\n' : renderRuleList(metas, c.isColorSupported));
        return;
      }
      const rule = findRule(id.trim());
      if (!rule) {
        process.stderr.write(`palisade: there is no rule with the id "${oneLine(id).slice(0, 64)}". Run \`palisade rules\` to list the rule ids.\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(flags.json ? JSON.stringify(rule.meta, null, 2) + '\n' : renderRuleExplanation(rule, c.isColorSupported));
    });
}
