// Alert titles that say what happened and where (issue 14), built when alerts are read from
// the alert's own data: its type and severity, the server's name, the host's name, the client
// and the event's details. Names in backticks are marked up for the dashboard (it shows them
// as code) and read fine as plain text in a webhook or a CSV.
import { findRule } from '@palisade/core';

const CLIENTS: Record<string, string> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  windsurf: 'Windsurf',
  vscode: 'VS Code',
  'vscode-insiders': 'VS Code Insiders',
  zed: 'Zed',
  codex: 'Codex',
  'gemini-cli': 'Gemini CLI',
  cline: 'Cline',
  'roo-code': 'Roo Code',
  continue: 'Continue',
  goose: 'Goose',
  lmstudio: 'LM Studio',
  kiro: 'Kiro',
  'amazon-q': 'Amazon Q',
  opencode: 'OpenCode',
  antigravity: 'Antigravity',
  'mcp-config': 'MCP config file',
};

export function clientLabel(id: string): string {
  return CLIENTS[id] ?? id;
}

/** A name inside backticks, with backticks and line breaks in it made harmless. */
function code(name: string): string {
  return '`' + name.replace(/[`\r\n]/g, "'").slice(0, 120) + '`';
}

export interface TitleInput {
  type: string;
  severity: string;
  serverName: string | null;
  hostname: string | null;
  client: string | null;
  details: Record<string, unknown>;
  /** the worst finding of the server on that host, for a new server's title */
  topFinding: string | null;
  /** the stored title, used when nothing better is known */
  fallback: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

export function alertTitle(a: TitleInput): string {
  const server = a.serverName ? code(a.serverName) : 'a server';
  const client = a.client ? ` (${clientLabel(a.client)})` : '';
  const where = a.hostname ? ` on host ${code(a.hostname)}${client}` : client;
  const d = a.details;
  switch (a.type) {
    case 'server_added': {
      const level = str(d.level) ?? (a.severity === 'info' ? 'no-risk' : a.severity);
      return `New ${level === 'none' ? 'no-risk' : level} server ${server}${where}${a.topFinding ? `: ${a.topFinding}` : ''}`;
    }
    case 'server_removed':
      return `Server ${server} removed${a.hostname ? ` from host ${code(a.hostname)}` : ''}${client}`;
    case 'config_changed': {
      const from = str(d.previousLevel);
      const to = str(d.level);
      return `Configuration of ${server} changed${where}${from && to && from !== to ? `: ${from} to ${to} risk` : ''}`;
    }
    case 'tool_changed':
      return `Tool ${code(str(d.tool) ?? '?')} of ${server} changed since first seen${where}: possible rug pull`;
    case 'level_raised':
      return `${server} rose from ${str(d.from) ?? '?'} to ${str(d.to) ?? a.severity} risk${where}`;
    case 'finding_added': {
      const ruleId = str(d.ruleId);
      const title = (ruleId && findRule(ruleId)?.meta.title) ?? ruleId ?? 'finding';
      return `New ${a.severity} finding on ${server}${where}: ${title}${ruleId ? ` (${ruleId})` : ''}`;
    }
    case 'override_voided':
      return `Accepted risk of ${server} voided${where}: review it again`;
    case 'advisory_matched': {
      const list = Array.isArray(d.advisories) ? (d.advisories as Array<Record<string, unknown>>) : [];
      const ids = list.map((x) => str(x.id)).filter((x): x is string => x !== null);
      const kev = list.some((x) => x.knownExploited === true);
      return `${server}${where} is affected by ${ids.slice(0, 3).join(', ') || 'a known vulnerability'}${ids.length > 3 ? ` and ${ids.length - 3} more` : ''}${kev ? ' (known exploited)' : ''}`;
    }
    default:
      return a.fallback;
  }
}
