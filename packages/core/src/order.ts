// Code-unit string order: the same on every machine and locale, and far cheaper than
// localeCompare, whose first call loads the ICU collator (several ms of every scan).
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
