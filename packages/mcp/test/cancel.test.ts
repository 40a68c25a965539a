// CallCancel: a call's cancellation that makes an AbortController only when something asks for
// a signal, and otherwise behaves as one (the SDK's table of request controllers calls abort()).
import { describe, expect, it } from 'vitest';
import { CallCancel, signalOf } from '../src/cancel.js';

describe('CallCancel', () => {
  it('aborts once, with the reason given, or an AbortError as AbortController makes', () => {
    const c = new CallCancel();
    expect(c.aborted).toBe(false);
    c.abort('first');
    c.abort('second');
    expect(c.aborted).toBe(true);
    expect(c.reason).toBe('first');
    const plain = new CallCancel();
    plain.abort();
    const real = new AbortController();
    real.abort();
    expect(plain.reason).toBeInstanceOf(DOMException);
    expect((plain.reason as DOMException).name).toBe('AbortError');
    expect(String(plain.reason)).toBe(String(real.signal.reason));
  });

  it('tells its one watcher, once; a second watcher is refused and can use the signal', () => {
    const c = new CallCancel();
    const seen: unknown[] = [];
    const w = { cancelled: (r: unknown) => seen.push(r) };
    const other = { cancelled: () => seen.push('other') };
    expect(c.watch(w)).toBe(true);
    expect(c.watch(w)).toBe(true);
    expect(c.watch(other)).toBe(false);
    const signal = c.signal;
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    c.abort('why');
    c.abort('again');
    expect(seen).toEqual(['why']);
    expect(fired).toBe(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('why');
    // after the abort, nothing more is watched
    expect(c.watch(w)).toBe(false);
  });

  it('an unwatched cancellation tells no one; a signal made after the abort is already aborted', () => {
    const c = new CallCancel();
    const seen: unknown[] = [];
    const w = { cancelled: (r: unknown) => seen.push(r) };
    c.watch(w);
    c.unwatch(w);
    c.abort('late');
    expect(seen).toEqual([]);
    expect(c.signal.aborted).toBe(true);
    expect(c.signal.reason).toBe('late');
    expect(signalOf(c)).toBe(c.signal);
    const s = AbortSignal.abort('x');
    expect(signalOf(s)).toBe(s);
    expect(signalOf(undefined)).toBeUndefined();
  });
});
