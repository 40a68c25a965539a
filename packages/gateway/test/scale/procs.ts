// Helpers for the scale tests: real gateway processes, a client that alternates between them
// (what a load balancer without affinity does), child-process counting through /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const PROC = fileURLToPath(new URL('./fixtures/gateway-proc.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const REDIS_URL = process.env.PALISADE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface GatewayProc {
  child: ChildProcess;
  url: string;
  pid: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

export async function startGatewayProc(config: string, env: Record<string, string>): Promise<GatewayProc> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', PROC, config], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`gateway process did not start in 90 s: ${err}`)), 90_000);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /listening (\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway process exited ${code} before listening: ${err}`));
    });
  });
  return { child, url, pid: child.pid!, stderr: () => err, exited };
}

/**
 * A fetch for the SDK client that sends each request to the next live gateway in turn, as a
 * round-robin load balancer without session affinity; a refused connection goes to the next.
 */
export function roundRobinFetch(urls: string[], seen: string[] = []): typeof fetch {
  let next = 0;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const original = new URL(input instanceof Request ? input.url : String(input));
    let lastErr: unknown;
    // the starting point is taken once per request: requests in flight at once (the SDK's SSE
    // reconnects beside a POST) must not advance each other's retries back onto a dead process
    const start = next++;
    for (let i = 0; i < urls.length; i++) {
      const base = new URL(urls[(start + i) % urls.length]!);
      const target = new URL(original.pathname + original.search, base);
      try {
        const r = await fetch(target, init);
        seen.push(base.host);
        return r;
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr;
  }) as typeof fetch;
}

/** Delete every key under a test's prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [c, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = c;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** Every live descendant of `pid`, read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const ppid = Number(fields[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      // the process ended while we read
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/**
 * The gateway's children other than tsx's esbuild service (there only because the tests run
 * the gateway from its TypeScript sources) and a child caught between fork and exec (its
 * command line is still the gateway's): its upstreams and their descendants.
 */
export function upstreamProcs(pid: number): number[] {
  return descendants(pid).filter((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return !cmd.includes('esbuild') && !cmd.includes('gateway-proc.ts');
    } catch {
      return false;
    }
  });
}

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
