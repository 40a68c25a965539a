// Agent keys: `pal_` + 32 random bytes (base64url). Only the SHA-256 is stored; the first 12
// characters are kept for display. Verification hashes the presented key and looks the hash
// up (an index probe on a digest, so timing says nothing about the key), then compares the
// stored digest in constant time. Every request reads the key's row, so a revocation holds
// from the next request on.
import { sql } from 'kysely';
import { pgBatch, pgLiteral } from '../db/open.js';
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

interface KeyRow {
  id: string;
  org_id: string;
  key_hash: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export async function verifyAgentKey(store: Db, presented: string): Promise<AuthAgent | null> {
  if (!KEY_SHAPE.test(presented)) return null;
  const hash = sha256Hex(presented);
  const row = await findKey(store, hash);
  if (!row || !constantTimeEqual(row.key_hash, hash) || row.revoked_at) return null;
  const now = Date.now();
  if (!row.last_used_at || now - Date.parse(row.last_used_at) > LAST_USED_EVERY_MS) await markUsed(store, row, new Date(now).toISOString());
  return { keyId: row.id, orgId: row.org_id };
}

/** The key's row, read under the key-lookup policy (PostgreSQL: `app.key_hash` is the hash). */
async function findKey(store: Db, hash: string): Promise<KeyRow | undefined> {
  if (store.dialect === 'postgres') {
    // one round trip: the setting and the read in one implicit transaction
    const literal = pgLiteral(hash, 'hex');
    const batch = literal && (await pgBatch(store.db, [`select set_config('app.key_hash', ${literal}, true)`, `select id, org_id, key_hash, revoked_at, last_used_at from agent_keys where key_hash = ${literal}`]));
    if (batch) return batch[1]![0] as KeyRow | undefined;
    return withLookup(store, { 'app.key_hash': hash }, (tx) => tx.selectFrom('agent_keys').select(['id', 'org_id', 'key_hash', 'revoked_at', 'last_used_at']).where('key_hash', '=', hash).executeTakeFirst());
  }
  // SQLite: one read needs no transaction
  return store.db.selectFrom('agent_keys').select(['id', 'org_id', 'key_hash', 'revoked_at', 'last_used_at']).where('key_hash', '=', hash).executeTakeFirst();
}

async function markUsed(store: Db, row: KeyRow, at: string): Promise<void> {
  if (store.dialect === 'postgres') {
    const org = pgLiteral(row.org_id, 'id');
    const id = pgLiteral(row.id, 'id');
    const when = pgLiteral(at, 'time');
    if (org && id && when && (await pgBatch(store.db, [`select set_config('app.org_id', ${org}, true)`, `update agent_keys set last_used_at = ${when} where id = ${id} and org_id = ${org}`]))) return;
    await withLookup(store, {}, async (tx) => {
      await sql`select set_config('app.org_id', ${row.org_id}, true)`.execute(tx);
      await tx.updateTable('agent_keys').set({ last_used_at: at }).where('id', '=', row.id).where('org_id', '=', row.org_id).execute();
    });
    return;
  }
  await store.db.updateTable('agent_keys').set({ last_used_at: at }).where('id', '=', row.id).where('org_id', '=', row.org_id).execute();
}
