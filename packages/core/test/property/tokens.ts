// Generators of fake token shapes for the property tests: made-up values in the shapes the
// secret patterns know (test fixtures, never real credentials).
import fc from 'fast-check';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const chars = (alphabet: string, min: number, max = min) => fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));

/** A fake token in one of the known shapes, with its expected kind. */
export const fakeToken = fc.oneof(
  chars(ALNUM, 36).map((s) => ({ type: 'github-token', value: `ghp_${s}` })),
  chars(ALNUM, 20, 30).map((s) => ({ type: 'gitlab-token', value: `glpat-${s}` })),
  chars(UPPER_DIGITS, 16).map((s) => ({ type: 'aws-access-key', value: `AKIA${s}` })),
  chars(ALNUM, 36).map((s) => ({ type: 'npm-token', value: `npm_${s}` })),
  chars(ALNUM, 34).map((s) => ({ type: 'huggingface-token', value: `hf_${s}` })),
  chars(ALNUM, 35).map((s) => ({ type: 'google-api-key', value: `AIza${s}` })),
  chars(ALNUM, 24, 40).map((s) => ({ type: 'anthropic-key', value: `sk-ant-${s}` })),
  chars(ALNUM, 20, 30).map((s) => ({ type: 'slack-token', value: `xoxb-${s}` })),
);

/** A distinctive made-up value that cannot occur by chance in the rest of a generated URL. */
export const marker = (prefix: string) => chars(ALNUM, 12).map((s) => `${prefix}${s}`);
