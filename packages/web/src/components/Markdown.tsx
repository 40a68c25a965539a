// A small Markdown subset rendered as React elements (issue 14): rule explanations and alert
// titles carry `code`, **bold**, *emphasis*, [links](https://...) and "- " lists. Nothing is
// ever inserted as HTML: every piece of text becomes a text node, so markup that came from a
// report or a rule shows as the characters it is. Links are followed only when http(s).
import type { ReactNode } from 'react';

const INLINE = /`([^`\n]+)`|\*\*([^*\n]+)\*\*|\*([^*\s][^*\n]*)\*|\[([^\]\n]{1,300})\]\(([^()\s]{1,2000})\)/g;

/** http(s) URLs only: no javascript:, data: or relative links from report data. */
export function safeLink(url: string): string | null {
  return /^https?:\/\/[^\s]+$/i.test(url) ? url : null;
}

/** One line of inline Markdown as React nodes. */
export function inline(text: string, keyPrefix = 'i'): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const key = `${keyPrefix}-${n++}`;
    if (m[1] !== undefined) out.push(<code key={key}>{m[1]}</code>);
    else if (m[2] !== undefined) out.push(<strong key={key}>{inline(m[2], key)}</strong>);
    else if (m[3] !== undefined) out.push(<em key={key}>{inline(m[3], key)}</em>);
    else if (m[4] !== undefined) {
      const href = safeLink(m[5]!);
      out.push(
        href ? (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer">
            {inline(m[4], key)}
          </a>
        ) : (
          <span key={key}>{inline(m[4], key)}</span>
        ),
      );
    }
    last = at + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Inline Markdown in a span (titles). */
export function InlineMarkdown({ text }: { text: string }) {
  return <>{inline(text)}</>;
}

/** Paragraphs and "- " lists of inline Markdown (explanations). */
export function Markdown({ text, className }: { text: string; className?: string }) {
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n\s*\n/);
  return (
    <div className={['markdown', className].filter(Boolean).join(' ')}>
      {blocks.map((block, b) => {
        const lines = block.split('\n').filter((l) => l.trim() !== '');
        if (lines.length === 0) return null;
        if (lines.every((l) => /^\s*[-*] /.test(l))) {
          return (
            <ul key={b}>
              {lines.map((l, i) => (
                <li key={i}>{inline(l.replace(/^\s*[-*] /, ''), `${b}-${i}`)}</li>
              ))}
            </ul>
          );
        }
        return <p key={b}>{inline(lines.join(' '), `${b}`)}</p>;
      })}
    </div>
  );
}
