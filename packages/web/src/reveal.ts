// Hidden text in tool descriptions made visible (issue 14): zero-width and bidirectional
// control characters are shown as their code points, and Unicode tag characters (U+E0000 to
// U+E007F, invisible, used to smuggle instructions) are decoded to the ASCII they spell.

// zero-width, joiners, word joiner, invisible operators, BOM, soft hyphen, bidi controls,
// variation selectors, Mongolian vowel separator, Hangul fillers (code point ranges)
const HIDDEN_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180e],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xe0100, 0xe01ef],
];
const isHidden = (cp: number) => HIDDEN_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi);

export interface Revealed {
  /** the text with each hidden character (or run of tag characters) replaced by a visible marker */
  text: string;
  /** how many hidden characters it held */
  hidden: number;
  /** ASCII spelled by tag characters, if any */
  tagText: string;
}

const hex = (cp: number) => 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');

export function revealHidden(input: string): Revealed {
  let hidden = 0;
  let tagText = '';
  let text = '';
  let tags = '';
  const flushTags = () => {
    if (tags) {
      text += `⟦tags: ${tags}⟧`;
      tagText += tags;
      tags = '';
    }
  };
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xe0000 && cp <= 0xe007f) {
      hidden++;
      if (cp >= 0xe0020 && cp <= 0xe007e) tags += String.fromCharCode(cp - 0xe0000);
      continue;
    }
    flushTags();
    if (isHidden(cp)) {
      hidden++;
      text += `⟦${hex(cp)}⟧`;
    } else text += ch;
  }
  flushTags();
  return { text, hidden, tagText };
}
