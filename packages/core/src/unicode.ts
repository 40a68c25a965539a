// Text a person cannot see but a model reads: zero-width and bidi characters, Unicode tag
// characters (U+E0000..U+E007F, which spell out ASCII invisibly) and ANSI escape sequences.
// Tool rules use these to find instructions hidden from the person approving a tool.

export type HiddenKind = 'zero-width' | 'bidi-control' | 'tag' | 'variation-selector' | 'invisible-format';

export interface HiddenChar {
  kind: HiddenKind;
  codePoint: number;
  /** index in the string (UTF-16 units) */
  index: number;
}

export interface HiddenUnicodeReport {
  chars: HiddenChar[];
  counts: Partial<Record<HiddenKind, number>>;
  /** the ASCII text spelled by each run of tag characters */
  tagTexts: string[];
}

// The one definition of "a character a person cannot see", shared by the scanner, the backend
// and the gateway: Unicode's Default_Ignorable_Code_Point property (zero-width characters and
// joiners, bidi controls, tag characters, variation selectors, Hangul fillers, invisible
// operators, soft hyphen...) plus the interlinear annotation controls U+FFF9..U+FFFB, format
// characters that property leaves out. Kinds below only name what the property found.
const HIDDEN_CLASS = '\\p{Default_Ignorable_Code_Point}\\u{FFF9}-\\u{FFFB}';
// Built on first use (a property class costs about a millisecond to build).
let hiddenOne: RegExp | undefined;
let maybeHidden: RegExp | undefined;
let mayNeedEscape: RegExp | undefined;
const NOT_PRINTABLE_ASCII = /[^ -~]/;

/** Whether the code point is one a reader cannot see (see HIDDEN_CLASS). */
export function isHiddenCodePoint(cp: number): boolean {
  return (hiddenOne ??= new RegExp(`^[${HIDDEN_CLASS}]$`, 'u')).test(String.fromCodePoint(cp));
}

let hiddenAll: RegExp | undefined;

/**
 * A global pattern matching one hidden character (a whole code point), built once: for
 * `String.prototype.replace` and `matchAll`, which do not depend on its `lastIndex`.
 */
export function hiddenCharPattern(): RegExp {
  return (hiddenAll ??= new RegExp(`[${HIDDEN_CLASS}]`, 'gu'));
}

const BIDI = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);
const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x180e]);
const isVariationSelector = (cp: number): boolean => (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || (cp >= 0x180b && cp <= 0x180d) || cp === 0x180f;
const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;

function kindOf(cp: number): HiddenKind | undefined {
  // nearly every character is ASCII or an ordinary letter: decide those without the regex
  if (cp < 0xad) return undefined;
  if (!isHiddenCodePoint(cp)) return undefined;
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag';
  if (BIDI.has(cp)) return 'bidi-control';
  if (ZERO_WIDTH.has(cp)) return 'zero-width';
  if (isVariationSelector(cp)) return 'variation-selector';
  return 'invisible-format';
}

// Unicode property classes are costly to build (~10 ms at every start): made on first use,
// which only text with a zero-width joiner reaches.
let pictographic: RegExp | undefined;
let letter: RegExp | undefined;
const isPictographic = (c: string): boolean => (pictographic ??= new RegExp('\\p{Extended_Pictographic}', 'u')).test(c);
const isNonAsciiLetter = (c: string): boolean => c.codePointAt(0)! > 0x7f && (letter ??= new RegExp('^[\\p{L}\\p{M}]$', 'u')).test(c);

function isJoinerContext(prev: string | undefined, next: string | undefined): boolean {
  if (prev === undefined || next === undefined) return false;
  // ZWJ inside emoji sequences and ZWJ/ZWNJ between letters of scripts that need them
  // (Persian, Indic...) are ordinary text, not hiding places.
  if (isPictographic(prev) && isPictographic(next)) return true;
  return isNonAsciiLetter(prev) && isNonAsciiLetter(next);
}

// Any character that can be hidden or start an escape sequence; text without one (nearly all
// text) skips the per-character walk.
// Printable ASCII alone (nearly all text) is checked first, with a plain class: the property
// class costs ICU's set and ~3M instructions of native code to build, on first use.
const mayHide = (text: string): boolean => NOT_PRINTABLE_ASCII.test(text) && (maybeHidden ??= new RegExp(`[${HIDDEN_CLASS}\\u001b\\u009b\\u009d]`, 'u')).test(text);

/** Every hidden character in `text`, with decoded tag runs. Emoji flag tag sequences are exempt. */
export function findHiddenUnicode(text: string): HiddenUnicodeReport {
  if (!mayHide(text)) return { chars: [], counts: {}, tagTexts: [] };
  const chars: HiddenChar[] = [];
  const counts: HiddenUnicodeReport['counts'] = {};
  const tagTexts: string[] = [];
  const units = Array.from(text);
  let index = 0;
  let run = '';
  let runIsFlag = false;
  const endRun = () => {
    if (run && !runIsFlag) tagTexts.push(run);
    run = '';
    runIsFlag = false;
  };
  for (let i = 0; i < units.length; i++) {
    const ch = units[i]!;
    const cp = ch.codePointAt(0)!;
    const kind = kindOf(cp);
    if (kind === 'tag') {
      if (run === '' && !runIsFlag) runIsFlag = isFlagSequence(units, i);
      if (!runIsFlag) {
        chars.push({ kind, codePoint: cp, index });
        counts.tag = (counts.tag ?? 0) + 1;
        const ascii = cp - 0xe0000;
        if (ascii >= 0x20 && ascii <= 0x7e) run += String.fromCharCode(ascii);
      }
      if (cp === CANCEL_TAG) endRun();
    } else {
      if (run || runIsFlag) endRun();
      const joiner = (cp === 0x200d || cp === 0x200c) && isJoinerContext(units[i - 1], units[i + 1]);
      if (kind && !joiner && !(kind === 'variation-selector' && isPresentationSelector(units, i))) {
        chars.push({ kind, codePoint: cp, index });
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
    }
    index += ch.length;
  }
  endRun();
  return { chars, counts, tagTexts: tagTexts.filter((t) => t.length > 0) };
}

// One variation selector right after a visible character chooses how that character looks
// (emoji or text style, a CJK glyph variant): ordinary text. A run of them after one
// character can carry hidden bytes, so only a single one is exempt.
function isPresentationSelector(units: string[], i: number): boolean {
  const prev = units[i - 1]?.codePointAt(0);
  const next = units[i + 1]?.codePointAt(0);
  if (prev === undefined || kindOf(prev) !== undefined || prev <= 0x20) return false;
  return next === undefined || !isVariationSelector(next);
}

// A subdivision flag (England, Scotland, Wales) is U+1F3F4 followed by a few lowercase tag
// letters/digits and CANCEL TAG: legitimate, visible as a flag.
function isFlagSequence(units: string[], start: number): boolean {
  if (units[start - 1]?.codePointAt(0) !== BLACK_FLAG) return false;
  for (let j = start; j < units.length && j < start + 8; j++) {
    const cp = units[j]!.codePointAt(0)!;
    if (cp === CANCEL_TAG) return j > start;
    const ascii = cp - 0xe0000;
    const ok = (ascii >= 0x61 && ascii <= 0x7a) || (ascii >= 0x30 && ascii <= 0x39);
    if (!ok) return false;
  }
  return false;
}

/** Decode every run of tag characters in `text` to the ASCII it spells. */
export function decodeTagCharacters(text: string): string[] {
  return findHiddenUnicode(text).tagTexts;
}

/**
 * The text as a model would read it: tag runs replaced by the ASCII they spell, other
 * hidden characters removed, ANSI sequences removed. Rules scan this for instructions.
 */
export function revealHiddenText(text: string): string {
  if (!mayHide(text)) return text;
  let out = '';
  for (const ch of Array.from(stripAnsi(text))) {
    const cp = ch.codePointAt(0)!;
    const kind = kindOf(cp);
    if (kind === 'tag') {
      const ascii = cp - 0xe0000;
      if (ascii >= 0x20 && ascii <= 0x7e) out += String.fromCharCode(ascii);
    } else if (!kind) out += ch;
  }
  return out;
}

// ESC or the 8-bit CSI/OSC introducers, followed by a CSI (ESC [ ... final), an OSC
// (ESC ] ... BEL or ST) or a two-character escape.
// eslint-disable-next-line no-control-regex
const ANSI = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[@-Z\\-_]/g;

/** The ANSI escape sequences in `text`, each rendered visibly (`\x1b[8m`). */
export function findAnsiEscapes(text: string): string[] {
  return Array.from(text.matchAll(ANSI), (m) => escapeInvisible(m[0]));
}

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

// Every character escapeInvisible can change: C0/C1 controls, DEL and the hidden class.
const needsEscape = (text: string): boolean => NOT_PRINTABLE_ASCII.test(text) && (mayNeedEscape ??= new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${HIDDEN_CLASS}]`, 'u')).test(text);

/** Render control and hidden characters as escapes so evidence shows them. */
export function escapeInvisible(text: string): string {
  // nearly all text has nothing to escape: skip the per-character walk
  if (!needsEscape(text)) return text;
  let out = '';
  for (const ch of Array.from(text)) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x1b) out += '\\x1b';
    else if (cp === 0x0a) out += '\\n';
    else if (cp === 0x0d) out += '\\r';
    else if (cp === 0x09) out += '\\t';
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (kindOf(cp)) out += `\\u{${cp.toString(16).toUpperCase()}}`;
    else out += ch;
  }
  return out;
}

/** A short human name for a code point, for evidence. */
export function codePointLabel(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
