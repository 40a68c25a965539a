import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchPath, oneOf, safeNext } from './urls';

describe('safeNext (where sign-in returns to)', () => {
  it('keeps same-origin paths with their query', () => {
    expect(safeNext('/servers?level=critical')).toBe('/servers?level=critical');
    expect(safeNext('/servers/abc')).toBe('/servers/abc');
  });
  it('refuses other origins and odd forms', () => {
    for (const bad of [
      null,
      '',
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      ['javascript', 'alert(1)'].join(':') /* a script URL, as data */,
      '/login?next=/x',
      '/\t/evil.example',
    ]) {
      expect(safeNext(bad)).toBe('/');
    }
  });
  it('always answers a single-slash local path, whatever it is given', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = safeNext(s);
        expect(r.startsWith('/')).toBe(true);
        expect(r.startsWith('//')).toBe(false);
        expect([...r].some((ch) => ch.charCodeAt(0) < 0x20 || ch === '\\')).toBe(false);
        // resolved against any origin it stays on that origin
        expect(new URL(r, 'https://palisade.example').origin).toBe('https://palisade.example');
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});

describe('matchPath', () => {
  it('extracts params and decodes them', () => {
    expect(matchPath('/servers/:id', '/servers/a%20b')).toEqual({ id: 'a b' });
    expect(matchPath('/servers/:id', '/servers')).toBeNull();
    expect(matchPath('/servers/:id', '/hosts/1')).toBeNull();
  });
  it('never throws on arbitrary paths', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(() => matchPath('/servers/:id', s)).not.toThrow();
      }),
      { seed: 42, numRuns: 300 },
    );
    expect(matchPath('/servers/:id', '/servers/%E0%A4%A')).toBeNull();
  });
});

describe('oneOf (a search parameter narrowed to what the route accepts)', () => {
  const SORTS = ['score', 'name', 'lastSeen'] as const;
  it('keeps an allowed value and drops anything else', () => {
    expect(oneOf('name', SORTS)).toBe('name');
    for (const other of ['Name', 'colour', '', ' name', null, undefined]) expect(oneOf(other, SORTS)).toBeUndefined();
  });
});
