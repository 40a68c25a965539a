// Properties of URL redaction over arbitrary strings and generated URLs: it never throws,
// user-info and query values never survive, fragments go, and it is idempotent.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { redactUrl } from '@palisade/core';
import { fakeToken, marker } from './tokens.js';

const RUNS = { seed: 42, numRuns: 200 };

const host = fc.constantFrom('mcp.example.com', 'localhost', '127.0.0.1', '[::1]', 'api.example.org:8443', 'xn--bcher-kva.example');
const pathPart = fc.array(fc.constantFrom('mcp', 'sse', 'v1', 'a b', '%41', 'x.y', '~u', ''), { maxLength: 4 }).map((a) => '/' + a.join('/'));
const paramName = fc.constantFrom('key', 'api_key', 'token', 'q', 'page', 'x-y', 'a b');

describe('redactUrl', () => {
  it('never throws on any string and always returns a string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.webUrl({ withQueryParameters: true, withFragments: true })), (raw) => {
        const r = redactUrl(raw);
        expect(typeof r.url).toBe('string');
        expect(Array.isArray(r.found)).toBe(true);
      }),
      RUNS,
    );
  });

  // A user name beside a password stays (`postgresql://app:<redacted>@db/prod` tells an
  // analyst which account is configured); a user name alone that is not a plain lowercase
  // name is taken for a token and goes.
  it('removes passwords, token-like user names, every query value and the fragment', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'https'),
        fc.option(marker('User'), { nil: undefined }),
        fc.option(marker('Pass'), { nil: undefined }),
        host,
        pathPart,
        fc.array(fc.tuple(paramName, marker('Qv')), { maxLength: 4 }),
        fc.option(marker('Frag'), { nil: undefined }),
        (scheme, user, pass, h, p, params, frag) => {
          const auth = user || pass ? `${user ?? ''}${pass ? `:${pass}` : ''}@` : '';
          const query = params.length ? '?' + params.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&') : '';
          const raw = `${scheme}://${auth}${h}${p}${query}${frag ? `#${frag}` : ''}`;
          const r = redactUrl(raw);
          for (const secret of [pass ? undefined : user, pass, frag, ...params.map(([, v]) => v)]) if (secret) expect(r.url).not.toContain(secret);
          // (a random-looking user name beside a password is itself taken for a token)
          if (user && pass) expect(r.url).toMatch(new RegExp(`//(?:${user}|<redacted>):<redacted>@`));
          expect(r.hadCredentials).toBe(Boolean(user || pass));
          if (user || pass) expect(r.found).toContain('url-credentials');
          // what is not secret stays readable
          for (const [k] of params) expect(decodeURIComponent(r.url.replace(/\+/g, ' '))).toContain(k);
        },
      ),
      RUNS,
    );
  });

  it('removes a token shape from the path', () => {
    fc.assert(
      fc.property(host, fakeToken, (h, t) => {
        const r = redactUrl(`https://${h}/mcp/${t.value}/sse`);
        expect(r.url).not.toContain(t.value);
        expect(r.found.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true } }), fc.string({ maxLength: 60 })), (raw) => {
        const once = redactUrl(raw).url;
        expect(redactUrl(once).url).toBe(once);
      }),
      RUNS,
    );
  });
});
