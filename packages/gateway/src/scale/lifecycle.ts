// Upstream lifecycle in one gateway process: an upstream whose connection drops (a crashed or
// killed stdio server, a remote that went away) is restarted with exponential backoff (1 s,
// 2 s, 4 s ... at most 60 s; back to 1 s once it has stayed up for a minute) and its lists are
// re-read through the policy; a stdio upstream without calls for limits.upstreamIdleMs is
// stopped (its process group ends) and started again by the next call. The process tree
// itself is reaped by @palisade/mcp's stdio transport on every exit path (close, crash,
// SIGTERM/SIGINT of the gateway, exit).
import type { Gateway } from '../gateway.js';
import type { CallLimiter } from './limits.js';
import type { ScaleMetrics } from './metrics.js';

export interface SupervisorOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** 0: never stop an idle upstream */
  idleMs?: number;
  warn?: (m: string) => void;
}

export class UpstreamSupervisor {
  private readonly attempts = new Map<string, number>();
  private readonly lastUp = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleStopped = new Set<string>();
  private readonly reviving = new Set<string>();
  private sweeper?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly gateway: Gateway,
    private readonly limiter: CallLimiter,
    private readonly metrics: ScaleMetrics,
    private readonly opts: SupervisorOptions = {},
  ) {}

  /** After the gateway's start (upstreams connected, lists read): watch for idle upstreams. */
  begin(): void {
    const idle = this.opts.idleMs ?? 0;
    this.started = Date.now();
    if (idle > 0 && !this.closed) {
      this.sweeper = setInterval(() => this.sweepIdle(), Math.max(50, Math.min(idle / 2, 30_000)));
      this.sweeper.unref();
    }
  }

  /** Every audit record of the gateway. */
  onAudit(rec: { kind: string; decision: string; upstream: string | null }): void {
    if (this.closed || !rec.upstream) return;
    if (rec.kind === 'upstream' && rec.decision === 'disconnected') {
      if (this.idleStopped.has(rec.upstream)) return; // stopped on purpose; the next call starts it
      this.schedule(rec.upstream);
    } else if (rec.kind === 'call') {
      // a call reached an upstream that was down (it reconnects on use): mark it up and re-read
      // its lists through the policy now rather than at the scheduled restart
      const s = this.gateway.upstreams.get(rec.upstream);
      if (!s || s.up || !s.client.connected || this.reviving.has(rec.upstream)) return;
      const wasIdle = this.idleStopped.delete(rec.upstream);
      const t = this.timers.get(rec.upstream);
      if (t) clearTimeout(t);
      this.timers.delete(rec.upstream);
      void this.revive(rec.upstream, !wasIdle).catch(() => this.schedule(rec.upstream!));
    }
  }

  private schedule(name: string): void {
    if (this.closed || this.timers.has(name)) return;
    const stableFor = Date.now() - (this.lastUp.get(name) ?? 0);
    if (stableFor > 60_000) this.attempts.set(name, 0);
    const n = this.attempts.get(name) ?? 0;
    const delay = Math.min((this.opts.initialBackoffMs ?? 1000) * 2 ** n, this.opts.maxBackoffMs ?? 60_000);
    this.attempts.set(name, n + 1);
    const t = setTimeout(() => {
      this.timers.delete(name);
      void this.revive(name, true).catch((err: unknown) => {
        this.opts.warn?.(`upstream ${name} did not restart: ${err instanceof Error ? err.message : String(err)}`);
        this.schedule(name);
      });
    }, delay);
    t.unref();
    this.timers.set(name, t);
  }

  private async revive(name: string, counted: boolean): Promise<void> {
    const s = this.gateway.upstreams.get(name);
    if (!s || this.closed || this.reviving.has(name)) return;
    this.reviving.add(name);
    try {
      await s.client.connect();
      s.up = true;
      s.error = undefined;
      this.lastUp.set(name, Date.now());
      await this.gateway.refresh(s, new Set(['tools', 'prompts', 'resources']), true);
    } finally {
      this.reviving.delete(name);
    }
    if (counted) {
      this.metrics.restarted(name);
      this.gateway.audit({ kind: 'upstream', upstream: name, decision: 'restarted', reason: `after ${this.attempts.get(name) ?? 1} attempt(s)` });
    }
  }

  private sweepIdle(): void {
    const idle = this.opts.idleMs ?? 0;
    const now = Date.now();
    for (const [name, s] of this.gateway.upstreams) {
      if (s.cfg.transport !== 'stdio' || !s.up || !s.client.connected || this.idleStopped.has(name)) continue;
      if (this.limiter.inFlight(name) > 0) continue;
      const last = Math.max(this.limiter.lastUse(name), this.lastUp.get(name) ?? 0, this.started);
      if (now - last < idle) continue;
      const pid = s.client.pid;
      if (!pid) continue;
      this.idleStopped.add(name);
      this.metrics.idleStopped(name);
      this.gateway.audit({ kind: 'upstream', upstream: name, decision: 'idle-stopped', reason: `no call for ${Math.round((now - last) / 1000)} s` });
      try {
        process.kill(-pid, 'SIGTERM'); // its process group; the transport sees it end and cleans up
      } catch {
        // already gone
      }
    }
  }

  private started = Date.now();

  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
