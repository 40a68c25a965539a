// One place that opens Redis connections for the gateway's shared state (sessions, limits).
// The URL may carry a password: it is never logged; errors are reported by host only.
import { Redis } from 'ioredis';

export interface SharedRedis {
  /** commands */
  client: Redis;
  /** key prefix, e.g. "palisade:gw:" (one per deployment; tests use one per test) */
  prefix: string;
  /** host:port for messages (never the password) */
  where: string;
  /** a second connection in subscriber mode, opened on first use */
  subscriber(): Redis;
  close(): Promise<void>;
}

export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'redis';
  }
}

export async function openRedis(url: string, prefix: string, warn?: (m: string) => void): Promise<SharedRedis> {
  const where = redisWhere(url);
  const make = () => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableReadyCheck: true, connectTimeout: 5000 });
    let lastWarned = 0;
    r.on('error', (err: Error) => {
      // at most one warning a minute per connection, without the URL
      if (Date.now() - lastWarned > 60_000) {
        lastWarned = Date.now();
        warn?.(`redis ${where}: ${err.message.replace(url, where)}`);
      }
    });
    return r;
  };
  const client = make();
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new Error(`could not connect to Redis at ${where}: ${(err as Error).message.replace(url, where)}`);
  }
  let sub: Redis | undefined;
  return {
    client,
    prefix,
    where,
    subscriber() {
      sub ??= make();
      return sub;
    },
    async close() {
      await Promise.all([client.quit().catch(() => client.disconnect()), sub?.quit().catch(() => sub?.disconnect())]);
    },
  };
}
