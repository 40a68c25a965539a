// The list pages' search box: typing shows at once, the filter applies after a 300 ms pause,
// and a change of the address (a link, Back) replaces the box's text.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, renderHook } from '@testing-library/react';
import { useSearchText } from './useSearchText';

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('useSearchText', () => {
  it('applies the text once typing pauses, not on every key', () => {
    const apply = vi.fn();
    const { result } = renderHook(({ applied }) => useSearchText(applied, apply), { initialProps: { applied: undefined as string | undefined } });
    act(() => result.current[1]('f'));
    act(() => vi.advanceTimersByTime(100));
    act(() => result.current[1]('fil'));
    expect(result.current[0]).toBe('fil');
    act(() => vi.advanceTimersByTime(299));
    expect(apply).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(1));
    expect(apply).toHaveBeenCalledExactlyOnceWith('fil');
  });

  it('takes a new filter from the address', () => {
    const apply = vi.fn();
    const { result, rerender } = renderHook(({ applied }) => useSearchText(applied, apply), { initialProps: { applied: 'github' as string | undefined } });
    expect(result.current[0]).toBe('github');
    rerender({ applied: 'slack' });
    expect(result.current[0]).toBe('slack');
    act(() => vi.advanceTimersByTime(1000));
    expect(apply).not.toHaveBeenCalled();
  });
});
