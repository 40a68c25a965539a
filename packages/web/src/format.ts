// Dates, numbers and labels as people read them.
import type { Level, Severity } from './api/types';

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function timeAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 0) return 'in the future';
  if (s < 60) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export const levelLabel: Record<Level, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', none: 'None' };
export const severityLabel: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' };

export const clientLabel: Record<string, string> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  vscode: 'VS Code',
  'vscode-insiders': 'VS Code Insiders',
  windsurf: 'Windsurf',
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
export const clientName = (id: string) => clientLabel[id] ?? id;

/** A server's command line as one string (values were already redacted by the agent). */
export function commandLine(s: { command: string | null; args: string[]; url: string | null }): string {
  if (s.command) return [s.command, ...s.args].join(' ');
  return s.url ?? '';
}
