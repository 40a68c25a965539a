// Properties of secret classification and argument redaction over arbitrary input: they
// never throw, a known token shape never survives redaction, redaction is idempotent, and
// only the redacted arguments change.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { classifyValue, detectSecret, redactArgs, isReference } from '@palisade/core';
import { fakeToken } from './tokens.js';

const RUNS = { seed: 42, numRuns: 200 };

const anyText = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', ' ', '${TOKEN}', '$TOKEN', '%TOKEN%', 'op://vault/item', '<your-key>', 'Bearer ', '--token', '-k', 'https://', 'KEY='));
// separators that end a token (the patterns are anchored at word boundaries)
const before = fc.constantFrom('', ' ', '--token=', '--api-key=', 'x:', 'Authorization: Bearer ', 'TOKEN=', 'GITHUB_TOKEN=', '/');
const after = fc.constantFrom('', ' ', ',', '"', ';x', '/more');

describe('classifyValue', () => {
  it('never throws and always returns a known kind', () => {
    fc.assert(
      fc.property(anyText, fc.option(anyText, { nil: undefined }), (name, value) => {
        const c = classifyValue(name, value);
        expect(['empty', 'reference', 'secret', 'value']).toContain(c.kind);
        if (c.kind === 'secret') expect(c.secretType).toBeTruthy();
      }),
      RUNS,
    );
  });

  it('calls every known token shape a secret, whatever the variable name', () => {
    fc.assert(
      fc.property(fakeToken, anyText, (t, name) => {
        expect(classifyValue(name, t.value).kind).toBe('secret');
        expect(detectSecret(t.value)).toBeTruthy();
      }),
      RUNS,
    );
  });

  it('names the kind of every token shape but the Anthropic one', () => {
    fc.assert(
      fc.property(fakeToken.filter((t) => t.type !== 'anthropic-key'), (t) => {
        expect(detectSecret(t.value)).toBe(t.type);
      }),
      RUNS,
    );
  });

  // Regression: the openai-key shape `sk-...` was tried before `sk-ant-...`, so Anthropic
  // keys were labelled openai-key.
  it('labels Anthropic keys anthropic-key', () => {
    fc.assert(
      fc.property(fakeToken.filter((t) => t.type === 'anthropic-key'), (t) => {
        expect(detectSecret(t.value)).toBe('anthropic-key');
      }),
      { seed: 42, numRuns: 20 },
    );
  });

  it('treats ${VAR}-style references as references, never secrets', () => {
    const varName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
    fc.assert(
      fc.property(varName, fc.constantFrom('${%s}', '${env:%s}', '$%s', '%%s%'), (v, shape) => {
        const value = shape.replace('%s', v);
        expect(isReference(value)).toBe(true);
        expect(classifyValue('API_TOKEN', value).kind).toBe('reference');
      }),
      RUNS,
    );
  });
});

describe('redactArgs', () => {
  it('never throws, keeps the argument count and reports indexes inside the list', () => {
    fc.assert(
      fc.property(fc.array(anyText, { maxLength: 8 }), (args) => {
        const r = redactArgs(args);
        expect(r.args).toHaveLength(args.length);
        for (const f of r.found) {
          expect(f.index).toBeGreaterThanOrEqual(0);
          expect(f.index).toBeLessThan(args.length);
        }
        // arguments with nothing found are passed through untouched
        const hit = new Set(r.found.map((f) => f.index));
        args.forEach((a, i) => {
          if (!hit.has(i)) expect(r.args[i]).toBe(a);
        });
      }),
      RUNS,
    );
  });

  it('never lets a known token shape through, wherever it sits in an argument', () => {
    fc.assert(
      fc.property(fc.array(anyText, { maxLength: 4 }), fakeToken, before, after, fc.nat(4), (noise, t, pre, post, at) => {
        const args = [...noise];
        const i = Math.min(at, args.length);
        args.splice(i, 0, `${pre}${t.value}${post}`);
        const r = redactArgs(args);
        expect(r.args.join('\n')).not.toContain(t.value);
        expect(r.found.some((f) => f.index === i)).toBe(true);
      }),
      RUNS,
    );
  });

  const redactable = fc.oneof(anyText, fakeToken.map((t) => t.value), fc.tuple(before, fakeToken, after).map(([p, t, s]) => p + t.value + s));

  it('leaves nothing token-shaped for a second pass to find', () => {
    fc.assert(
      fc.property(fc.array(redactable, { maxLength: 6 }), (args) => {
        const once = redactArgs(args).args;
        for (const a of once) expect(detectSecret(a)).toBeUndefined();
        // a second pass may relabel (see below) but never brings anything back
        for (const a of redactArgs(once).args) expect(detectSecret(a)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('is idempotent on arguments that are not KEY=value pairs', () => {
    const notPair = redactable.filter((a) => !/^[A-Z][A-Z0-9_]*=/.test(a));
    fc.assert(
      fc.property(fc.array(notPair, { maxLength: 6 }), (args) => {
        const once = redactArgs(args).args;
        expect(redactArgs(once).args).toEqual(once);
      }),
      RUNS,
    );
  });

  // Regression: `GITHUB_TOKEN=<redacted:aws-access-key>/more`, the output of one pass, was
  // relabelled `GITHUB_TOKEN=<redacted:generic-secret>` by a second pass.
  it('is idempotent on KEY=value pairs', () => {
    fc.assert(
      fc.property(fc.array(redactable, { maxLength: 6 }), (args) => {
        const once = redactArgs(args).args;
        expect(redactArgs(once).args).toEqual(once);
      }),
      RUNS,
    );
  });
});
