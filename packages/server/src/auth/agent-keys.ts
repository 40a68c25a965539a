// Agent keys: `pal_` + 32 random bytes (base64url). Only the SHA-256 is stored; the first 12
// characters are kept for display. Verification hashes the presented key and looks the hash
// up (an index probe on a digest, so timing says nothing about the key), then compares the
// stored digest in constant time.
import { sql } from 'kysely';
import { withLookup, type Db } from '../db/scope.js';
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
  return withLookup(store, { 'app.key_hash': hash }, async (tx) => {
    const row = await tx.selectFrom('agent_keys').select(['id', 'org_id', 'key_hash', 'revoked_at', 'last_used_at']).where('key_hash', '=', hash).executeTakeFirst();
    if (!row || !constantTimeEqual(row.key_hash, hash) || row.revoked_at) return null;
    const now = Date.now();
    if (!row.last_used_at || now - Date.parse(row.last_used_at) > LAST_USED_EVERY_MS) {
      if (store.dialect === 'postgres') await sql`select set_config('app.org_id', ${row.org_id}, true)`.execute(tx);
      await tx.updateTable('agent_keys').set({ last_used_at: new Date(now).toISOString() }).where('id', '=', row.id).where('org_id', '=', row.org_id).execute();
    }
    return { keyId: row.id, orgId: row.org_id };
  });
}
