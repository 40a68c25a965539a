// The audit log as CSV (issue 14): the entries of the current filter, read page by page from
// the API, one row each with names beside ids. Cells are safe to open in a spreadsheet: one
// that starts with = + - @ (or a tab or carriage return) is prefixed with ' so it is never run
// as a formula.
import { GET } from './api/client';
import type { AuditEntry, QueryOf } from './api/types';

/** The audit log's filter (everything but the page). */
export type AuditFilter = Omit<QueryOf<'/api/v1/audit', 'get'>, 'limit' | 'offset'>;

const PAGE = 200; // the API's cap per page
export const MAX_AUDIT_ROWS = 20_000;

export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function actorLabel(e: AuditEntry): string {
  if (e.actorType === 'system') return 'Palisade';
  if (e.actorType === 'agent') return `agent ${e.actorName ?? e.actorId ?? ''}`.trim();
  return e.actorEmail ?? e.actorName ?? e.actorId ?? '';
}

export function auditToCsv(rows: AuditEntry[]): string {
  const cols: Array<[string, (e: AuditEntry) => unknown]> = [
    ['at', (e) => e.at],
    ['actor', actorLabel],
    ['actorType', (e) => e.actorType],
    ['action', (e) => e.action],
    ['targetType', (e) => e.targetType],
    ['target', (e) => e.targetName],
    ['targetId', (e) => e.targetId],
    ['ip', (e) => e.ip],
    ['details', (e) => (e.details && Object.keys(e.details).length ? e.details : '')],
  ];
  const lines = [cols.map(([h]) => h).join(',')];
  for (const r of rows) lines.push(cols.map(([, f]) => csvCell(f(r))).join(','));
  return lines.join('\r\n') + '\r\n';
}

export async function fetchAudit(filter: AuditFilter): Promise<{ rows: AuditEntry[]; total: number }> {
  const rows: AuditEntry[] = [];
  let total = 0;
  for (let offset = 0; offset < MAX_AUDIT_ROWS; offset += PAGE) {
    const page = await GET('/api/v1/audit', { query: { ...filter, limit: PAGE, offset } });
    total = page.total;
    rows.push(...page.items);
    if (page.items.length < PAGE || rows.length >= page.total) break;
  }
  return { rows, total };
}
