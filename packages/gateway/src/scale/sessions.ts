// 2025-11-25 sessions shared between gateway processes through Redis.
//
// The SDK's Streamable HTTP transport keeps a session in memory: the transport knows its id
// and that it was initialized, and the Server instance behind it knows what initialize
// negotiated (protocol version, the client's capabilities and info). Beyond that, a gateway
// session holds the principal it is bound to, the endpoint (path) it was opened on, and its
// resource subscriptions. This module keeps exactly that in Redis under
// "<prefix>sess:<id>" (JSON, expires after the idle timeout, refreshed on use) and
// "<prefix>sess:<id>:subs" (a set of URIs), so any process can re-create the session: it
// builds a transport whose id generator returns the stored id and replays the stored
// initialize, notifications/initialized and resources/subscribe through the SDK's public
// handleRequest. A DELETE on any process removes the keys and is published on
// "<prefix>sess-closed" so the other processes drop their local copies.
import type { SharedRedis } from './redis.js';

export interface SessionRecord {
  principal: string;
  path: string;
  /** the params of the client's initialize request, replayed on another process */
  init: Record<string, unknown>;
  createdAt: string;
}

export class SharedSessions {
  private readonly touched = new Map<string, number>();
  private listening = false;

  constructor(
    private readonly redis: SharedRedis,
    readonly idleSeconds: number,
  ) {}

  private key(id: string): string {
    return `${this.redis.prefix}sess:${id}`;
  }

  async save(id: string, rec: SessionRecord): Promise<void> {
    await this.redis.client.set(this.key(id), JSON.stringify(rec), 'EX', this.idleSeconds);
    this.touched.set(id, Date.now());
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const raw = await this.redis.client.get(this.key(id));
    if (!raw) return undefined;
    try {
      const rec = JSON.parse(raw) as SessionRecord;
      if (typeof rec.principal !== 'string' || typeof rec.path !== 'string' || !rec.init || typeof rec.init !== 'object') return undefined;
      return rec;
    } catch {
      return undefined;
    }
  }

  /** Keep the record alive while it is used (at most one write per session every 30 s per process). */
  touch(id: string): void {
    const now = Date.now();
    if (now - (this.touched.get(id) ?? 0) < 30_000) return;
    this.touched.set(id, now);
    const multi = this.redis.client.multi().expire(this.key(id), this.idleSeconds).expire(`${this.key(id)}:subs`, this.idleSeconds);
    void multi.exec().catch(() => undefined);
  }

  async subscriptions(id: string): Promise<string[]> {
    return this.redis.client.smembers(`${this.key(id)}:subs`);
  }

  async subscribe(id: string, uri: string): Promise<void> {
    await this.redis.client.multi().sadd(`${this.key(id)}:subs`, uri).expire(`${this.key(id)}:subs`, this.idleSeconds).exec();
  }

  async unsubscribe(id: string, uri: string): Promise<void> {
    await this.redis.client.srem(`${this.key(id)}:subs`, uri);
  }

  /** The client ended the session (DELETE): gone everywhere. */
  async delete(id: string): Promise<void> {
    this.touched.delete(id);
    await this.redis.client.del(this.key(id), `${this.key(id)}:subs`);
    await this.redis.client.publish(`${this.redis.prefix}sess-closed`, id);
  }

  /** Forget the local bookkeeping of a session this process dropped (the record stays). */
  forget(id: string): void {
    this.touched.delete(id);
  }

  /** Sessions deleted on another process. */
  async onDeleted(fn: (id: string) => void): Promise<void> {
    if (this.listening) return;
    this.listening = true;
    const sub = this.redis.subscriber();
    const channel = `${this.redis.prefix}sess-closed`;
    sub.on('message', (ch: string, id: string) => {
      if (ch === channel) fn(id);
    });
    await sub.subscribe(channel);
  }
}
