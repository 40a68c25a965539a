// Multi-row inserts split so no statement passes the bound-parameter limits (SQLite 32766,
// PostgreSQL 65535), and so a large report's statements stay small: the driver builds each
// statement's text and parameters in memory (on PostgreSQL the whole wire message), so a
// bound per statement bounds that memory. One statement per chunk keeps big reports fast.
/** The most bound parameters one multi-row statement carries (issue 13: bounded memory on large reports). */
export const MAX_STATEMENT_PARAMS = 5_000;

export function chunkRows<T extends object>(rows: readonly T[], maxParams = MAX_STATEMENT_PARAMS): T[][] {
  if (rows.length === 0) return [];
  const cols = Math.max(1, Object.keys(rows[0]!).length);
  const size = Math.max(1, Math.floor(maxParams / cols));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export function chunk<T>(xs: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
