// The Markdown subset renders text only: markup from rules or reports never becomes HTML, and
// only http(s) links are followed.
// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from '@testing-library/react';
import { InlineMarkdown, Markdown } from './Markdown';

afterEach(cleanup);

describe('Markdown', () => {
  it('renders code, bold, emphasis, links and lists as elements', () => {
    const { container } = render(<Markdown text={'Run `npx -y pkg@1.2.3` **pinned**, not *latest*.\n\nSee [the guide](https://example.test/guide).\n\n- one `a`\n- two'} />);
    expect(container.querySelector('code')?.textContent).toBe('npx -y pkg@1.2.3');
    expect(container.querySelector('strong')?.textContent).toBe('pinned');
    expect(container.querySelector('em')?.textContent).toBe('latest');
    const a = container.querySelector('a')!;
    expect(a.getAttribute('href')).toBe('https://example.test/guide');
    expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    expect([...container.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['one a', 'two']);
    expect(container.textContent).not.toContain('`');
  });

  it('never turns report text into HTML and never follows a non-web link', () => {
    const evil = '<img src=x onerror="alert(1)"> <script>alert(2)</script> [click](javascript:alert(3)) [data](data:text/html,hi) `<b>x</b>`';
    const { container } = render(<Markdown text={evil} />);
    expect(container.querySelector('img, script, b')).toBeNull();
    expect(container.querySelector('a')).toBeNull();
    expect(container.textContent).toContain('<img src=x onerror="alert(1)">');
    expect(container.textContent).toContain('click');
    expect(container.querySelector('code')?.textContent).toBe('<b>x</b>');
  });

  it('shows alert titles with names as code', () => {
    const { container } = render(<InlineMarkdown text={'New critical server `filesystem` on host `ws-114` (Cursor): shell inline code'} />);
    expect([...container.querySelectorAll('code')].map((c) => c.textContent)).toEqual(['filesystem', 'ws-114']);
    expect(container.textContent).toBe('New critical server filesystem on host ws-114 (Cursor): shell inline code');
  });
});
