// Known token shapes glued after `_` or other word characters are still secrets, and are
// redacted; look-alike words (risk-..., disk_test_...) are not. Every value here is a made-up
// test fixture shaped like a token, never a real one.
import { describe, expect, it } from 'vitest';
import { classifyValue, detectSecret, redactArgs, redactUrl } from '@palisade/core';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const GHP = 'ghp_FixtureOnlyNotARealToken0123456789';
const NPM = 'npm_FixtureOnlyNotARealToken0123456789ab';
const STRIPE = 'sk_test_FixtureOnly0123456789';

describe('tokens glued to other text', () => {
  const glued: Array<[string, string]> = [
    [`x_${AWS}`, 'aws-access-key'],
    [`exec${AWS}`, 'aws-access-key'],
    [`token_${GHP}`, 'github-token'],
    [`mytoken${GHP}`, 'github-token'],
    [`key_${NPM}`, 'npm-token'],
    [`cfg_${STRIPE}`, 'stripe-key'],
    ['prefix_sk-proj-FixtureOnlyNotARealKey0123', 'openai-key'],
  ];
  for (const [value, type] of glued) {
    it(`finds ${type} in ${value.slice(0, 12)}…`, () => {
      expect(detectSecret(value)).toBe(type);
      expect(classifyValue('NOTE', value)).toEqual({ kind: 'secret', secretType: type });
      const r = redactArgs(['--opt', value]);
      expect(r.found).toEqual([{ index: 1, type }]);
      expect(r.args[1]).toContain(`<redacted:${type}>`);
      expect(r.args[1]).not.toContain(value.slice(-12));
    });
  }

  it('redacts a glued token in a URL path', () => {
    const r = redactUrl(`https://mcp.example.com/k/x_${AWS}/mcp`);
    expect(r.found).toContain('aws-access-key');
    expect(r.url).not.toContain(AWS);
  });

  it('leaves look-alike words alone', () => {
    for (const word of [
      'risk-assessment-tool-server-v2',
      'task-runner-for-the-whole-team',
      'disk_test_0123456789abcdefgh',
      `X${AWS}`,
      `${AWS}X`,
      'MALAYSIA0123456789ABCDEF',
      'autohf_abcdefghijklmnopqrstuvwxyz0123',
      '@modelcontextprotocol/server-filesystem',
    ]) {
      expect(detectSecret(word), word).toBeUndefined();
      expect(redactArgs([word]).found, word).toEqual([]);
    }
  });
});
