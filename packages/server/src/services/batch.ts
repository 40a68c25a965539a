// Multi-row inserts split so no statement passes the bound-parameter limits (SQLite 32766,
// PostgreSQL 65535). One statement per chunk keeps big reports fast on both databases.
export function chunkRows<T extends object>(rows: readonly T[], maxParams = 30_000): T[][] {
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
