// Starting and stopping a gateway: load the config, open the store, connect the upstreams,
// then serve over HTTP or over this process's stdio.
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Server } from '@modelcontextprotocol/server';
import { loadConfig, type GatewayConfig } from './config.js';
import { Gateway, type GatewayOptions, type Principal } from './gateway.js';
import { GatewayHttpServer } from './http.js';
import { AdminServer } from './admin.js';
import { BackendSync } from './backend-sync.js';
import { buildMcpServer } from './mcp-server.js';
import { GatewayStore } from './store.js';
import { openRedis, type SharedRedis } from './scale/redis.js';
import { SharedSessions } from './scale/sessions.js';
import { RedisVaultBackend } from './oauth/vault.js';
import { CallLimiter, MemoryRateBackend, RedisRateBackend, type ScaleLimits } from './scale/limits.js';
import { UpstreamSupervisor } from './scale/lifecycle.js';
import { ScaleMetrics } from './scale/metrics.js';

export interface RunningGateway {
  gateway: Gateway;
  url?: string;
  http?: GatewayHttpServer;
  /** the admin API's base URL, when admin.enabled */
  adminUrl?: string;
  /** managed mode (backend-sync.ts): the sync with a Palisade backend, when backend is configured */
  backendSync?: BackendSync;
  close(): Promise<void>;
}

export interface StartOptions extends GatewayOptions {
  host?: string;
  port?: number;
  stdio?: boolean;
  /** for --stdio: streams other than process.stdin/stdout (tests) */
  /** Redis key prefix for shared state (default PALISADE_GATEWAY_REDIS_PREFIX, else "palisade:gw:") */
  redisKeyPrefix?: string;
  /** a 2025-11-25 session unused this long is dropped (default 30 min) */
  sessionIdleMs?: number;
  /** restart backoff of a crashed upstream (default 1 s, doubling to 60 s) */
  restartBackoffMs?: number;
  /** its cap (default 60 s) */
  maxRestartBackoffMs?: number;
  stdioTransport?: Parameters<typeof serveStdio>[1] extends infer O ? (O extends { transport?: infer T } ? T : never) : never;
}

/** a shared session not used for this long expires in Redis (as the local idle sweep) */
const SESSION_IDLE_SECONDS = 30 * 60;

/** The limits of issue 16 from the config: callsPerMinute is the principal's window unless limits.rate.principal is set. */
export function scaleLimits(cfg: GatewayConfig): ScaleLimits {
  const l = cfg.limits;
  return {
    rate: { principal: l.rate?.principal ?? { limit: l.callsPerMinute, windowSeconds: 60 }, virtualServer: l.rate?.virtualServer, tool: l.rate?.tool },
    concurrency: {
      perPrincipal: l.concurrency?.perPrincipal ?? 64,
      perUpstream: l.concurrency?.perUpstream ?? 128,
      queue: l.concurrency?.queue ?? 1024,
      queueTimeoutMs: l.concurrency?.queueTimeoutMs ?? 30_000,
    },
  };
}

export const STDIO_PRINCIPAL: Principal = { id: 'stdio', kind: 'stdio', name: 'stdio client', virtualServers: null };

export async function startGateway(cfgOrPath: GatewayConfig | string, opts: StartOptions = {}): Promise<RunningGateway> {
  const cfg = typeof cfgOrPath === 'string' ? await loadConfig(cfgOrPath, opts.env ?? process.env) : cfgOrPath;
  const env = opts.env ?? process.env;
  // the config's "redis" (an ${ENV} reference), else REDIS_URL: sessions and limits shared between processes
  const redisUrl = cfg.redis ?? (env.REDIS_URL || undefined);
  let redis: SharedRedis | undefined;
  if (redisUrl && !opts.stdio) redis = await openRedis(redisUrl, opts.redisKeyPrefix ?? env.PALISADE_GATEWAY_REDIS_PREFIX ?? 'palisade:gw:', opts.warn);
  // the running gateway: WAL checkpoints (an fsync each) on a thread of their own, off the call path
  const store = new GatewayStore(cfg.store, { backgroundCheckpoints: true, warn: opts.warn });
  const limiter = new CallLimiter(scaleLimits(cfg), redis ? new RedisRateBackend(redis) : new MemoryRateBackend(), new MemoryRateBackend(), opts.warn);
  const metrics = new ScaleMetrics();
  // the supervisor needs the gateway and sees its audit records
  const hooks: { supervisor?: UpstreamSupervisor } = {};
  const gateway = new Gateway(cfg, store, {
    ...opts,
    // per-user upstream sign-ins shared by every process of the deployment (issue 16 §1, §3)
    ...(redis ? { vaultBackend: new RedisVaultBackend(redis) } : {}),
    limiter: opts.limiter ?? limiter,
    onAudit: (rec) => {
      metrics.observe(rec);
      hooks.supervisor?.onAudit(rec);
      opts.onAudit?.(rec);
    },
  });
  const supervisor = new UpstreamSupervisor(gateway, limiter, metrics, { idleMs: cfg.limits.upstreamIdleMs ?? 0, initialBackoffMs: opts.restartBackoffMs, maxBackoffMs: opts.maxRestartBackoffMs, warn: opts.warn });
  // refuse a public bind before any upstream is started
  let http: GatewayHttpServer | undefined;
  let backendSync: BackendSync | undefined;
  try {
    const syncEvery = Number(env.PALISADE_GATEWAY_SYNC_INTERVAL_MS);
    backendSync = cfg.backend ? new BackendSync(gateway, cfg.backend, { warn: opts.warn, limiter, intervalMs: Number.isFinite(syncEvery) && syncEvery >= 100 ? syncEvery : undefined }) : undefined;
    http = opts.stdio ? undefined : new GatewayHttpServer(gateway, cfg, { host: opts.host, port: opts.port, shared: redis ? new SharedSessions(redis, SESSION_IDLE_SECONDS) : undefined,
          sessionIdleMs: opts.sessionIdleMs,
          // managed mode: the sync's health follows the other figures
          scaleMetrics: backendSync ? { render: (gauges) => metrics.render(gauges) + backendSync!.metricsText() } : metrics,
        });
  } catch (err) {
    await redis?.close();
    store.close();
    throw err;
  }
  hooks.supervisor = supervisor;
  await gateway.start();
  supervisor.begin();
  // the admin API (off unless admin.enabled): its own loopback listener
  const admin = cfg.admin.enabled ? new AdminServer(gateway, cfg.admin, { backend: backendSync ? () => backendSync!.health() : undefined }) : undefined;
  const adminUrl = admin ? (await admin.listen()).url : undefined;
  // managed mode: push to and pull from a Palisade backend; the gateway never waits for it
  backendSync?.start();
  for (const c of gateway.collisions) opts.warn?.(`name collision: ${c}`);
  if (opts.stdio) {
    const servers = new Set<Server>();
    const handle = serveStdio(
      () => {
        const s = buildMcpServer(gateway, { principal: STDIO_PRINCIPAL });
        servers.add(s);
        return s;
      },
      { ...(opts.stdioTransport ? { transport: opts.stdioTransport } : {}), onerror: (e) => opts.warn?.(`stdio: ${e.message}`) },
    );
    const off = gateway.onChange((kind) => {
      for (const s of servers) {
        const p = kind === 'tools' ? s.sendToolListChanged() : kind === 'prompts' ? s.sendPromptListChanged() : s.sendResourceListChanged();
        void Promise.resolve(p).catch(() => undefined);
      }
    });
    return {
      gateway,
      adminUrl,
      backendSync,
      async close() {
        await backendSync?.stop();
        off();
        supervisor.close();
        await handle.close().catch(() => undefined);
        await admin?.close();
        await gateway.close();
        store.close();
      },
    };
  }
  const where = await http!.listen();
  return {
    gateway,
    http,
    url: where.url,
    adminUrl,
    backendSync,
    async close() {
      await backendSync?.stop();
      supervisor.close();
      await http!.close();
      await admin?.close();
      await gateway.close();
      await redis?.close();
      store.close();
    },
  };
}
