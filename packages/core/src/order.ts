import { levelRank, type ScoredServer } from './model.js';
// Code-unit string order: the same on every machine and locale, and far cheaper than
// localeCompare, whose first call loads the ICU collator (several ms of every scan).
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Riskiest first: level, then score, then name and client so equal servers keep a stable order. */
export function byRisk(a: ScoredServer, b: ScoredServer): number {
  return levelRank[b.level] - levelRank[a.level] || b.score - a.score || compareText(a.name, b.name) || compareText(a.client, b.client) || compareText(a.configPath, b.configPath);
}

export function sortByRisk(servers: readonly ScoredServer[]): ScoredServer[] {
  return [...servers].sort(byRisk);
}
