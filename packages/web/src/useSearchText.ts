import { useEffect, useState } from 'react';

/**
 * The text of a list page's search box. The address holds the applied filter (`q`); typing
 * updates the box at once and applies it to the address once typing pauses (300 ms), and a
 * change of the address (a link, Back) replaces what is in the box.
 */
export function useSearchText(applied: string | undefined, apply: (text: string) => void): [string, (text: string) => void] {
  const [text, setText] = useState(applied ?? '');
  useEffect(() => setText(applied ?? ''), [applied]);
  useEffect(() => {
    if ((applied ?? '') === text) return;
    const t = setTimeout(() => apply(text), 300);
    return () => clearTimeout(t);
  }, [text]);
  return [text, setText];
}
