import type { Level, Severity } from './api/types';

export const severityRank: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
export const levelRank: Record<Level, number> = { critical: 4, high: 3, medium: 2, low: 1, none: 0 };
