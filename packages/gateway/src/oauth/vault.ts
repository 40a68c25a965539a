// Per-user upstream OAuth tokens at rest (issue 16 §3): AES-256-GCM under a key derived
// (HKDF-SHA256) from the config's tokenEncryptionKey, a fresh 96-bit IV per write, and the
// upstream and principal as additional authenticated data, so a row copied to another user or
// upstream does not decrypt. Pending authorization flows (state -> principal, PKCE verifier)
// live in the same store: single use (deleted as they are read) and expiring.
//
// Where the sealed values are kept is a VaultBackend: the gateway's own SQLite store, or Redis
// when the gateway shares its state with other processes (REDIS_URL), so a user who signed in
// to an upstream through one replica is signed in on all of them, a sign-in started on one
// replica can come back to another, and a token is refreshed by one replica at a time (a lock
// in Redis: a refresh token the server rotates is never sent twice). Only sealed values leave
// the process: Redis holds no plaintext token, verifier or state.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { SharedRedis } from '../scale/redis.js';

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
/** how long one replica may hold a principal's refresh before another may take it over */
const REFRESH_LOCK_MS = 30_000;

/** Where sealed tokens and flows are kept (values are already encrypted and bound to their key). */
export interface VaultBackend {
  getToken(upstream: string, principal: string): Promise<string | undefined>;
  putToken(upstream: string, principal: string, sealed: string): Promise<void>;
  deleteToken(upstream: string, principal: string): Promise<boolean>;
  /** stores a flow and keeps at most `max` pending flows per principal (the oldest go first) */
  addFlow(stateHash: string, upstream: string, principal: string, sealed: string, expiresAt: number, max: number): Promise<void>;
  /** the flow, deleted as it is read; undefined when unknown or expired */
  takeFlow(stateHash: string): Promise<{ sealed: string; expiresAt: number } | undefined>;
  /**
   * Runs `fn` while no other process refreshes this principal's token for this upstream;
   * `null` when another one holds the turn past `waitMs` (the caller then reads what it stored).
   */
  refreshTurn<T>(upstream: string, principal: string, waitMs: number, fn: () => Promise<T>): Promise<T | null>;
}

/** The gateway's own SQLite store: one process, so a refresh's turn is the process's own. */
export class SqliteVaultBackend implements VaultBackend {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS upstream_tokens (upstream TEXT NOT NULL, principal TEXT NOT NULL, sealed TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (upstream, principal));
      CREATE TABLE IF NOT EXISTS upstream_oauth_flows (state_hash TEXT PRIMARY KEY, upstream TEXT NOT NULL, principal TEXT NOT NULL, sealed TEXT NOT NULL, expires_at INTEGER NOT NULL);
    `);
  }

  async getToken(upstream: string, principal: string): Promise<string | undefined> {
    const row = this.db.prepare('SELECT sealed FROM upstream_tokens WHERE upstream = ? AND principal = ?').get(upstream, principal) as { sealed: string } | undefined;
    return row?.sealed;
  }

  async putToken(upstream: string, principal: string, sealed: string): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO upstream_tokens (upstream, principal, sealed, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (upstream, principal) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at',
      )
      .run(upstream, principal, sealed, new Date().toISOString());
  }

  async deleteToken(upstream: string, principal: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM upstream_tokens WHERE upstream = ? AND principal = ?').run(upstream, principal).changes > 0;
  }

  async addFlow(stateHash: string, upstream: string, principal: string, sealed: string, expiresAt: number, max: number): Promise<void> {
    this.db.prepare('DELETE FROM upstream_oauth_flows WHERE expires_at <= ?').run(Date.now());
    // a principal cannot fill the table: its oldest pending flows go first
    this.db
      .prepare(
        'DELETE FROM upstream_oauth_flows WHERE principal = ? AND state_hash NOT IN (SELECT state_hash FROM upstream_oauth_flows WHERE principal = ? ORDER BY expires_at DESC LIMIT ?)',
      )
      .run(principal, principal, max - 1);
    this.db.prepare('INSERT INTO upstream_oauth_flows (state_hash, upstream, principal, sealed, expires_at) VALUES (?, ?, ?, ?, ?)').run(stateHash, upstream, principal, sealed, expiresAt);
  }

  async takeFlow(stateHash: string): Promise<{ sealed: string; expiresAt: number } | undefined> {
    const row = this.db.prepare('DELETE FROM upstream_oauth_flows WHERE state_hash = ? RETURNING sealed, expires_at AS expiresAt').get(stateHash) as
      | { sealed: string; expiresAt: number }
      | undefined;
    return row && row.expiresAt > Date.now() ? row : undefined;
  }

  async refreshTurn<T>(_upstream: string, _principal: string, _waitMs: number, fn: () => Promise<T>): Promise<T | null> {
    // one process: UpstreamOAuth already lets one refresh per principal run at a time
    return fn();
  }
}

/**
 * Redis, shared by every gateway process of a deployment: "<prefix>oauth:tok:<id>" (the sealed
 * tokens, kept until deleted: give Redis persistence, or users sign in again after a restart),
 * "<prefix>oauth:flow:<state hash>" (expiring with the flow), "<prefix>oauth:flows:<principal
 * id>" (a sorted set of a principal's pending flows, to cap them) and "<prefix>oauth:turn:<id>"
 * (the refresh lock). <id> is a digest of the upstream and principal names.
 */
export class RedisVaultBackend implements VaultBackend {
  constructor(private readonly redis: SharedRedis) {}

  private id(upstream: string, principal: string): string {
    return createHash('sha256').update(`${upstream}\0${principal}`, 'utf8').digest('hex').slice(0, 40);
  }

  private k(kind: string, id: string): string {
    return `${this.redis.prefix}oauth:${kind}:${id}`;
  }

  async getToken(upstream: string, principal: string): Promise<string | undefined> {
    return (await this.redis.client.get(this.k('tok', this.id(upstream, principal)))) ?? undefined;
  }

  async putToken(upstream: string, principal: string, sealed: string): Promise<void> {
    await this.redis.client.set(this.k('tok', this.id(upstream, principal)), sealed);
  }

  async deleteToken(upstream: string, principal: string): Promise<boolean> {
    return (await this.redis.client.del(this.k('tok', this.id(upstream, principal)))) > 0;
  }

  async addFlow(stateHash: string, _upstream: string, principal: string, sealed: string, expiresAt: number, max: number): Promise<void> {
    const set = this.k('flows', createHash('sha256').update(principal, 'utf8').digest('hex').slice(0, 40));
    const now = Date.now();
    const c = this.redis.client;
    await c.multi().set(this.k('flow', stateHash), `${expiresAt}.${sealed}`, 'PX', Math.max(1, expiresAt - now)).zadd(set, expiresAt, stateHash).zremrangebyscore(set, '-inf', now).pexpire(set, FLOW_TTL_MS).exec();
    // a principal cannot pile up flows: its oldest pending ones go first
    const extra = await c.zrange(set, 0, -(max + 1));
    if (extra.length > 0) await c.multi().zrem(set, ...extra).del(...extra.map((h) => this.k('flow', h))).exec();
  }

  async takeFlow(stateHash: string): Promise<{ sealed: string; expiresAt: number } | undefined> {
    const raw = await this.redis.client.getdel(this.k('flow', stateHash));
    const dot = raw?.indexOf('.') ?? -1;
    if (!raw || dot < 0) return undefined;
    const expiresAt = Number(raw.slice(0, dot));
    return expiresAt > Date.now() ? { sealed: raw.slice(dot + 1), expiresAt } : undefined;
  }

  async refreshTurn<T>(upstream: string, principal: string, waitMs: number, fn: () => Promise<T>): Promise<T | null> {
    const key = this.k('turn', this.id(upstream, principal));
    const mine = randomUUID();
    const until = Date.now() + waitMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      if ((await this.redis.client.set(key, mine, 'PX', REFRESH_LOCK_MS, 'NX')) === 'OK') break;
      if (Date.now() >= until) return null;
      await new Promise((r) => setTimeout(r, delay));
    }
    try {
      return await fn();
    } finally {
      // released only if still ours (a turn held past REFRESH_LOCK_MS may have passed on)
      await this.redis.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, mine).catch(() => undefined);
    }
  }
}

export class TokenVault {
  private readonly key: Buffer;

  constructor(
    readonly backend: VaultBackend,
    keyMaterial: string,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(keyMaterial, 'utf8'), 'palisade-gateway', 'upstream-oauth-tokens v1', 32));
  }

  private seal(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  /** undefined when the value does not decrypt (another key, or moved to another user/upstream) */
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

  async get(upstream: string, principal: string): Promise<StoredTokens | undefined> {
    const sealed = await this.backend.getToken(upstream, principal);
    if (!sealed) return undefined;
    const plain = this.open(sealed, TokenVault.tokenAad(upstream, principal));
    return plain === undefined ? undefined : (JSON.parse(plain) as StoredTokens);
  }

  async has(upstream: string, principal: string): Promise<boolean> {
    return (await this.get(upstream, principal)) !== undefined;
  }

  async put(upstream: string, principal: string, tokens: StoredTokens): Promise<void> {
    await this.backend.putToken(upstream, principal, this.seal(JSON.stringify(tokens), TokenVault.tokenAad(upstream, principal)));
  }

  delete(upstream: string, principal: string): Promise<boolean> {
    return this.backend.deleteToken(upstream, principal);
  }

  /** Remember a started flow; returns nothing secret (the state is the caller's). */
  async addFlow(state: string, flow: Omit<PendingFlow, 'expiresAt'>): Promise<void> {
    const hash = stateHash(state);
    await this.backend.addFlow(hash, flow.upstream, flow.principal, this.seal(JSON.stringify(flow), `flow\0${hash}`), Date.now() + FLOW_TTL_MS, MAX_PENDING_PER_PRINCIPAL);
  }

  /** The flow of this state, deleted as it is read (single use); undefined if unknown or expired. */
  async takeFlow(state: string): Promise<PendingFlow | undefined> {
    const hash = stateHash(state);
    const row = await this.backend.takeFlow(hash);
    if (!row) return undefined;
    const plain = this.open(row.sealed, `flow\0${hash}`);
    return plain === undefined ? undefined : { ...(JSON.parse(plain) as Omit<PendingFlow, 'expiresAt'>), expiresAt: row.expiresAt };
  }
}

function stateHash(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}
