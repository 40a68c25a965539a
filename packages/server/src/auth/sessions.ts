// Session families and refresh tokens. One sign-in starts a family; every refresh rotates
// the token; presenting a token that was already rotated means it leaked (or was replayed),
// so the whole family is revoked. Tokens are kept only as SHA-256.
import type { Db } from '../db/scope.js';
import { newId, randomToken, sha256Hex } from './crypto.js';

export const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;

export interface IssuedRefresh {
  sessionId: string;
  refreshToken: string;
}

export async function startSession(store: Db, userId: string, orgId: string): Promise<IssuedRefresh> {
  const sessionId = newId();
  const refreshToken = randomToken(32);
  const now = new Date();
  await store.db.transaction().execute(async (tx) => {
    await tx.insertInto('sessions').values({ id: sessionId, user_id: userId, org_id: orgId, created_at: now.toISOString(), revoked_at: null, revoked_reason: null }).execute();
    await tx
      .insertInto('refresh_tokens')
      .values({ token_hash: sha256Hex(refreshToken), session_id: sessionId, created_at: now.toISOString(), expires_at: new Date(now.getTime() + REFRESH_TTL_MS).toISOString(), rotated_at: null })
      .execute();
  });
  return { sessionId, refreshToken };
}

export type RotateResult =
  | { kind: 'ok'; sessionId: string; userId: string; orgId: string; refreshToken: string }
  | { kind: 'reuse'; sessionId: string; userId: string; orgId: string }
  | { kind: 'invalid' };

export async function rotateRefreshToken(store: Db, presented: string): Promise<RotateResult> {
  const hash = sha256Hex(presented);
  const now = new Date();
  return store.db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom('refresh_tokens')
      .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
      .select(['refresh_tokens.session_id', 'refresh_tokens.expires_at', 'refresh_tokens.rotated_at', 'sessions.user_id', 'sessions.org_id', 'sessions.revoked_at'])
      .where('refresh_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at || row.expires_at <= now.toISOString()) return { kind: 'invalid' } as const;
    if (row.rotated_at) {
      await tx.updateTable('sessions').set({ revoked_at: now.toISOString(), revoked_reason: 'refresh_reuse' }).where('id', '=', row.session_id).where('revoked_at', 'is', null).execute();
      return { kind: 'reuse', sessionId: row.session_id, userId: row.user_id, orgId: row.org_id } as const;
    }
    // only one of two racing rotations may win
    const upd = await tx.updateTable('refresh_tokens').set({ rotated_at: now.toISOString() }).where('token_hash', '=', hash).where('rotated_at', 'is', null).executeTakeFirst();
    if (Number(upd.numUpdatedRows) !== 1) return { kind: 'invalid' } as const;
    const refreshToken = randomToken(32);
    await tx
      .insertInto('refresh_tokens')
      .values({ token_hash: sha256Hex(refreshToken), session_id: row.session_id, created_at: now.toISOString(), expires_at: new Date(now.getTime() + REFRESH_TTL_MS).toISOString(), rotated_at: null })
      .execute();
    return { kind: 'ok', sessionId: row.session_id, userId: row.user_id, orgId: row.org_id, refreshToken } as const;
  });
}

export async function revokeSession(store: Db, sessionId: string, reason: string): Promise<void> {
  await store.db.updateTable('sessions').set({ revoked_at: new Date().toISOString(), revoked_reason: reason }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
}

export async function revokeUserSessions(store: Db, userId: string, orgId: string, reason: string): Promise<void> {
  await store.db
    .updateTable('sessions')
    .set({ revoked_at: new Date().toISOString(), revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('org_id', '=', orgId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Drops refresh tokens past their expiry and sessions ended long ago (kept a while for replay detection). */
export async function pruneExpiredSessions(store: Db, now = new Date()): Promise<void> {
  const iso = now.toISOString();
  const monthAgo = new Date(now.getTime() - REFRESH_TTL_MS).toISOString();
  await store.db.deleteFrom('refresh_tokens').where('expires_at', '<', iso).execute();
  await store.db.deleteFrom('sessions').where('revoked_at', '<', monthAgo).execute();
}
