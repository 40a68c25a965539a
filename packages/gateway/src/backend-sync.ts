// Managed mode (issue 16 §4): with `backend: { url, key }` in the config the gateway syncs with
// a Palisade backend (`palisade serve`) on an interval with jitter, backing off while the
// backend cannot be reached. Each sync POSTs to /api/v1/gateway/sync (X-Gateway-Key):
//   push: version, OS, upstreams with their tools (core's Tool shape: hashes, descriptions,
//         annotations), virtual servers and the tools each exposes, the quarantined changes
//         (pinned and new definition), audit records since the last sync (principal ids hashed),
//         rate-limit hits;
//   pull: the organisation's policy and the approve / reject decisions taken in the dashboard,
//         applied to this gateway's own store (an approval pins the new definition, exactly as
//         `palisade gateway approve` does).
// Nothing it pushes carries a secret: env and header VALUES are never read here (names only),
// arguments and URLs go through core's redaction, reasons through its free-text redaction.
// The gateway never depends on the backend: calls are decided from its own store, and a sync
// that fails is retried later; records not yet pushed stay in the store (cursor in the store).
import { createHash } from 'node:crypto';
import os from 'node:os';
import { levelRank, levels, redactArgs, redactFreeText, redactUrl, type Level } from '@palisade/core';
import { toTool, type ListKind } from '@palisade/mcp';
import type { GatewayConfig } from './config.js';
import type { Gateway } from './gateway.js';
import type { CallLimiter, RateRule } from './scale/limits.js';
import { GATEWAY_INFO } from './mcp-server.js';

/** most audit records pushed by one sync (the backend's bound); more are sent by the next one at once */
export const MAX_RECORDS_PER_SYNC = 5000;
const MAX_QUARANTINE_PER_SYNC = 500;
const MAX_DEFINITION = 65_536;
const DEFAULT_INTERVAL_MS = 30_000;
const MAX_BACKOFF_MS = 5 * 60_000;

export interface BackendSyncOptions {
  /** the interval between syncs (default: what the backend asks, 30 s); PALISADE_GATEWAY_SYNC_INTERVAL_MS */
  intervalMs?: number;
  warn?: (message: string) => void;
  /** for tests: the clock and the fetch */
  fetch?: typeof fetch;
  /** the limiter whose per-principal window a central callsPerMinute may tighten */
  limiter?: CallLimiter;
}

/**
 * The central policy pulled from the backend (the security team's, edited in the dashboard).
 * Each setting asks for at least this much: null / false asks nothing.
 */
export interface CentralPolicy {
  blockLevel: Level | null;
  pinning: boolean;
  stripHiddenText: boolean;
  redactSecretsInResults: boolean;
  callsPerMinute: number | null;
}

/** The central policy from an untrusted answer, or undefined when it is not one. */
export function parseCentralPolicy(v: unknown): CentralPolicy | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const p = v as Record<string, unknown>;
  const bool = (x: unknown) => x === true;
  const level = typeof p.blockLevel === 'string' && (levels as readonly string[]).includes(p.blockLevel) ? (p.blockLevel as Level) : null;
  const cpm = typeof p.callsPerMinute === 'number' && Number.isInteger(p.callsPerMinute) && p.callsPerMinute >= 1 ? p.callsPerMinute : null;
  return {
    blockLevel: level,
    pinning: bool(p.pinning),
    stripHiddenText: bool(p.stripHiddenText),
    redactSecretsInResults: bool(p.redactSecretsInResults),
    callsPerMinute: cpm,
  };
}

/** The stricter of two blockLevels: the lower level blocks more; "none" blocks nothing. */
export function stricterBlockLevel(a: Level, b: Level | null): Level {
  if (b === null || b === 'none') return a;
  if (a === 'none') return b;
  return levelRank[b] < levelRank[a] ? b : a;
}

/** What the operator's config says, kept so that a central policy that is relaxed again gives it back. */
interface OwnSettings {
  blockLevel: Level;
  pinning: boolean;
  stripHiddenText: boolean;
  redactSecretsInResults: boolean;
  callsPerMinute: number;
  principalRule?: RateRule;
}

export interface SyncOutcome {
  ok: boolean;
  /** decisions applied to the store by this sync */
  applied: number;
  pushedRecords: number;
  error?: string;
}

interface Decision {
  id: string;
  federated: string;
  upstream: string;
  tool: string;
  hash: string;
  decision: 'approve' | 'reject';
  decidedBy?: string | null;
}

/** A principal id as the backend stores it: a hash, never a token or an OAuth subject in clear. */
export function principalHash(id: string | null): string | null {
  return id === null ? null : 'p_' + createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 24);
}

const clip = (s: string | null | undefined, n: number): string | null => (s === null || s === undefined ? null : s.length > n ? s.slice(0, n) : s);

export class BackendSync {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SyncOutcome>;
  private stopped = false;
  private failures = 0;
  private backendIntervalMs = DEFAULT_INTERVAL_MS;
  private readonly url: string;
  private readonly key: string;
  /** syncs done, successful or not (for status and tests) */
  syncs = 0;
  lastOk?: string;
  lastError?: string;
  /** the central policy in force (pulled now or kept from an earlier sync) */
  central?: CentralPolicy;
  private readonly own: OwnSettings;

  constructor(
    private readonly gateway: Gateway,
    backend: NonNullable<GatewayConfig['backend']>,
    private readonly opts: BackendSyncOptions = {},
  ) {
    if (!backend.url || !backend.key) throw new Error('backend needs both url and key (key as an ${ENV} reference, e.g. "${PALISADE_GATEWAY_KEY}").');
    let u: URL;
    try {
      u = new URL(backend.url);
    } catch {
      throw new Error(`backend.url is not a URL: ${backend.url.slice(0, 200)}`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('backend.url must be an http(s) URL.');
    if (u.username || u.password) throw new Error('backend.url must not hold credentials; the gateway key goes in backend.key.');
    this.url = new URL('api/v1/gateway/sync', u.href.endsWith('/') ? u.href : `${u.href}/`).href;
    this.key = backend.key;
    const db = gateway.store.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS backend_sync (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS backend_decisions (id TEXT PRIMARY KEY, decision TEXT NOT NULL, applied_at TEXT NOT NULL);
    `);
    const p = gateway.cfg.policy;
    const rule = opts.limiter?.limits.rate.principal;
    this.own = {
      blockLevel: p.blockLevel,
      pinning: p.pinning,
      stripHiddenText: p.stripHiddenText,
      redactSecretsInResults: p.redactSecretsInResults,
      callsPerMinute: gateway.cfg.limits.callsPerMinute,
      principalRule: rule ? { ...rule } : undefined,
    };
    // the last pulled policy keeps being enforced after a restart without the backend
    const kept = this.readKept('central_policy');
    const central = kept === undefined ? undefined : parseCentralPolicy(kept);
    if (central) this.enforce(central);
    const health = this.readKept('health') as { lastOk?: string; lastError?: string } | undefined;
    if (typeof health?.lastOk === 'string') this.lastOk = health.lastOk;
    if (typeof health?.lastError === 'string') this.lastError = health.lastError;
  }

  private readKept(key: string): unknown {
    const row = this.gateway.store.db.prepare('SELECT value FROM backend_sync WHERE key = ?').get(key) as { value: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as unknown;
    } catch {
      return undefined;
    }
  }

  private keep(key: string, value: unknown): void {
    this.gateway.store.db
      .prepare('INSERT INTO backend_sync (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, JSON.stringify(value));
  }

  /**
   * Applies, setting by setting, the STRICTER of the operator's config and the central policy.
   * A central policy can tighten a gateway, never loosen what its operator configured: the
   * operator may know of an upstream or a client that needs the stricter setting, and a
   * backend (or a stolen admin session on it) must not be able to open a gateway up remotely.
   * Returns whether what decides a tool's state (blockLevel, pinning) changed.
   */
  private enforce(central: CentralPolicy): boolean {
    const p = this.gateway.cfg.policy;
    const before = `${p.blockLevel}|${p.pinning}|${p.stripHiddenText}`;
    p.blockLevel = stricterBlockLevel(this.own.blockLevel, central.blockLevel);
    p.pinning = this.own.pinning || central.pinning;
    p.stripHiddenText = this.own.stripHiddenText || central.stripHiddenText;
    p.redactSecretsInResults = this.own.redactSecretsInResults || central.redactSecretsInResults;
    const cpm = central.callsPerMinute;
    this.gateway.cfg.limits.callsPerMinute = cpm === null ? this.own.callsPerMinute : Math.min(this.own.callsPerMinute, cpm);
    const limits = this.opts.limiter?.limits;
    if (limits) {
      const mine = this.own.principalRule;
      // compared as calls per second: the central rule replaces the operator's only when it allows fewer
      const tighter = cpm !== null && (!mine || cpm / 60 < mine.limit / mine.windowSeconds);
      limits.rate.principal = tighter ? { limit: cpm, windowSeconds: 60 } : mine ? { ...mine } : undefined;
    }
    this.central = central;
    return before !== `${p.blockLevel}|${p.pinning}|${p.stripHiddenText}`;
  }

  /** The settings in force and where each comes from (admin status). */
  policyStatus(): Record<string, unknown> {
    const p = this.gateway.cfg.policy;
    return {
      central: this.central ?? null,
      own: { ...this.own, principalRule: this.own.principalRule ?? null },
      effective: {
        blockLevel: p.blockLevel,
        pinning: p.pinning,
        stripHiddenText: p.stripHiddenText,
        redactSecretsInResults: p.redactSecretsInResults,
        callsPerMinute: this.opts.limiter?.limits.rate.principal ?? { limit: this.gateway.cfg.limits.callsPerMinute, windowSeconds: 60 },
      },
    };
  }

  /** Sync health for the admin API (no secret: the key never appears in an error). */
  health(): Record<string, unknown> {
    return {
      url: this.url,
      syncs: this.syncs,
      lastOk: this.lastOk ?? null,
      lastError: this.lastError ?? null,
      failures: this.failures,
      policy: this.policyStatus(),
    };
  }

  /** Prometheus lines appended to /metrics. */
  metricsText(): string {
    const ok = this.lastOk ? Date.parse(this.lastOk) / 1000 : 0;
    return [
      '# HELP palisade_gateway_backend_last_sync_success_timestamp_seconds When the last successful sync with the Palisade backend ended (0: never).',
      '# TYPE palisade_gateway_backend_last_sync_success_timestamp_seconds gauge',
      `palisade_gateway_backend_last_sync_success_timestamp_seconds ${ok}`,
      '# HELP palisade_gateway_backend_sync_failing 1 when the last sync with the backend failed.',
      '# TYPE palisade_gateway_backend_sync_failing gauge',
      `palisade_gateway_backend_sync_failing ${this.lastError ? 1 : 0}`,
      '# HELP palisade_gateway_backend_sync_failures Consecutive failed syncs.',
      '# TYPE palisade_gateway_backend_sync_failures gauge',
      `palisade_gateway_backend_sync_failures ${this.failures}`,
      '',
    ].join('\n');
  }

  /** Starts the loop: the first sync soon after start, then every interval (with jitter). */
  start(): void {
    this.schedule(250 + Math.random() * 750);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.syncOnce().then((r) => {
        let next: number;
        if (r.ok) {
          const base = this.opts.intervalMs ?? this.backendIntervalMs;
          // a full batch: more records are waiting, send them at once
          next = r.pushedRecords >= MAX_RECORDS_PER_SYNC ? 50 : base * (0.8 + Math.random() * 0.4);
        } else {
          const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures - 1, 10));
          next = Math.min(MAX_BACKOFF_MS, base * (0.5 + Math.random() * 0.5), Math.max(this.opts.intervalMs ?? MAX_BACKOFF_MS, 1000));
        }
        this.schedule(next);
      });
    }, ms);
    this.timer.unref?.();
  }

  private cursor(): number {
    const row = this.gateway.store.db.prepare("SELECT value FROM backend_sync WHERE key = 'audit_cursor'").get() as { value: string } | undefined;
    const n = Number(row?.value ?? 0);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  }

  private setCursor(id: number): void {
    this.gateway.store.db
      .prepare("INSERT INTO backend_sync (key, value) VALUES ('audit_cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(id));
  }

  /** What this sync pushes (also used by tests to check that no secret is in it). */
  buildPush(): { body: Record<string, unknown>; lastId: number } {
    const gw = this.gateway;
    const catalog = new Map(gw.catalog().map((t) => [t.federated, t]));
    const rows = gw.store.listTools().filter((r) => catalog.has(r.federated));
    const upstreams = [...gw.upstreams.values()].map((s) => {
      const u = s.cfg;
      const tools = rows
        .filter((r) => r.upstream === u.name)
        .map((r) => {
          let core: ReturnType<typeof toTool> | undefined;
          try {
            core = toTool(JSON.parse(r.definition) as never);
          } catch {
            core = undefined;
          }
          return {
            name: r.tool,
            federated: r.federated,
            status: r.status,
            level: catalog.get(r.federated)!.level,
            ...(core?.description !== undefined ? { description: redactFreeText(core.description).slice(0, 16_384) } : {}),
            ...(core?.inputSchemaHash ? { inputSchemaHash: core.inputSchemaHash } : {}),
            ...(core?.annotations ? { annotations: core.annotations } : {}),
            definitionHash: r.hash,
            ...(core?.schemaText ? { schemaText: redactFreeText(core.schemaText).slice(0, 16_384) } : {}),
          };
        });
      return {
        name: u.name,
        transport: u.transport,
        up: s.up,
        command: u.command ?? null,
        args: redactArgs(u.args, u.command).args,
        url: u.url ? redactUrl(u.url).url : null,
        envNames: [...u.envNames],
        headerNames: [...u.headerNames],
        tools,
      };
    });
    const everyone = { id: 'palisade-backend-sync', kind: 'stdio' as const, name: 'backend sync', virtualServers: null };
    const virtualServers = [...gw.cfg.virtualServers.values()].map((v) => ({
      name: v.name,
      upstreams: [...v.upstreams],
      tools: gw.listTools({ principal: everyone, virtualServer: v.name }).map((t) => t.name),
    }));
    const quarantine = rows
      .filter((r) => r.status === 'quarantined')
      .slice(0, MAX_QUARANTINE_PER_SYNC)
      .map((r) => {
        const pin = gw.store.getPin(r.upstream, r.tool);
        return {
          federated: r.federated,
          upstream: r.upstream,
          tool: r.tool,
          level: catalog.get(r.federated)!.level,
          oldHash: pin?.hash ?? null,
          newHash: r.hash,
          oldDefinition: pin ? redactFreeText(pin.definition).slice(0, MAX_DEFINITION) : null,
          newDefinition: redactFreeText(r.definition).slice(0, MAX_DEFINITION),
          reason: clip(r.reason ? redactFreeText(r.reason) : null, 2000),
        };
      });
    const records = gw.store.db
      .prepare(
        'SELECT id, at, kind, principal, virtual_server AS virtualServer, upstream, tool, decision, reason, latency_ms AS latencyMs, result_bytes AS resultBytes FROM audit WHERE id > ? ORDER BY id LIMIT ?',
      )
      .all(this.cursor(), MAX_RECORDS_PER_SYNC) as {
      id: number;
      at: string;
      kind: string;
      principal: string | null;
      virtualServer: string | null;
      upstream: string | null;
      tool: string | null;
      decision: string;
      reason: string | null;
      latencyMs: number | null;
      resultBytes: number | null;
    }[];
    const calls = records.map((r) => ({
      at: r.at,
      kind: r.kind.slice(0, 64),
      principal: principalHash(r.principal),
      virtualServer: clip(r.virtualServer, 200),
      upstream: clip(r.upstream, 200),
      tool: clip(r.tool, 200),
      decision: r.decision.slice(0, 64),
      reason: clip(r.reason === null ? null : redactFreeText(r.reason), 2000),
      latencyMs: r.latencyMs === null ? null : Math.max(0, Math.min(86_400_000, r.latencyMs)),
      resultBytes: r.resultBytes === null ? null : Math.max(0, Math.trunc(r.resultBytes)),
    }));
    const rateLimitHits = calls
      .filter((c) => c.decision === 'rate-limited')
      .map((c) => ({ at: c.at, principal: c.principal, virtualServer: c.virtualServer, tool: c.tool, reason: c.reason }));
    return {
      body: {
        version: GATEWAY_INFO.version,
        os: `${process.platform} ${os.release()}`.slice(0, 200),
        upstreams,
        virtualServers,
        quarantine,
        calls,
        rateLimitHits,
      },
      lastId: records.length > 0 ? records[records.length - 1]!.id : this.cursor(),
    };
  }

  /** One push and pull. Never throws: the outcome says what happened. */
  syncOnce(): Promise<SyncOutcome> {
    if (this.running) return this.running;
    this.running = this.exchange().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async exchange(): Promise<SyncOutcome> {
    this.syncs++;
    try {
      const { body, lastId } = this.buildPush();
      const pushed = (body.calls as unknown[]).length;
      const res = await (this.opts.fetch ?? fetch)(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-gateway-key': this.key, 'user-agent': `palisade-gateway/${GATEWAY_INFO.version}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
        redirect: 'error',
      });
      const text = await res.text();
      if (!res.ok) {
        let why = `HTTP ${res.status}`;
        try {
          const e = JSON.parse(text) as { error?: { message?: string } };
          if (e.error?.message) why += `: ${e.error.message.slice(0, 300)}`;
        } catch {
          // not JSON: the status says enough
        }
        throw new Error(why);
      }
      const answer = JSON.parse(text) as { decisions?: Decision[]; syncSeconds?: number; policy?: { gateway?: unknown } };
      this.setCursor(lastId);
      // the central policy: an answer without one (an older backend) leaves the kept one in force
      const central = answer.policy && 'gateway' in answer.policy ? parseCentralPolicy(answer.policy.gateway) : undefined;
      if (central) {
        this.keep('central_policy', central);
        if (this.enforce(central)) await this.relistAll();
        if (typeof answer.syncSeconds === 'number' && answer.syncSeconds >= 5 && answer.syncSeconds <= 3600) this.backendIntervalMs = answer.syncSeconds * 1000;
      }
      const applied = await this.apply(Array.isArray(answer.decisions) ? answer.decisions : []);
      if (this.failures > 0) this.opts.warn?.(`backend sync resumed after ${this.failures} failed attempt(s)`);
      this.failures = 0;
      this.lastOk = new Date().toISOString();
      this.lastError = undefined;
      this.keep('health', { lastOk: this.lastOk });
      return { ok: true, applied, pushedRecords: pushed };
    } catch (err) {
      this.failures++;
      // never the key: it is only ever in a request header
      const message = (err instanceof Error ? err.message : String(err)).split(this.key).join('[key]').slice(0, 500);
      this.lastError = message;
      this.keep('health', { lastOk: this.lastOk, lastError: message });
      // said once when it starts failing, not on every retry
      if (this.failures === 1) this.opts.warn?.(`backend sync failed (${message}); the gateway keeps serving from its own store and retries with backoff`);
      return { ok: false, applied: 0, pushedRecords: 0, error: message };
    }
  }

  /** Re-lists every connected upstream's tools so a changed blockLevel or pinning decides them now. */
  private async relistAll(): Promise<void> {
    for (const s of this.gateway.upstreams.values()) if (s.up) await this.gateway.refresh(s, new Set<ListKind>(['tools']), true).catch(() => undefined);
  }

  /** Applies the dashboard's decisions to the store, each once. */
  private async apply(decisions: Decision[]): Promise<number> {
    const gw = this.gateway;
    const db = gw.store.db;
    const done = db.prepare('SELECT 1 FROM backend_decisions WHERE id = ?');
    const mark = db.prepare('INSERT OR IGNORE INTO backend_decisions (id, decision, applied_at) VALUES (?, ?, ?)');
    let applied = 0;
    const refresh = new Set<string>();
    for (const d of decisions) {
      if (typeof d?.id !== 'string' || typeof d.federated !== 'string' || typeof d.hash !== 'string') continue;
      if (done.get(d.id)) continue;
      const row = gw.store.getTool(d.federated);
      // only the exact change that was reviewed: a newer definition stays quarantined
      if (!row || row.hash !== d.hash) {
        if (row && row.hash !== d.hash) {
          mark.run(d.id, `${d.decision}:stale`, new Date().toISOString());
          this.opts.warn?.(`the dashboard's decision on ${d.federated} is for a definition it no longer has (${d.hash.slice(0, 12)}); ignored`);
        }
        continue;
      }
      if (d.decision === 'approve') {
        if (row.status === 'quarantined' || row.status === 'blocked') {
          // the reviewer accepted this exact definition: its pin, and its risk level too (the
          // dashboard asks a second approver for a critical one when the organisation says so)
          gw.store.approve(d.federated);
          gw.store.db
            .prepare('INSERT OR IGNORE INTO risk_approvals (upstream, tool, hash, approved_at) VALUES (?, ?, ?, ?)')
            .run(row.upstream, row.tool, row.hash, new Date().toISOString());
          gw.audit({
            kind: 'policy',
            principal: 'backend',
            upstream: row.upstream,
            tool: d.federated,
            decision: 'released',
            reason: `approved in the Palisade dashboard (decision ${d.id})`,
          });
          refresh.add(row.upstream);
          applied++;
          this.opts.warn?.(`released ${d.federated}: its changed definition was approved in the Palisade dashboard`);
        }
      } else {
        const by = typeof d.decidedBy === 'string' && d.decidedBy ? redactFreeText(d.decidedBy).slice(0, 200) : 'an administrator';
        const reason = `rejected by ${by} in the dashboard`;
        gw.store.putRejection(row.upstream, row.tool, row.hash, reason);
        if (row.status === 'quarantined' && !row.reason?.startsWith(reason))
          gw.store.putTool({ ...row, reason: `${reason}; ${row.reason ?? 'its definition changed'}` });
        gw.audit({
          kind: 'policy',
          principal: 'backend',
          upstream: row.upstream,
          tool: d.federated,
          decision: 'rejected',
          reason: `${reason} (decision ${d.id}); it stays quarantined`,
        });
        refresh.add(row.upstream);
        applied++;
      }
      mark.run(d.id, d.decision, new Date().toISOString());
    }
    // re-read those upstreams' tools so the release is served at once (and list_changed sent)
    for (const name of refresh) {
      const s = gw.upstreams.get(name);
      if (s?.up) await gw.refresh(s, new Set<ListKind>(['tools']), true).catch(() => undefined);
    }
    return applied;
  }
}
