// Small primitives for secrets: random tokens, SHA-256 at rest, constant-time comparison.
import crypto from 'node:crypto';

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export function sha256Hex(value: string): string {
  return crypto.createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Compares two strings in time that does not depend on where they differ (or their lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  // hashing first gives equal-length buffers, so length differences leak nothing either
  const ha = crypto.createHash('sha256').update(a, 'utf8').digest();
  const hb = crypto.createHash('sha256').update(b, 'utf8').digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}

export function newId(): string {
  return crypto.randomUUID();
}
