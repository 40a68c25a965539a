// Lists: { items, total } with limit (default 50, hard cap 200) and offset.
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
/** deepest page offset accepted (a larger one is a 400) */
export const MAX_OFFSET = 1_000_000_000;

export const pageQueryProperties = {
  limit: { type: 'integer', minimum: 1, maximum: 100_000, default: DEFAULT_LIMIT, description: `page size (larger values are capped at ${MAX_LIMIT})` },
  offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 },
} as const;

export function page(q: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const finite = (v: number | undefined, d: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : d);
  return { limit: Math.min(MAX_LIMIT, Math.max(1, finite(q.limit, DEFAULT_LIMIT))), offset: Math.min(MAX_OFFSET, Math.max(0, finite(q.offset, 0))) };
}

export function listOf(itemSchema: object): object {
  return { type: 'object', required: ['items', 'total'], properties: { items: { type: 'array', items: itemSchema }, total: { type: 'integer' } } };
}

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
} as const;

export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
