// Lists: { items, total } with limit (default 50, hard cap 200) and offset. Their schemas
// (ListQuery, ListOf) are in schemas.ts.
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
/** deepest page offset accepted (a larger one is a 400) */
export const MAX_OFFSET = 1_000_000_000;

export function page(q: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const finite = (v: number | undefined, d: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : d);
  return { limit: Math.min(MAX_LIMIT, Math.max(1, finite(q.limit, DEFAULT_LIMIT))), offset: Math.min(MAX_OFFSET, Math.max(0, finite(q.offset, 0))) };
}
