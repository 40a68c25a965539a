// Export of the current list filter as CSV or JSON, built in the browser from the API.
import { GET } from './api/client';
import type { QueryOf, ServerSummary } from './api/types';

/** The servers list's filter (everything but the page). */
export type ServerFilter = Omit<QueryOf<'/api/v1/servers', 'get'>, 'limit' | 'offset'>;

const PAGE = 200; // the API's hard cap per page
const MAX_ROWS = 20_000;

export async function fetchAllServers(filter: ServerFilter): Promise<ServerSummary[]> {
  const rows: ServerSummary[] = [];
  for (let offset = 0; offset < MAX_ROWS; offset += PAGE) {
    const page = await GET('/api/v1/servers', { query: { ...filter, limit: PAGE, offset } });
    rows.push(...page.items);
    if (page.items.length < PAGE || rows.length >= page.total) break;
  }
  return rows;
}

function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  // keep spreadsheets from running a cell as a formula
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function serversToCsv(rows: ServerSummary[]): string {
  const cols: Array<[string, (s: ServerSummary) => unknown]> = [
    ['id', (s) => s.id],
    ['name', (s) => s.name],
    ['level', (s) => s.level],
    ['effectiveLevel', (s) => s.effectiveLevel],
    ['score', (s) => s.score],
    ['transport', (s) => s.transport],
    ['command', (s) => s.command],
    ['args', (s) => s.args],
    ['url', (s) => s.url],
    ['package', (s) => (s.package ? `${s.package.name}${s.package.version ? '@' + s.package.version : ''}` : '')],
    ['clients', (s) => s.clients],
    ['hosts', (s) => s.hostCount],
    ['findings', (s) => s.findingCount],
    ['override', (s) => (s.override ? `${s.override.decision} until ${s.override.expiresAt}` : '')],
    ['firstSeen', (s) => s.firstSeen],
    ['lastSeen', (s) => s.lastSeen],
  ];
  const lines = [cols.map(([h]) => h).join(',')];
  for (const r of rows) lines.push(cols.map(([, f]) => csvCell(f(r))).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function download(filename: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
