// Ordering and text hygiene shared by every output format.
import { hiddenCharPattern, levelRank, severityRank, type Level, type Severity } from '@palisade/core';

export { byRisk, sortByRisk } from '@palisade/core';

/** The level a finding of this severity counts as (info findings do not raise a level). */
export function severityLevel(severity: Severity): Level {
  return severity === 'info' ? 'none' : severity;
}

export function atOrAbove(severity: Severity, threshold: Level): boolean {
  return severityRank[severity] >= levelRank[threshold] && severity !== 'info';
}

export const LEVELS_HIGH_TO_LOW: readonly Level[] = ['critical', 'high', 'medium', 'low', 'none'];

// C0 and C1 control characters, including ESC: a server name or message from a config file
// must not be able to move the cursor, recolour or retitle the user's terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

// Invisible and direction-changing characters (zero-width, bidi controls, tags, variation
// selectors: core's one hidden-character class) could hide or reorder what the user reads:
// show them as \u{...} escapes.
/** Make untrusted text safe to print on a terminal: control and invisible characters become visible escapes. */
export function terminalSafe(text: string): string {
  return text
    .replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(hiddenCharPattern(), (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
}

/** One line of untrusted text: newlines and tabs become spaces, then control characters are escaped. */
export function oneLine(text: string): string {
  return terminalSafe(text.replace(/[\r\n\t]+/g, ' '));
}
