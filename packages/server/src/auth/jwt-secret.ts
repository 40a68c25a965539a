// The key that signs access tokens. Production demands a strong JWT_SECRET; otherwise a
// strong one is generated once and kept (mode 0600) in the data folder.
import fs from 'node:fs';
import path from 'node:path';
import { entropy } from '@palisade/core';
import { randomToken } from './crypto.js';

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
  return null;
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
