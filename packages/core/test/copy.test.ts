import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shallowCopy } from '../src/copy.js';

describe('shallowCopy', () => {
  it('gives what an object spread gives: own enumerable keys, in order, values shared', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const copy = shallowCopy(o);
        expect(copy).not.toBe(o);
        expect(Object.keys(copy)).toEqual(Object.keys({ ...o }));
        for (const k of Object.keys(o)) expect(copy[k]).toBe(o[k]);
      }),
    );
  });

  it('copies a "__proto__" key (as JSON.parse makes it) as a plain property, never as the prototype', () => {
    const hostile = JSON.parse('{"name":"a","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const copy = shallowCopy(hostile);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(copy)).toBe(JSON.stringify({ ...hostile }));
  });

  it('leaves out inherited and non-enumerable properties, as a spread does', () => {
    const proto = { inherited: 1 };
    const o = Object.create(proto) as Record<string, unknown>;
    o.own = 2;
    Object.defineProperty(o, 'hidden', { value: 3, enumerable: false });
    expect(shallowCopy(o)).toEqual({ own: 2 });
    expect(Object.keys(shallowCopy(o))).toEqual(Object.keys({ ...o }));
  });
});
