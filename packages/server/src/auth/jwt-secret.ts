// The key that signs access tokens. Production demands a strong JWT_SECRET; otherwise a
// strong one is generated once and kept (mode 0600) in the data folder.
import fs from 'node:fs';
import path from 'node:path';
import { entropy } from '@palisade/core';
import { randomToken } from './crypto.js';
import { buildEstimator, TransientEstimator } from './strength.js';

export const MIN_SECRET_LENGTH = 32;
export const GENERATE_HINT = `Generate one with: node -e "console.log(require('node:crypto').randomBytes(48).toString('base64url'))" (or: openssl rand -base64 48) and set JWT_SECRET to it.`;

const EXAMPLE_WORDS = ['changeme', 'change-me', 'change_me', 'changethis', 'example', 'your-secret', 'your_secret', 'yoursecret', 'replace', 'secretkey', 'secret-key', 'jwt_secret', 'jwt-secret', 'jwtsecret', 'supersecret', 'placeholder', 'default', 'palisade', 'password', 'xxxxxxxx', 'todo'];

/** Why a JWT secret is unacceptable, as a sentence; null when it is strong. */
export function jwtSecretProblem(secret: string | undefined): string | null {
  if (!secret) return `JWT_SECRET is not set; production mode needs it. ${GENERATE_HINT}`;
  if (secret.length < MIN_SECRET_LENGTH) return `JWT_SECRET is too short (${secret.length} characters; at least ${MIN_SECRET_LENGTH} are needed). ${GENERATE_HINT}`;
  const lower = secret.toLowerCase();
  if (EXAMPLE_WORDS.some((w) => lower.includes(w))) return `JWT_SECRET looks like an example or placeholder value. ${GENERATE_HINT}`;
  const distinct = new Set(secret).size;
  if (distinct < 12 || entropy(secret) < 3.5) return `JWT_SECRET has too little randomness (too few distinct characters). ${GENERATE_HINT}`;
  const bits = estimateSecretBits(secret);
  if (bits < MIN_SECRET_BITS) return `JWT_SECRET has too little randomness: about ${Math.round(bits)} bits by estimate (repeats, sequences, keyboard rows or dictionary words count for little), and at least ${MIN_SECRET_BITS} are needed. ${GENERATE_HINT}`;
  return null;
}

/** The signing key must carry at least this much randomness (HS256 keys are 256 bits). */
export const MIN_SECRET_BITS = 256;

/** The estimator: checked at start-up, then dropped with its dictionaries a minute later (strength.ts) */
export const secretEstimator = new TransientEstimator(() => buildEstimator({ placeholders: EXAMPLE_WORDS }, 64));

/**
 * Bits of randomness in a secret, estimated: the character classes it uses give the
 * brute-force bound (length x log2 of the alphabet; hex counts 4 bits a character);
 * jwtSecretProblem's Shannon check has already refused few distinct characters; zxcvbn-ts finds dictionary words, keyboard rows,
 * sequences and repeats, and when it explains the string by such patterns its (much
 * smaller) guess count is the estimate.
 */
export function estimateSecretBits(secret: string): number {
  let alphabet = 0;
  if (/^[0-9a-f]+$/i.test(secret)) alphabet = 16; // hex
  else if (/[a-z]/.test(secret)) alphabet += 26;
  if (alphabet !== 16) {
    if (/[A-Z]/.test(secret)) alphabet += 26;
    if (/[0-9]/.test(secret)) alphabet += 10;
    if (/[^a-zA-Z0-9]/.test(secret)) alphabet += 33;
  }
  const len = [...secret].length;
  const charsetBits = len * Math.log2(Math.max(2, alphabet));
  // zxcvbn's own floor for an unpatterned string is about 10^length guesses; far fewer means patterns
  const sample = secret.slice(0, 64);
  const zxBits = secretEstimator.get().check(sample).guessesLog10 * Math.log2(10);
  const patterned = zxBits < sample.length * Math.log2(10) * 0.75;
  let bits = charsetBits;
  if (patterned) bits = Math.min(bits, zxBits + (len - sample.length) * Math.log2(Math.max(2, alphabet)));
  return bits;
}

/** Reads dataDir/jwt-secret, creating it (0600) with 48 random bytes when absent. */
export function loadOrCreateJwtSecret(dataDir: string): string {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'jwt-secret');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (!jwtSecretProblem(existing)) {
      fs.chmodSync(file, 0o600);
      return existing;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomToken(48);
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return secret;
}
