// Per-user upstream OAuth tokens at rest (issue 16 §3): AES-256-GCM under a key derived
// (HKDF-SHA256) from the config's tokenEncryptionKey, a fresh 96-bit IV per write, and the
// upstream and principal as additional authenticated data, so a row copied to another user or
// upstream does not decrypt. Pending authorization flows (state -> principal, PKCE verifier)
// live in the same store: single use (deleted as they are read) and expiring.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  /** epoch ms; absent when the server gave no expires_in */
  expiresAt?: number;
  /** the lifetime given at issue, ms (refresh starts before the end of it) */
  lifetimeMs?: number;
  scope?: string;
}

export interface PendingFlow {
  upstream: string;
  principal: string;
  principalName: string;
  verifier: string;
  redirectUri: string;
  expiresAt: number;
}

const FLOW_TTL_MS = 10 * 60_000;
const MAX_PENDING_PER_PRINCIPAL = 20;

export class TokenVault {
  private readonly key: Buffer;

  constructor(
    private readonly db: Database.Database,
    keyMaterial: string,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(keyMaterial, 'utf8'), 'palisade-gateway', 'upstream-oauth-tokens v1', 32));
    db.exec(`
      CREATE TABLE IF NOT EXISTS upstream_tokens (upstream TEXT NOT NULL, principal TEXT NOT NULL, sealed TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (upstream, principal));
      CREATE TABLE IF NOT EXISTS upstream_oauth_flows (state_hash TEXT PRIMARY KEY, upstream TEXT NOT NULL, principal TEXT NOT NULL, sealed TEXT NOT NULL, expires_at INTEGER NOT NULL);
    `);
  }

  private seal(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  /** undefined when the row does not decrypt (another key, or moved to another user/upstream) */
  private open(sealed: string, aad: string): string | undefined {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || body === undefined) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  private static tokenAad(upstream: string, principal: string): string {
    return `token\0${upstream}\0${principal}`;
  }

  get(upstream: string, principal: string): StoredTokens | undefined {
    const row = this.db.prepare('SELECT sealed FROM upstream_tokens WHERE upstream = ? AND principal = ?').get(upstream, principal) as
      { sealed: string } | undefined;
    if (!row) return undefined;
    const plain = this.open(row.sealed, TokenVault.tokenAad(upstream, principal));
    return plain === undefined ? undefined : (JSON.parse(plain) as StoredTokens);
  }

  has(upstream: string, principal: string): boolean {
    return this.get(upstream, principal) !== undefined;
  }

  put(upstream: string, principal: string, tokens: StoredTokens): void {
    this.db
      .prepare(
        'INSERT INTO upstream_tokens (upstream, principal, sealed, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (upstream, principal) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at',
      )
      .run(upstream, principal, this.seal(JSON.stringify(tokens), TokenVault.tokenAad(upstream, principal)), new Date().toISOString());
  }

  delete(upstream: string, principal: string): boolean {
    return this.db.prepare('DELETE FROM upstream_tokens WHERE upstream = ? AND principal = ?').run(upstream, principal).changes > 0;
  }

  /** Remember a started flow; returns nothing secret (the state is the caller's). */
  addFlow(state: string, flow: Omit<PendingFlow, 'expiresAt'>): void {
    const now = Date.now();
    this.db.prepare('DELETE FROM upstream_oauth_flows WHERE expires_at <= ?').run(now);
    // a principal cannot fill the table: its oldest pending flows go first
    this.db
      .prepare(
        'DELETE FROM upstream_oauth_flows WHERE principal = ? AND state_hash NOT IN (SELECT state_hash FROM upstream_oauth_flows WHERE principal = ? ORDER BY expires_at DESC LIMIT ?)',
      )
      .run(flow.principal, flow.principal, MAX_PENDING_PER_PRINCIPAL - 1);
    const hash = stateHash(state);
    this.db
      .prepare('INSERT INTO upstream_oauth_flows (state_hash, upstream, principal, sealed, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(hash, flow.upstream, flow.principal, this.seal(JSON.stringify(flow), `flow\0${hash}`), now + FLOW_TTL_MS);
  }

  /** The flow of this state, deleted as it is read (single use); undefined if unknown or expired. */
  takeFlow(state: string): PendingFlow | undefined {
    const hash = stateHash(state);
    const row = this.db.prepare('DELETE FROM upstream_oauth_flows WHERE state_hash = ? RETURNING sealed, expires_at AS expiresAt').get(hash) as
      { sealed: string; expiresAt: number } | undefined;
    if (!row || row.expiresAt <= Date.now()) return undefined;
    const plain = this.open(row.sealed, `flow\0${hash}`);
    return plain === undefined ? undefined : { ...(JSON.parse(plain) as Omit<PendingFlow, 'expiresAt'>), expiresAt: row.expiresAt };
  }
}

function stateHash(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}
