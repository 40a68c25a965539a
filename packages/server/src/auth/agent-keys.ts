// Agent keys: `pal_` + 32 random bytes (base64url). Only the SHA-256 is stored; the first 12
// characters are kept for display. Verification hashes the presented key and looks the hash
// up (an index probe on a digest, so timing says nothing about the key), then compares the
// stored digest in constant time. Every request reads the key's row, so a revocation holds
// from the next request on.
import type { Db } from '../db/scope.js';
import { storageFor } from '../db/storage.js';
import { constantTimeEqual, randomToken, sha256Hex } from './crypto.js';

export const AGENT_KEY_PREFIX = 'pal_';
export const DISPLAY_PREFIX_LENGTH = 12;
const KEY_SHAPE = /^pal_[A-Za-z0-9_-]{43}$/;

export function generateAgentKey(): { key: string; prefix: string; hash: string } {
  const key = AGENT_KEY_PREFIX + randomToken(32);
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH), hash: sha256Hex(key) };
}

export interface AuthAgent {
  keyId: string;
  orgId: string;
}

// last_used_at is written at most once a minute per key so ingest does not write for it on every call
const LAST_USED_EVERY_MS = 60_000;

export async function verifyAgentKey(store: Db, presented: string): Promise<AuthAgent | null> {
  if (!KEY_SHAPE.test(presented)) return null;
  const hash = sha256Hex(presented);
  const storage = storageFor(store);
  const row = await storage.findAgentKey(store, hash);
  if (!row || !constantTimeEqual(row.key_hash, hash) || row.revoked_at) return null;
  const now = Date.now();
  if (!row.last_used_at || now - Date.parse(row.last_used_at) > LAST_USED_EVERY_MS) await storage.markAgentKeyUsed(store, row, new Date(now).toISOString());
  return { keyId: row.id, orgId: row.org_id };
}
