// The federation and the policy: one Gateway holds a connection to every upstream, the
// catalog of what each offers under federated names, and the state of every tool (allowed,
// blocked by risk, quarantined after a change). Inbound transports (HTTP, stdio) build MCP
// server instances whose handlers call into this class with the caller's scope.
import { appendFileSync } from 'node:fs';
import {
  toolDefinitionHash,
  configRules,
  evaluate,
  levelRank,
  parsePackageRef,
  redactArgs,
  redactUrl,
  sha256,
  canonicalJson,
  toolRules,
  type Finding,
  type Level,
  type ServerConfig,
  type Tool as CoreTool,
} from '@palisade/core';
import { toTool, UpstreamClient, type CallCancel, type ListKind, type Resolver, type UpstreamOptions, type UpstreamTarget } from '@palisade/mcp';
import type { CallToolResult, Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { GatewayConfig, UpstreamConfig, VirtualServerConfig, AllowDeny } from './config.js';
import { federatedName, matchesAny } from './naming.js';
import { checkArgumentShape, describeAjvErrors, validatorFor } from './policy/input.js';
import { mapStrings, redactSecrets, stripHidden, type HiddenFound } from './policy/text.js';
import type { GatewayStore, ToolStatus } from './store.js';
import type { CallLimiter } from './scale/limits.js';
import { PoolFullError, UpstreamPool } from './upstream-pool.js';
import { SqliteVaultBackend, TokenVault, type VaultBackend } from './oauth/vault.js';
import { AuthorizationRequired, UpstreamOAuth } from './oauth/upstream-oauth.js';
import { telemetrySettings, Tracing } from './telemetry.js';

export interface Principal {
  /** stable id used to bind sessions: "token:<prefix>", "oauth:<iss>#<sub>", "local" */
  id: string;
  kind: 'anonymous' | 'token' | 'oauth' | 'stdio';
  name: string;
  /** virtual servers this principal may use; null = all */
  virtualServers: string[] | null;
}

export interface Scope {
  principal: Principal;
  /** set on /servers/<virtual>/mcp */
  virtualServer?: string;
}

/** A JSON-RPC error to answer the client with: code, sentence, data. */
export class GatewayError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export const ERR_POLICY = -32001;
export const ERR_RATE = -32029;
export const ERR_UPSTREAM = -32010;
export const ERR_INVALID_PARAMS = -32602;
/** a per-user OAuth upstream the caller has not authorized yet (data.authorizeUrl says where) */
export const ERR_AUTHORIZATION_REQUIRED = -32003;

interface CatalogTool {
  federated: string;
  upstream: string;
  original: string;
  /** the definition as the upstream listed it */
  raw: Tool;
  /** what clients see: federated name, hidden text stripped */
  visible: Tool;
  hash: string;
  status: ToolStatus;
  reason?: string;
  level: Level;
  findings: Finding[];
  /** the inputSchema calls are validated against (the pinned one) */
  pinnedSchema: unknown;
  pinnedHash: string;
}

interface CatalogPrompt {
  federated: string;
  upstream: string;
  original: string;
  visible: Prompt;
}

interface CatalogResource {
  upstream: string;
  visible: Resource;
}

interface CatalogTemplate {
  upstream: string;
  visible: ResourceTemplate;
  matcher: RegExp;
}

interface UpstreamState {
  cfg: UpstreamConfig;
  client: UpstreamClient;
  up: boolean;
  error?: string;
  level: Level;
  findings: Finding[];
  blocked: boolean;
  refreshing?: Promise<void>;
  pending: Set<ListKind>;
  timer?: NodeJS.Timeout;
  /** the logging level last set on this upstream for the sessions that asked */
  logLevel?: LogLevel;
  /** issue 16: `isolation: per-user` (or per-user OAuth): one instance per principal; `client` only reads the catalog */
  pool?: UpstreamPool;
  /** per-user OAuth (oauth/*.ts) */
  oauth?: UpstreamOAuth;
}

export interface GatewayOptions {
  clientInfo?: { name: string; version: string };
  /** where per-user upstream OAuth tokens and sign-ins are kept: Redis when processes share state, else the store */
  vaultBackend?: VaultBackend;
  /** environment stdio upstreams inherit allowlisted names from */
  env?: Readonly<Record<string, string | undefined>>;
  /** DNS resolver for the SSRF guard (tests) */
  resolver?: Resolver;
  /** a problem worth telling the operator (stderr in the CLI) */
  warn?: (message: string) => void;
  /** issue 16 (scale/limits.ts): shared rate limits and call slots; without it, callsPerMinute in this process */
  limiter?: CallLimiter;
  /** issue 16 (scale/metrics.ts): every audit record, for /metrics */
  onAudit?: (rec: { kind: string; decision: string; upstream: string | null; latencyMs: number | null }) => void;
  /** restart backoff of a crashed per-user instance (default 1 s, doubling to maxRestartBackoffMs, 60 s) */
  restartBackoffMs?: number;
  maxRestartBackoffMs?: number;
}

export type ChangeListener = (kind: ListKind) => void;

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export interface LogParams {
  level: LogLevel;
  data: unknown;
  logger?: string;
}
export function severity(level: string): number {
  return LOG_LEVELS.indexOf(level as LogLevel);
}

/** The client side of one in-flight call: where upstream logs, sampling and elicitation go. */
export interface CallContext {
  signal?: AbortSignal;
  /** the call's cancellation without a signal (the session lane's lean path); a call may have either */
  cancel?: CallCancel;
  onprogress?: (p: { progress: number; total?: number; message?: string }) => void;
  log?: (params: LogParams) => void;
  /** `inputKey`: the upstream's own key for the request (a 2026-07-28 upstream's input_required), when it has one */
  request?: (method: 'sampling/createMessage' | 'elicitation/create', params: Record<string, unknown>, inputKey?: string) => Promise<Record<string, unknown>>;
  /** true while the call's client has been handed an upstream request and not answered yet (an input_required round) */
  awaitingClient?: () => boolean;
}

const GATEWAY_VERSION = '0.1.0';
/** a call waiting this long for its client's answer is not the source of a new upstream request */
const PARKED_MS = 1000;

export class Gateway {
  readonly upstreams = new Map<string, UpstreamState>();
  private tools = new Map<string, CatalogTool>();
  private prompts = new Map<string, CatalogPrompt>();
  private resources = new Map<string, CatalogResource>();
  private templates: CatalogTemplate[] = [];
  /** name collisions found while federating, as sentences */
  collisions: string[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private readonly rate = new Map<string, number[]>();
  private relistTimer?: NodeJS.Timeout;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** calls in flight per upstream: upstream logs and server-to-client requests go to their caller */
  private readonly inflight = new Map<string, Set<CallContext>>();
  /** calls waiting for their client to answer an upstream request, since when */
  private readonly parked = new WeakMap<CallContext, { since: number; n: number }>();
  /** resources/subscribe: "<upstream>\0<uri>" -> the sessions' notifiers */
  private readonly subscribers = new Map<string, Set<(uri: string) => void>>();
  private readonly updateListeners = new Set<(uri: string) => void>();
  /** sessions that set a logging level: where upstream logs with no call in flight go */
  private readonly logSinks = new Map<object, { scope: Scope; level: LogLevel; send: (params: LogParams) => void }>();

  constructor(
    readonly cfg: GatewayConfig,
    readonly store: GatewayStore,
    private readonly opts: GatewayOptions = {},
  ) {
    // audit records are written in batches (store.ts): a failed write is reported like a failed insert was
    store.onAuditError = (err) => this.opts.warn?.(`could not write audit records: ${String(err)}`);
    store.onWarn = (message) => this.opts.warn?.(message);
    const traceUpstreams = telemetrySettings(cfg, opts.env ?? process.env) !== undefined;
    for (const u of cfg.upstreams.values()) {
      if (u.disabled) continue;
      const target: UpstreamTarget =
        u.transport === 'stdio'
          ? { transport: 'stdio', command: u.command!, args: u.args, cwd: u.cwd, env: u.env }
          : {
              transport: u.transport,
              url: new URL(u.url!),
              headers: u.headers,
              allowPrivateAddress: u.allowPrivateAddress,
              resolver: opts.resolver,
              protocol: u.protocol,
              // traces: the upstream span's traceparent on every HTTP request made inside it
              ...(traceUpstreams ? { dynamicHeaders: async () => this.tracing?.headers() ?? {} } : {}),
            };
      const state: UpstreamState = {
        cfg: u,
        up: false,
        level: 'none',
        findings: [],
        blocked: false,
        pending: new Set(),
        client: undefined as unknown as UpstreamClient,
      };
      const clientOptions: UpstreamOptions = {
        clientInfo: opts.clientInfo ?? { name: 'palisade-gateway', version: GATEWAY_VERSION },
        timeoutMs: u.timeoutMs,
        inheritEnv: opts.env,
        onListChanged: (kind) => this.scheduleRefresh(state, kind),
        onResourceUpdated: (uri) => {
          for (const fn of this.subscribers.get(`${u.name}\0${uri}`) ?? []) fn(uri);
          for (const fn of this.updateListeners) fn(uri);
        },
        onLog: (params) => this.routeLog(u.name, params as LogParams),
        onServerRequest: async (method, params, _signal, inputKey) => {
          const caller = this.callerOf(u.name);
          if (!caller?.request)
            throw new GatewayError(
              ERR_POLICY,
              `Palisade gateway cannot route ${method} from ${u.name}: it is not clearly caused by one client's call in progress.`,
            );
          this.audit({ kind: 'server-request', upstream: u.name, decision: 'routed', reason: method });
          const park = this.parked.get(caller) ?? { since: Date.now(), n: 0 };
          park.n++;
          this.parked.set(caller, park);
          try {
            return await caller.request(method, params, inputKey);
          } finally {
            if (--park.n === 0) this.parked.delete(caller);
          }
        },
        onClose: () => {
          state.up = false;
          this.audit({ kind: 'upstream', upstream: u.name, decision: 'disconnected', reason: state.client.lastError ?? 'the connection closed' });
        },
      };
      state.client = new UpstreamClient(u.name, target, clientOptions);
      if (u.isolation === 'per-user') this.perUser(state, target, clientOptions);
      this.upstreams.set(u.name, state);
    }
  }

  /**
   * The one client whose call to `upstream` is in flight. Upstream notifications and requests
   * carry no link to the call that caused them on a shared connection, so with several calls
   * in flight nothing is routed rather than risk sending one client's data to another.
   */
  private callerOf(upstream: string): CallContext | undefined {
    const set = this.inflight.get(upstream);
    if (!set) return undefined;
    // the only call in flight is the only possible cause, parked or not: requests the upstream
    // sends together may reach the gateway apart (a busy machine), after the client has already
    // been shown the first of them
    if (set.size === 1) return set.values().next().value;
    // a call parked on a request of its own that its client has not answered for a while (a
    // person deciding, or a 2026-07-28 client that abandoned its input_required round) cannot be
    // sending new requests: only concurrent ones, sent together with the first. It is not a
    // candidate, so one parked call does not stop the routing for every later call.
    const now = Date.now();
    const live = [...set].filter((c) => !c.awaitingClient?.() && now - (this.parked.get(c)?.since ?? now) <= PARKED_MS);
    return live.length === 1 ? live[0] : undefined;
  }

  /** issue 16: the per-principal instances of a per-user upstream (upstream-pool.ts), and its OAuth when configured. */
  private perUser(state: UpstreamState, target: UpstreamTarget, base: UpstreamOptions): void {
    const u = state.cfg;
    if (u.auth && this.cfg.tokenEncryptionKey) {
      this.vault ??= new TokenVault(this.opts.vaultBackend ?? new SqliteVaultBackend(this.store.db), this.cfg.tokenEncryptionKey);
      state.oauth = new UpstreamOAuth(u, this.vault, this.opts.resolver);
    }
    state.pool = new UpstreamPool(u.name, {
      max: u.maxInstances ?? 50,
      idleMs: this.cfg.limits.upstreamIdleMs ?? 0,
      initialBackoffMs: this.opts.restartBackoffMs,
      maxBackoffMs: this.opts.maxRestartBackoffMs,
      warn: this.opts.warn,
      audit: (decision, principal, reason) => this.audit({ kind: 'upstream-instance', upstream: u.name, principal: principal.id, decision, reason }),
      onConnected: (_principal, client) => this.instanceTools(state, client),
      create: (principal, onClose) => {
        const key = instanceKey(u.name, principal.id);
        const oauth = state.oauth;
        const t: UpstreamTarget =
          target.transport === 'stdio'
            ? { ...target, env: { ...target.env, PALISADE_PRINCIPAL_ID: principal.id, PALISADE_PRINCIPAL_NAME: principal.name } }
            : oauth
              ? {
                  ...target,
                  // the user's own token on every request (after any trace context headers)
                  dynamicHeaders: async () => ({ ...(await target.dynamicHeaders?.()), authorization: `Bearer ${await oauth.accessToken(principal.id)}` }),
                }
              : target;
        const client: UpstreamClient = new UpstreamClient(u.name, t, {
          ...base,
          onListChanged: (kind) => {
            if (kind === 'tools')
              void this.instanceTools(state, client).catch((err: unknown) => this.opts.warn?.(`re-reading ${u.name} failed: ${String(err)}`));
            else this.scheduleRefresh(state, kind);
          },
          // resource subscriptions go to the catalog connection; an instance's updates stay with it
          onResourceUpdated: undefined,
          onLog: (params) => this.routeLog(u.name, params as LogParams, { key, principal: principal.id }),
          onServerRequest: async (method, params, _signal, inputKey) => {
            const caller = this.callerOf(key);
            if (!caller?.request)
              throw new GatewayError(
                ERR_POLICY,
                `Palisade gateway cannot route ${method} from ${u.name}: it is not clearly caused by one call of this user in progress.`,
              );
            this.audit({ kind: 'server-request', upstream: u.name, principal: principal.id, decision: 'routed', reason: method });
            const park = this.parked.get(caller) ?? { since: Date.now(), n: 0 };
            park.n++;
            this.parked.set(caller, park);
            try {
              return await caller.request(method, params, inputKey);
            } finally {
              if (--park.n === 0) this.parked.delete(caller);
            }
          },
          onClose,
        });
        return client;
      },
    });
  }

  /**
   * A per-user instance's tools read through the policy into the one catalog of its upstream:
   * a definition that differs from its pin is quarantined like any other change.
   */
  private async instanceTools(s: UpstreamState, client: UpstreamClient): Promise<void> {
    const listed = await client.listTools();
    // a connection still in its handshake reads as offering nothing: never let that empty the catalog
    if (!client.serverInfo()) throw new Error(`the instance of ${s.cfg.name} has not finished its handshake`);
    // what this instance itself offers: its calls are checked against it (the catalog holds the latest listing of any instance)
    this.instanceHashes.set(client, new Map(listed.filter((d) => typeof d?.name === 'string').map((d) => [d.name, toolDefinitionHash(d)])));
    const signature = () =>
      [...this.tools.values()]
        .filter((t) => t.upstream === s.cfg.name)
        .map((t) => `${t.federated}:${t.hash}:${t.status}`)
        .sort()
        .join('|');
    const before = signature();
    const next = (s.refreshing ?? Promise.resolve()).catch(() => undefined).then(() => this.refreshTools(s, listed));
    s.refreshing = next;
    await next;
    if (signature() !== before) {
      this.recomputeNames();
      this.emit('tools');
    }
  }

  /** The caller's own instance of a per-user upstream (undefined for a shared one); release it when done. */
  private async instanceFor(s: UpstreamState, principal: Principal): Promise<{ client: UpstreamClient; release: () => void } | undefined> {
    if (!s.pool) return undefined;
    const name = s.cfg.name;
    const needsAuth = (e: AuthorizationRequired) =>
      new GatewayError(ERR_AUTHORIZATION_REQUIRED, e.message, {
        reason: 'authorization-required',
        upstream: name,
        ...(e.authorizeUrl ? { authorizeUrl: e.authorizeUrl } : {}),
      });
    if (s.oauth && !(await s.oauth.hasToken(principal.id)))
      throw needsAuth(new AuthorizationRequired(name, s.oauth.authorizeEndpoint(), 'no token for you yet'));
    try {
      return await s.pool.acquire(principal);
    } catch (err) {
      if (err instanceof PoolFullError) throw new GatewayError(ERR_RATE, err.message, { reason: 'max-instances', upstream: name, maxInstances: err.max });
      const auth = authorizationRequiredIn(err);
      if (auth) throw needsAuth(auth);
      throw new GatewayError(
        ERR_UPSTREAM,
        `The upstream ${name} could not be started for you: ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`,
        {
          reason: 'upstream-unavailable',
          upstream: name,
        },
      );
    }
  }

  /**
   * A principal just authorized an OAuth upstream: until some user's instance has listed its
   * tools the catalog is empty, so this one lists them now (failures are reported, not fatal).
   */
  async authorized(upstream: string, principal: { id: string; name: string }): Promise<void> {
    const s = this.upstreams.get(upstream);
    if (!s?.pool || s.up) return;
    try {
      const lease = await this.instanceFor(s, { id: principal.id, kind: 'token', name: principal.name, virtualServers: null });
      lease?.release();
    } catch (err) {
      this.opts.warn?.(`reading the tools of ${upstream} after an authorization failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** May this principal use this upstream through any endpoint (its virtual servers)? */
  mayUseUpstream(principal: Principal, upstream: string): boolean {
    return this.upstreams.has(upstream) && this.upstreamVisibleTo({ principal }, upstream);
  }

  /** The per-user OAuth of an upstream (for the /oauth/upstreams/<name>/... routes). */
  upstreamOAuth(name: string): UpstreamOAuth | undefined {
    return this.upstreams.get(name)?.oauth;
  }

  /** The gateway's external base URL once it listens: how-to-authorize errors name its authorize endpoint. */
  setBaseUrl(base: string): void {
    for (const s of this.upstreams.values()) if (s.oauth) s.oauth.baseUrl = base;
  }

  /** Process ids of a per-user upstream's running instances, by principal id. */
  instancePids(upstream: string): Map<string, number | undefined> {
    return this.upstreams.get(upstream)?.pool?.pids() ?? new Map();
  }

  onChange(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(kind: ListKind): void {
    for (const fn of this.listeners) {
      try {
        fn(kind);
      } catch {
        // a listener's failure (a closed session) does not stop the others
      }
    }
  }

  /** Connect every upstream and read what it offers. Upstreams that fail are reported, not fatal. */
  async start(): Promise<void> {
    // OpenTelemetry (telemetry.ts): its modules are imported only when an endpoint is configured
    const otel = telemetrySettings(this.cfg, this.opts.env ?? process.env);
    if (otel && !this.tracing) this.tracing = await Tracing.start(otel);
    await Promise.all(
      [...this.upstreams.values()].map(async (s) => {
        s.level = this.upstreamRisk(s);
        // per-user OAuth: nothing to connect with before a user authorizes; the first user's instance lists the tools
        if (s.oauth) return;
        try {
          await s.client.connect();
          s.up = true;
          s.error = undefined;
          await this.refresh(s, new Set<ListKind>(['tools', 'prompts', 'resources']), false);
        } catch (err) {
          s.up = false;
          s.error = err instanceof Error ? err.message : String(err);
          this.opts.warn?.(`upstream ${s.cfg.name} is unavailable: ${s.error}`);
          this.audit({ kind: 'upstream', upstream: s.cfg.name, decision: 'unavailable', reason: s.error });
          this.retryLater(s, 1000);
        }
      }),
    );
    this.recomputeNames();
    if (this.cfg.policy.relistIntervalMs > 0) {
      this.relistTimer = setInterval(() => {
        for (const s of this.upstreams.values()) if (s.up) this.scheduleRefresh(s, 'tools');
      }, this.cfg.policy.relistIntervalMs);
      this.relistTimer.unref();
    }
  }

  /** An upstream that failed to start is tried again with backoff (up to a minute apart). */
  private retryLater(s: UpstreamState, delayMs: number): void {
    if (this.closed || (s.cfg.transport !== 'stdio' && /Refused .* resolves to/.test(s.error ?? ''))) return; // the SSRF guard will not change its mind
    const t = setTimeout(async () => {
      if (this.closed) return;
      try {
        await s.client.connect();
        s.up = true;
        s.error = undefined;
        await this.refresh(s, new Set<ListKind>(['tools', 'prompts', 'resources']), true);
        this.audit({ kind: 'upstream', upstream: s.cfg.name, decision: 'connected' });
      } catch (err) {
        s.error = err instanceof Error ? err.message : String(err);
        this.retryLater(s, Math.min(delayMs * 2, 60_000));
      }
    }, delayMs);
    t.unref();
    this.retryTimers.add(t);
  }

  private scheduleRefresh(s: UpstreamState, kind: ListKind): void {
    if (this.closed || s.oauth) return;
    s.pending.add(kind);
    if (s.timer) return;
    // coalesce a burst of notifications; well within the 1 s quarantine promise
    s.timer = setTimeout(() => {
      s.timer = undefined;
      const kinds = new Set(s.pending);
      s.pending.clear();
      void this.refresh(s, kinds, true).catch((err: unknown) => this.opts.warn?.(`re-reading ${s.cfg.name} failed: ${String(err)}`));
    }, 20);
  }

  private serverConfigFor(u: UpstreamConfig): ServerConfig {
    const args = redactArgs(u.args).args;
    return {
      id: sha256(`gateway\0${u.name}`).slice(0, 16),
      name: u.name,
      client: 'palisade-gateway',
      configPath: this.cfg.path,
      scope: 'user',
      transport: u.transport,
      command: u.command ?? null,
      args,
      cwd: u.cwd ?? null,
      url: u.url ? redactUrl(u.url).url : null,
      envNames: u.envNames,
      headerNames: u.headerNames,
      ...(u.command ? { package: parsePackageRef(u.command, u.args) } : {}),
    } as ServerConfig;
  }

  /** Score the upstream's configuration with core's config rules. */
  private upstreamRisk(s: UpstreamState): Level {
    const ev = evaluate([this.serverConfigFor(s.cfg)], { platform: process.platform as 'linux' }, configRules);
    const scored = ev.servers[0]!;
    s.findings = scored.findings;
    s.blocked =
      levelRank[scored.level] >= levelRank[this.cfg.policy.blockLevel] &&
      this.cfg.policy.blockLevel !== 'none' &&
      !matchesAny(s.cfg.name, this.cfg.policy.allowUpstreams);
    return scored.level;
  }

  private toolRisk(s: UpstreamState, core: CoreTool): { level: Level; findings: Finding[] } {
    const server = { ...this.serverConfigFor(s.cfg), tools: [core] };
    const ev = evaluate(
      [server],
      { platform: process.platform as 'linux' },
      toolRules.filter((r) => r.kind === 'server'),
    );
    return { level: ev.servers[0]!.level, findings: ev.servers[0]!.findings };
  }

  private isBlockedLevel(level: Level): boolean {
    return this.cfg.policy.blockLevel !== 'none' && levelRank[level] >= levelRank[this.cfg.policy.blockLevel];
  }

  /** Re-read lists from one upstream and apply the policy to what changed. */
  async refresh(s: UpstreamState, kinds: Set<ListKind>, notify: boolean): Promise<void> {
    const run = async () => {
      if (kinds.has('tools')) await this.refreshTools(s);
      if (kinds.has('prompts')) await this.refreshPrompts(s);
      if (kinds.has('resources')) await this.refreshResources(s);
    };
    // one refresh at a time per upstream; a later one waits for the earlier
    const prev = s.refreshing ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(run);
    s.refreshing = next;
    await next;
    if (notify) {
      this.recomputeNames();
      for (const k of kinds) this.emit(k);
    }
  }

  private hidden(found: HiddenFound[], upstream: string, item: string): void {
    if (found.length === 0) return;
    this.audit({
      kind: 'hidden-text',
      upstream,
      tool: item,
      decision: 'stripped',
      reason: `hidden characters or ANSI escapes removed from ${found.map((f) => f.where).join(', ')}`,
      detail: found,
    });
  }

  private strip<T>(value: T, where: string, found: HiddenFound[], keys?: ReadonlySet<string>): T {
    if (!this.cfg.policy.stripHiddenText) return value;
    return mapStrings(value, (str, p) => stripHidden(str, `${where}${p ? ` ${p}` : ''}`, found), '', keys) as T;
  }

  private async refreshTools(s: UpstreamState, given?: Tool[]): Promise<void> {
    const listed = given ?? (await s.client.listTools());
    const u = s.cfg;
    const seen = new Set<string>();
    const next = new Map<string, CatalogTool>();
    for (const def of listed) {
      if (typeof def?.name !== 'string' || seen.has(def.name)) continue;
      seen.add(def.name);
      const federated = federatedName(u.prefix, def.name, u.rename);
      const core = toTool(def as never);
      // core's hash of the whole definition (name, title, description, schemas, annotations)
      const hash = toolDefinitionHash(def);
      const risk = this.toolRisk(s, core);
      const definition = canonicalJson(def);
      let status: ToolStatus = 'ok';
      let reason: string | undefined;
      let pinnedSchema: unknown = def.inputSchema;
      let pinnedHash = hash;
      const pin = this.cfg.policy.pinning ? this.store.getPin(u.name, def.name) : undefined;
      const riskApproved = matchesAny(federated, this.cfg.policy.allowTools) || this.store.isRiskApproved(u.name, def.name, hash);
      if (s.blocked) {
        status = 'blocked';
        reason = `its upstream "${u.name}" is at risk level ${s.level}, at or above the gateway's blockLevel (${this.cfg.policy.blockLevel}): ${summarize(s.findings)}. Add "${u.name}" to policy.allowUpstreams to allow it anyway.`;
      } else if (pin && pin.hash !== hash) {
        status = 'quarantined';
        reason = `its definition changed since it was pinned on ${pin.pinnedAt} (${pin.hash.slice(0, 12)} -> ${hash.slice(0, 12)}); a changed tool can carry new instructions or new powers (a "rug pull")`;
        const rejected = this.store.getRejection(u.name, def.name, hash);
        if (rejected) reason = `${rejected.reason}; ${reason}`;
        pinnedSchema = (JSON.parse(pin.definition) as Tool).inputSchema;
        pinnedHash = pin.hash;
      } else if (this.isBlockedLevel(risk.level) && !riskApproved) {
        status = 'blocked';
        reason = `Palisade's rules rate it ${risk.level}, at or above the gateway's blockLevel (${this.cfg.policy.blockLevel}): ${summarize(risk.findings)}`;
      } else if (this.cfg.policy.pinning && !pin) {
        // trust on first approved sight: this definition is the one later ones must match
        this.store.putPin(u.name, def.name, hash, definition);
        this.audit({ kind: 'pin', upstream: u.name, tool: federated, decision: 'pinned', reason: `first definition ${hash.slice(0, 12)}` });
      }
      const found: HiddenFound[] = [];
      const visible = this.strip({ ...def, name: federated }, `tool ${federated}`, found, TEXT_KEYS);
      this.hidden(found, u.name, federated);
      const prev = s.up ? this.tools.get(federated) : undefined;
      const tool: CatalogTool = {
        federated,
        upstream: u.name,
        original: def.name,
        raw: def,
        visible,
        hash,
        status,
        reason,
        level: risk.level,
        findings: risk.findings,
        pinnedSchema,
        pinnedHash,
      };
      next.set(federated, tool);
      this.store.putTool({ federated, upstream: u.name, tool: def.name, hash, definition, status, reason: reason ?? null });
      if (status === 'quarantined' && prev?.status !== 'quarantined') this.quarantined(tool);
      if (status === 'blocked' && prev?.status !== 'blocked')
        this.audit({ kind: 'policy', upstream: u.name, tool: federated, decision: 'blocked', reason: reason ?? '' });
    }
    for (const [k, t] of this.tools) if (t.upstream === u.name) this.tools.delete(k);
    for (const [k, t] of next) {
      const other = this.tools.get(k);
      if (other && other.upstream !== u.name) continue; // collision: reported by recomputeNames
      this.tools.set(k, t);
    }
    (s as { toolNames?: Map<string, CatalogTool> }).toolNames = next;
    s.up = true;
  }

  private quarantined(t: CatalogTool): void {
    this.audit({
      kind: 'policy',
      upstream: t.upstream,
      tool: t.federated,
      decision: 'quarantined',
      reason: t.reason ?? '',
      detail: { pinned: t.pinnedHash, current: t.hash },
    });
    this.opts.warn?.(`quarantined ${t.federated}: ${t.reason}; release it with: palisade gateway approve --config ${this.cfg.path} ${t.federated}`);
    const hook = this.cfg.policy.alertWebhook;
    if (hook) {
      const body = JSON.stringify({
        event: 'tool.quarantined',
        tool: t.federated,
        upstream: t.upstream,
        pinnedHash: t.pinnedHash,
        currentHash: t.hash,
        at: new Date().toISOString(),
      });
      void fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) }).catch(() =>
        this.opts.warn?.('the quarantine alert webhook could not be reached'),
      );
    }
  }

  private async refreshPrompts(s: UpstreamState): Promise<void> {
    const listed = await s.client.listPrompts();
    for (const [k, p] of this.prompts) if (p.upstream === s.cfg.name) this.prompts.delete(k);
    const found: HiddenFound[] = [];
    for (const def of listed) {
      if (typeof def?.name !== 'string') continue;
      const federated = federatedName(s.cfg.prefix, def.name, s.cfg.rename);
      if (this.prompts.has(federated)) continue;
      this.prompts.set(federated, {
        federated,
        upstream: s.cfg.name,
        original: def.name,
        visible: this.strip({ ...def, name: federated }, `prompt ${federated}`, found, TEXT_KEYS),
      });
    }
    this.hidden(found, s.cfg.name, 'prompts');
  }

  private async refreshResources(s: UpstreamState): Promise<void> {
    const [resources, templates] = await Promise.all([s.client.listResources(), s.client.listResourceTemplates().catch(() => [] as ResourceTemplate[])]);
    for (const [k, r] of this.resources) if (r.upstream === s.cfg.name) this.resources.delete(k);
    this.templates = this.templates.filter((t) => t.upstream !== s.cfg.name);
    const found: HiddenFound[] = [];
    for (const def of resources) {
      if (typeof def?.uri !== 'string') continue;
      const other = this.resources.get(def.uri);
      if (other && other.upstream !== s.cfg.name) continue;
      this.resources.set(def.uri, {
        upstream: s.cfg.name,
        visible: this.strip({ ...def, name: federatedName(s.cfg.prefix, String(def.name ?? def.uri), s.cfg.rename) }, `resource ${def.uri}`, found, TEXT_KEYS),
      });
    }
    for (const def of templates) {
      if (typeof def?.uriTemplate !== 'string') continue;
      this.templates.push({
        upstream: s.cfg.name,
        visible: this.strip(
          { ...def, name: federatedName(s.cfg.prefix, String(def.name ?? def.uriTemplate), s.cfg.rename) },
          `resource template ${def.uriTemplate}`,
          found,
          TEXT_KEYS,
        ),
        matcher: templateMatcher(def.uriTemplate),
      });
    }
    this.hidden(found, s.cfg.name, 'resources');
  }

  /** Rebuild collision reports: two upstreams giving the same federated name. */
  private recomputeNames(): void {
    const owners = new Map<string, string[]>();
    for (const s of this.upstreams.values()) {
      const names = (s as { toolNames?: Map<string, CatalogTool> }).toolNames;
      for (const name of names?.keys() ?? []) owners.set(name, [...(owners.get(name) ?? []), s.cfg.name]);
    }
    this.collisions = [...owners]
      .filter(([, o]) => o.length > 1)
      .map(
        ([name, o]) =>
          `the tool name ${name} comes from ${o.join(' and ')}; only ${this.tools.get(name)?.upstream ?? o[0]} is exposed. Give one upstream a different "prefix" or a "rename".`,
      );
  }

  // ---- scope -------------------------------------------------------------------------

  private virtualServersFor(scope: Scope): VirtualServerConfig[] | undefined {
    const all = this.cfg.virtualServers;
    if (scope.virtualServer) {
      const vs = all.get(scope.virtualServer);
      return vs ? [vs] : [];
    }
    if (all.size === 0) return undefined; // no virtual servers: every upstream
    const allowed = scope.principal.virtualServers;
    return [...all.values()].filter((vs) => allowed === null || allowed.includes(vs.name));
  }

  /** May this principal use this virtual server at all? */
  mayUseVirtualServer(principal: Principal, name: string): boolean {
    return this.cfg.virtualServers.has(name) && (principal.virtualServers === null || principal.virtualServers.includes(name));
  }

  private visible(scope: Scope, upstream: string, name: string, pick: (vs: VirtualServerConfig) => AllowDeny): boolean {
    const state = this.upstreams.get(upstream);
    if (!state) return false;
    const list = this.virtualServersFor(scope);
    if (list === undefined) return true;
    return list.some((vs) => vs.upstreams.includes(upstream) && allowedBy(pick(vs), name));
  }

  // ---- MCP operations ----------------------------------------------------------------

  /**
   * Per-user OAuth upstreams whose tools this process has not seen yet (no instance has
   * connected here) but this principal has a token for: a user who signed in through another
   * gateway process sharing the vault (Redis). Connects the principal's instance, which reads
   * the upstream's tools; true when any became known.
   */
  private async learnSignedInUpstreams(principal: Principal): Promise<boolean> {
    let learnt = false;
    for (const s of this.upstreams.values()) {
      if (!s.oauth || !s.pool || s.up || !this.upstreamVisibleTo({ principal }, s.cfg.name)) continue;
      // one try per upstream and principal at a time, and at most one every 30 s (an upstream
      // that is down is not asked again on every list); a caller arriving meanwhile waits for it
      const key = instanceKey(s.cfg.name, principal.id);
      const now = Date.now();
      let attempt = this.learning.get(key);
      if (!attempt || now - attempt.at >= LEARN_RETRY_MS) {
        const oauth = s.oauth;
        const p = (async () => {
          if (await oauth.hasToken(principal.id).catch(() => false)) await this.authorized(s.cfg.name, principal);
          else this.learning.delete(key); // no token yet: the next list or call asks again
        })();
        attempt = { at: now, p };
        if (this.learning.size > 10_000) this.learning.clear();
        this.learning.set(key, attempt);
      }
      await attempt.p;
      learnt ||= s.up;
    }
    return learnt;
  }

  listTools(scope: Scope): Tool[] {
    // tools of upstreams this principal signed in to through another process: learnt in the
    // background (the list_changed notification follows), so this listing is not held up
    if (this.vaultShared) void this.learnSignedInUpstreams(scope.principal).catch(() => undefined);
    const out: Tool[] = [];
    for (const t of this.tools.values()) {
      if (t.status !== 'ok') this.reloadStatus(t);
      if (t.status === 'ok' && this.visible(scope, t.upstream, t.federated, (vs) => vs.tools)) out.push(t.visible);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** `palisade gateway approve` runs in another process: pick up its decision from the store. */
  private reloadStatus(t: CatalogTool): void {
    const row = this.store.getTool(t.federated);
    if (row && row.status === 'ok' && row.hash === t.hash) {
      t.status = 'ok';
      t.reason = undefined;
      t.pinnedSchema = t.raw.inputSchema;
      t.pinnedHash = t.hash;
      this.audit({ kind: 'policy', upstream: t.upstream, tool: t.federated, decision: 'released', reason: 'approved with palisade gateway approve' });
    }
  }

  checkRate(principal: Principal): void {
    const limit = this.cfg.limits.callsPerMinute;
    const now = Date.now();
    const list = (this.rate.get(principal.id) ?? []).filter((t) => t > now - 60_000);
    if (list.length >= limit) {
      this.rate.set(principal.id, list);
      throw new GatewayError(
        ERR_RATE,
        `Rate limit: ${limit} calls per minute for ${principal.name}; retry in ${Math.ceil((list[0]! + 60_000 - now) / 1000)} s.`,
        { retryAfterSeconds: Math.ceil((list[0]! + 60_000 - now) / 1000) },
      );
    }
    list.push(now);
    this.rate.set(principal.id, list);
  }

  async callTool(scope: Scope, name: string, args: Record<string, unknown> | undefined, ctx: CallContext = {}): Promise<CallToolResult> {
    const started = performance.now();
    // the canonical text is the arguments' JSON with sorted keys: the same bytes, so its length is their size
    const canonical = canonicalJson(args ?? {});
    const argHash = sha256(canonical);
    let t = this.tools.get(name);
    // a tool of an upstream the caller signed in to through another gateway process
    if (!t && this.vaultShared && (await this.learnSignedInUpstreams(scope.principal))) t = this.tools.get(name);
    const base = {
      kind: 'call',
      principal: scope.principal.id,
      virtualServer: scope.virtualServer ?? null,
      tool: name,
      argHash,
      upstream: t?.upstream ?? null,
    };
    const deny = (code: number, message: string, decision: string, data?: Record<string, unknown>): never => {
      this.audit({
        ...base,
        decision,
        reason: message,
        latencyMs: performance.now() - started,
        detail: this.cfg.audit.logPayloads ? { arguments: args } : undefined,
      });
      throw new GatewayError(code, message, data);
    };
    if (!t || !this.visible(scope, t.upstream, t.federated, (vs) => vs.tools))
      return deny(ERR_INVALID_PARAMS, `Unknown tool: ${name}. List the tools again (tools/list) to see what this endpoint offers.`, 'unknown');
    try {
      // issue 16: the limiter (shared through Redis) replaces the per-process callsPerMinute
      if (this.opts.limiter) await this.opts.limiter.rate(scope, name);
      else this.checkRate(scope.principal);
    } catch (err) {
      const e = err as GatewayError;
      return deny(e.code, e.message, 'rate-limited', e.data);
    }
    if (t.status !== 'ok') this.reloadStatus(t);
    if (t.status === 'quarantined') {
      return deny(
        ERR_POLICY,
        `Palisade gateway quarantined the tool ${name}: ${t.reason}. It is hidden and refused until an administrator reviews the change and runs: palisade gateway approve --config ${this.cfg.path} ${name}`,
        'quarantined',
        {
          reason: 'quarantined',
          tool: name,
          pinnedHash: t.pinnedHash,
          currentHash: t.hash,
          remedy: `palisade gateway approve --config ${this.cfg.path} ${name}`,
        },
      );
    }
    if (t.status === 'blocked') {
      return deny(
        ERR_POLICY,
        `Palisade gateway blocked the tool ${name}: ${t.reason}. If you trust it, an administrator can allow it with: palisade gateway approve --config ${this.cfg.path} ${name}`,
        'blocked',
        { reason: 'risk', level: t.level, tool: name, remedy: `palisade gateway approve --config ${this.cfg.path} ${name}` },
      );
    }
    const shape = checkArgumentShape(args ?? {}, this.cfg.limits, Buffer.byteLength(canonical, 'utf8'));
    if (shape) return deny(ERR_INVALID_PARAMS, `Palisade gateway refused the call to ${name}: ${shape}`, 'invalid-input');
    const validate = validatorFor(t.pinnedHash, t.pinnedSchema);
    if (validate instanceof Error) return deny(ERR_POLICY, `Palisade gateway refused the call to ${name}: ${validate.message}.`, 'invalid-schema');
    if (!validate(args ?? {}))
      return deny(
        ERR_INVALID_PARAMS,
        `Invalid arguments for ${name}: ${describeAjvErrors(validate)}. Check them against the tool's inputSchema.`,
        'invalid-arguments',
      );
    const state = this.upstreams.get(t.upstream)!;
    let result: CallToolResult;
    // issue 16: a call slot of the principal and of the upstream (bounded queue, queue timeout)
    let release: (() => void) | undefined;
    try {
      release = await this.opts.limiter?.slot(scope, t.upstream, ctx.signal ?? ctx.cancel);
    } catch (err) {
      const e = err as GatewayError;
      return deny(e.code, e.message, 'concurrency-limited', e.data);
    }
    // issue 16: a per-user upstream's call goes to the caller's own instance
    let lease: { client: UpstreamClient; release: () => void } | undefined;
    try {
      lease = await this.instanceFor(state, scope.principal);
    } catch (err) {
      release?.();
      const e = err as GatewayError;
      return deny(e.code, e.message, e.data?.reason === 'authorization-required' ? 'authorization-required' : 'instance-refused', e.data);
    }
    // the caller's instance may just have listed a changed definition (quarantined as it started)
    const current = lease ? this.tools.get(name) : undefined;
    if (current && current.status !== 'ok') {
      release?.();
      lease!.release();
      return deny(ERR_POLICY, `Palisade gateway ${current.status} the tool ${name}: ${current.reason}.`, current.status, {
        reason: current.status,
        tool: name,
      });
    }
    // ...or have listed one earlier that differs from what the catalog allows now (another user's listing since)
    const own = lease ? this.instanceHashes.get(lease.client)?.get(t.original) : undefined;
    const allowedHash = current ? ((this.cfg.policy.pinning ? this.store.getPin(t.upstream, t.original)?.hash : undefined) ?? current.hash) : undefined;
    if (own !== undefined && allowedHash !== undefined && own !== allowedHash) {
      release?.();
      lease!.release();
      return deny(
        ERR_POLICY,
        `Palisade gateway quarantined the tool ${name} for you: your instance of ${t.upstream} lists a definition (${own.slice(0, 12)}) different from the approved one (${allowedHash.slice(0, 12)}).`,
        'quarantined',
        { reason: 'quarantined', tool: name, pinnedHash: allowedHash, currentHash: own },
      );
    }
    const flightKey = lease ? instanceKey(t.upstream, scope.principal.id) : t.upstream;
    const inflight = this.inflight.get(flightKey) ?? new Set<CallContext>();
    this.inflight.set(flightKey, inflight);
    inflight.add(ctx);
    try {
      result = await this.traced(t.upstream, 'tools/call', () =>
        (lease?.client ?? state.client).callTool(t.original, args, {
          signal: ctx.signal,
          cancel: ctx.cancel,
          timeoutMs: Math.min(this.cfg.limits.callTimeoutMs, state.cfg.timeoutMs * 10),
          onprogress: ctx.onprogress,
        }),
      );
    } catch (err) {
      const needs = authorizationRequiredIn(err);
      if (needs) {
        // the user's refresh was refused (invalid_grant): its tokens are gone, it authorizes again
        this.audit({ ...base, decision: 'authorization-required', reason: needs.message, latencyMs: performance.now() - started });
        throw new GatewayError(ERR_AUTHORIZATION_REQUIRED, needs.message, {
          reason: 'authorization-required',
          upstream: t.upstream,
          ...(needs.authorizeUrl ? { authorizeUrl: needs.authorizeUrl } : {}),
        });
      }
      const message = err instanceof Error ? err.message : String(err);
      const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : ERR_UPSTREAM;
      this.audit({ ...base, decision: 'upstream-error', reason: message.slice(0, 500), latencyMs: performance.now() - started });
      throw new GatewayError(code, `The upstream ${t.upstream} failed the call to ${name}: ${message.slice(0, 500)}`);
    } finally {
      inflight.delete(ctx);
      release?.();
      lease?.release();
    }
    const found: HiddenFound[] = [];
    let out = this.strip(result, `result of ${name}`, found, RESULT_TEXT_KEYS);
    let redactions = 0;
    if (this.cfg.policy.redactSecretsInResults) {
      out = mapStrings(
        out,
        (s) => {
          const r = redactSecrets(s);
          redactions += r.count;
          return r.text;
        },
        '',
        RESULT_TEXT_KEYS,
      ) as CallToolResult;
    }
    const json = JSON.stringify(out);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > this.cfg.limits.maxResultBytes) {
      this.audit({ ...base, decision: 'result-too-large', reason: `${bytes} bytes`, latencyMs: performance.now() - started, resultBytes: bytes });
      throw new GatewayError(
        ERR_POLICY,
        `The result of ${name} is ${bytes} bytes, over the gateway's limit of ${this.cfg.limits.maxResultBytes} (limits.maxResultBytes); it was not passed on.`,
      );
    }
    this.hidden(found, t.upstream, name);
    this.audit({
      ...base,
      decision: 'allowed',
      reason: redactions ? `${redactions} secret(s) redacted from the result` : null,
      latencyMs: performance.now() - started,
      resultBytes: bytes,
      detail: this.cfg.audit.logPayloads ? { arguments: args } : undefined,
    });
    if (out && typeof out === 'object') resultJson.set(out, json);
    return out;
  }

  listPrompts(scope: Scope): Prompt[] {
    return [...this.prompts.values()].filter((p) => this.visible(scope, p.upstream, p.federated, (vs) => vs.prompts)).map((p) => p.visible);
  }

  async getPrompt(
    scope: Scope,
    name: string,
    args: Record<string, string> | undefined,
    signal?: AbortSignal,
    ctx?: CallContext,
  ): Promise<Record<string, unknown>> {
    const p = this.prompts.get(name);
    if (!p || !this.visible(scope, p.upstream, p.federated, (vs) => vs.prompts)) throw new GatewayError(ERR_INVALID_PARAMS, `Unknown prompt: ${name}.`);
    const shape = checkArgumentShape(args ?? {}, this.cfg.limits);
    if (shape) throw new GatewayError(ERR_INVALID_PARAMS, `Palisade gateway refused the prompt ${name}: ${shape}`);
    // issue 16: a per-user upstream's prompt comes from the caller's own instance
    const lease = await this.instanceFor(this.upstreams.get(p.upstream)!, scope.principal);
    const flightKey = lease ? instanceKey(p.upstream, scope.principal.id) : p.upstream;
    // in flight like a call, so an upstream's elicitation/sampling while it builds the prompt reaches this caller
    const inflight = this.inflight.get(flightKey) ?? new Set<CallContext>();
    this.inflight.set(flightKey, inflight);
    if (ctx) inflight.add(ctx);
    let res: Record<string, unknown>;
    try {
      res = await this.traced(p.upstream, 'prompts/get', () =>
        (lease?.client ?? this.upstreams.get(p.upstream)!.client).getPrompt(p.original, args, { signal }),
      );
    } finally {
      if (ctx) inflight.delete(ctx);
      lease?.release();
    }
    const found: HiddenFound[] = [];
    const out = this.strip(res, `prompt ${name}`, found, RESULT_TEXT_KEYS);
    this.hidden(found, p.upstream, name);
    this.audit({
      kind: 'prompt',
      principal: scope.principal.id,
      virtualServer: scope.virtualServer ?? null,
      upstream: p.upstream,
      tool: name,
      argHash: sha256(canonicalJson(args ?? {})),
      decision: 'allowed',
    });
    return out;
  }

  listResources(scope: Scope): Resource[] {
    return [...this.resources.values()]
      .filter(
        (r) => this.visible(scope, r.upstream, r.visible.name, (vs) => vs.resources) || this.visible(scope, r.upstream, r.visible.uri, (vs) => vs.resources),
      )
      .map((r) => r.visible);
  }

  listResourceTemplates(scope: Scope): ResourceTemplate[] {
    return this.templates.filter((t) => this.visible(scope, t.upstream, t.visible.name, (vs) => vs.resources)).map((t) => t.visible);
  }

  async readResource(scope: Scope, uri: string, signal?: AbortSignal, ctx?: CallContext): Promise<Record<string, unknown>> {
    const upstream = this.resourceOwner(scope, uri);
    // issue 16: a per-user upstream's resource is read by the caller's own instance
    const lease = await this.instanceFor(this.upstreams.get(upstream)!, scope.principal);
    const flightKey = lease ? instanceKey(upstream, scope.principal.id) : upstream;
    // in flight like a call, so an upstream's elicitation/sampling while it reads reaches this caller
    const inflight = this.inflight.get(flightKey) ?? new Set<CallContext>();
    this.inflight.set(flightKey, inflight);
    if (ctx) inflight.add(ctx);
    let res: Record<string, unknown>;
    try {
      res = await this.traced(upstream, 'resources/read', () => (lease?.client ?? this.upstreams.get(upstream)!.client).readResource(uri, { signal }));
    } finally {
      if (ctx) inflight.delete(ctx);
      lease?.release();
    }
    const found: HiddenFound[] = [];
    const out = this.strip(res, `resource ${uri}`, found, RESULT_TEXT_KEYS);
    this.hidden(found, upstream, uri);
    this.audit({
      kind: 'resource',
      principal: scope.principal.id,
      virtualServer: scope.virtualServer ?? null,
      upstream,
      tool: uri.slice(0, 500),
      decision: 'allowed',
    });
    return out;
  }

  private resourceOwner(scope: Scope, uri: string): string {
    let upstream = this.resources.get(uri)?.upstream;
    let name = this.resources.get(uri)?.visible.name;
    if (!upstream) {
      const t = this.templates.find((x) => x.matcher.test(uri));
      upstream = t?.upstream;
      name = t?.visible.name;
    }
    if (!upstream || !name || !(this.visible(scope, upstream, name, (vs) => vs.resources) || this.visible(scope, upstream, uri, (vs) => vs.resources)))
      throw new GatewayError(ERR_INVALID_PARAMS, `Unknown resource: ${uri}.`, { uri });
    return upstream;
  }

  /** Subscribe a session to a resource's updates; returns the unsubscribe function. */
  async subscribe(scope: Scope, uri: string, notify: (uri: string) => void): Promise<() => Promise<void>> {
    const upstream = this.resourceOwner(scope, uri);
    const key = `${upstream}\0${uri}`;
    let set = this.subscribers.get(key);
    if (!set) {
      set = new Set();
      this.subscribers.set(key, set);
    }
    const first = set.size === 0;
    set.add(notify);
    if (first) await this.upstreams.get(upstream)!.client.subscribeResource(uri);
    return async () => {
      set.delete(notify);
      if (set.size === 0) {
        this.subscribers.delete(key);
        await this.upstreams
          .get(upstream)
          ?.client.unsubscribeResource(uri)
          .catch(() => undefined);
      }
    };
  }

  /** Every upstream resource update (for the 2026-07-28 subscription streams). */
  onResourceUpdated(fn: (uri: string) => void): () => void {
    this.updateListeners.add(fn);
    return () => this.updateListeners.delete(fn);
  }

  async complete(
    scope: Scope,
    params: { ref: { type: string; name?: string; uri?: string }; argument: unknown; context?: unknown },
  ): Promise<Record<string, unknown>> {
    const empty = { completion: { values: [], hasMore: false } };
    if (params.ref.type === 'ref/prompt' && params.ref.name) {
      const p = this.prompts.get(params.ref.name);
      if (!p || !this.visible(scope, p.upstream, p.federated, (vs) => vs.prompts)) return empty;
      const up = this.upstreams.get(p.upstream)!.client;
      if (!up.capabilities().completions) return empty;
      return up.complete({ ...params, ref: { type: 'ref/prompt', name: p.original } });
    }
    if (params.ref.type === 'ref/resource' && params.ref.uri) {
      const t = this.templates.find((x) => x.visible.uriTemplate === params.ref.uri);
      if (!t || !this.visible(scope, t.upstream, t.visible.name, (vs) => vs.resources)) return empty;
      const up = this.upstreams.get(t.upstream)!.client;
      if (!up.capabilities().completions) return empty;
      return up.complete(params as Record<string, unknown>);
    }
    return empty;
  }

  /**
   * A session's logging/setLevel. The session (`sink.key`) is registered with its level; each
   * upstream it may use is set to the most verbose level any such session asked for (one
   * connection per upstream is shared), and each session is then sent only what its own level
   * admits. Without `sink` (no session), every upstream is set to `level`.
   */
  async setLoggingLevel(level: string, sink?: { key: object; scope: Scope; send: (params: LogParams) => void }): Promise<void> {
    if (!LOG_LEVELS.includes(level as LogLevel))
      throw new GatewayError(ERR_INVALID_PARAMS, `Unknown logging level "${String(level).slice(0, 40)}": use one of ${LOG_LEVELS.join(', ')}.`);
    if (!sink) {
      await Promise.all([...this.upstreams.values()].filter((s) => s.up).map((s) => s.client.setLoggingLevel(level).catch(() => undefined)));
      return;
    }
    this.logSinks.set(sink.key, { scope: sink.scope, level: level as LogLevel, send: sink.send });
    await this.applyLogLevels();
  }

  /** A session ended: it no longer receives upstream logs. */
  removeLogSink(key: object): void {
    if (this.logSinks.delete(key)) void this.applyLogLevels().catch(() => undefined);
  }

  private upstreamVisibleTo(scope: Scope, upstream: string): boolean {
    const list = this.virtualServersFor(scope);
    return list === undefined || list.some((vs) => vs.upstreams.includes(upstream));
  }

  /** Set each upstream to the most verbose level of the sessions that may use it (when that changed). */
  private async applyLogLevels(): Promise<void> {
    await Promise.all(
      [...this.upstreams.values()].map(async (s) => {
        let most: LogLevel | undefined;
        for (const sink of this.logSinks.values())
          if (this.upstreamVisibleTo(sink.scope, s.cfg.name) && (most === undefined || severity(sink.level) < severity(most))) most = sink.level;
        // with no session left the upstream keeps its last level: MCP has no way to unset it, and
        // nothing is forwarded to sessions that did not ask
        if (most === undefined || s.logLevel === most) return;
        s.logLevel = most;
        await s.client.setLoggingLevel(most).catch(() => undefined);
      }),
    );
  }

  /**
   * An upstream's notifications/message. During exactly one call on that upstream it goes to
   * that call's client (the one that caused it); with no call in flight, to every session that
   * set a level admitting it and may use that upstream; with several calls in flight it cannot be
   * attributed and is dropped rather than risk one client's data reaching another. Hidden text
   * is stripped (and secrets redacted when configured) as in results.
   */
  private routeLog(upstream: string, params: LogParams, only?: { key: string; principal: string }): void {
    if (!params || typeof params !== 'object' || !LOG_LEVELS.includes(params.level)) return;
    const found: HiddenFound[] = [];
    let out = this.strip({ ...params }, `log from ${upstream}`, found);
    if (this.cfg.policy.redactSecretsInResults) out = mapStrings(out, (str) => redactSecrets(str).text, '') as LogParams;
    this.hidden(found, upstream, 'notifications/message');
    // a per-user instance's logs: its own calls, else only its own principal's sessions
    const set = this.inflight.get(only?.key ?? upstream);
    if (set && set.size > 1) return;
    if (set && set.size === 1) {
      set.values().next().value?.log?.(out);
      return;
    }
    for (const sink of this.logSinks.values()) {
      if (severity(out.level) < severity(sink.level) || !this.upstreamVisibleTo(sink.scope, upstream)) continue;
      if (only && sink.scope.principal.id !== only.principal) continue;
      try {
        sink.send(out);
      } catch {
        // a closed session
      }
    }
  }

  // ---- status and audit ---------------------------------------------------------------

  /** Every tool with its state, for `gateway check` and /healthz. */
  catalog(): { federated: string; upstream: string; status: ToolStatus; level: Level; reason?: string }[] {
    return [...this.tools.values()].map((t) => ({
      federated: t.federated,
      upstream: t.upstream,
      status: t.status,
      level: t.level,
      ...(t.reason ? { reason: t.reason } : {}),
    }));
  }

  audit(r: {
    kind: string;
    principal?: string | null;
    virtualServer?: string | null;
    upstream?: string | null;
    tool?: string | null;
    argHash?: string | null;
    decision: string;
    reason?: string | null;
    latencyMs?: number | null;
    resultBytes?: number | null;
    detail?: unknown;
  }): void {
    const rec = {
      at: isoNow(),
      kind: r.kind,
      principal: r.principal ?? null,
      virtualServer: r.virtualServer ?? null,
      upstream: r.upstream ?? null,
      tool: r.tool ?? null,
      argHash: r.argHash ?? null,
      decision: r.decision,
      reason: r.reason ?? null,
      latencyMs: r.latencyMs === undefined || r.latencyMs === null ? null : Math.round(r.latencyMs * 1000) / 1000,
      resultBytes: r.resultBytes ?? null,
      detail: r.detail,
    };
    this.metrics.count(`${rec.kind}:${rec.decision}`);
    if (rec.kind === 'call' || rec.kind === 'prompt' || rec.kind === 'resource') this.tracing?.decision(rec.decision, rec.upstream);
    this.opts.onAudit?.(rec);
    try {
      this.store.audit(rec);
      if (this.cfg.audit.file) appendFileSync(this.cfg.audit.file, JSON.stringify(rec) + '\n', { mode: 0o600 });
    } catch (err) {
      this.opts.warn?.(`could not write an audit record: ${String(err)}`);
    }
  }

  readonly metrics = new Metrics();

  /** per-user upstream OAuth tokens, encrypted (oauth/vault.ts) */
  private vault?: TokenVault;

  /** learnSignedInUpstreams' last try per upstream and principal */
  private readonly learning = new Map<string, { at: number; p: Promise<void> }>();

  /** the vault is shared with other gateway processes: a user may have signed in through one of them */
  private get vaultShared(): boolean {
    return this.vault !== undefined && this.opts.vaultBackend !== undefined;
  }
  /** per-user instances: the hash of each tool as that instance last listed it */
  private readonly instanceHashes = new WeakMap<UpstreamClient, Map<string, string>>();

  /** OpenTelemetry traces (telemetry.ts), when configured: set by start() */
  tracing?: Tracing;

  /** One upstream call, as a child span of the client call when tracing is on. */
  private traced<T>(upstream: string, method: string, fn: () => Promise<T>): Promise<T> {
    if (!this.tracing) return fn();
    return this.tracing.upstreamCall({ method, upstream, transport: this.upstreams.get(upstream)?.cfg.transport ?? 'unknown' }, fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.relistTimer) clearInterval(this.relistTimer);
    for (const s of this.upstreams.values()) if (s.timer) clearTimeout(s.timer);
    for (const t of this.retryTimers) clearTimeout(t);
    await Promise.all([...this.upstreams.values()].map((s) => s.client.close()));
    // issue 16: every per-user instance (their process trees end) and the OAuth connection pools
    await Promise.all([...this.upstreams.values()].map(async (s) => Promise.all([s.pool?.close(), s.oauth?.close()])));
    await this.tracing?.shutdown();
  }
}

/** Prometheus counters kept in memory. */
export class Metrics {
  private readonly counters = new Map<string, number>();
  count(key: string): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }
  render(extra: Record<string, number>): string {
    const lines = ['# HELP palisade_gateway_events_total Audited gateway events by kind and decision.', '# TYPE palisade_gateway_events_total counter'];
    for (const [k, v] of [...this.counters].sort()) {
      const [kind, decision] = k.split(':');
      lines.push(`palisade_gateway_events_total{kind="${kind}",decision="${decision}"} ${v}`);
    }
    for (const [k, v] of Object.entries(extra)) lines.push(`# TYPE ${k} gauge`, `${k} ${v}`);
    return lines.join('\n') + '\n';
  }
}

const LEARN_RETRY_MS = 30_000;

/** the inflight key of one principal's instance of a per-user upstream */
function instanceKey(upstream: string, principal: string): string {
  return `${upstream}\0${principal}`;
}

/** An AuthorizationRequired anywhere in an error's cause chain (the SDK wraps what fetch threw). */
function authorizationRequiredIn(err: unknown): AuthorizationRequired | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) if (e instanceof AuthorizationRequired) return e;
  return undefined;
}

const TEXT_KEYS = new Set(['description', 'title', 'name']);

/**
 * The JSON text of each result callTool returned (it is serialised there anyway, to measure it
 * against limits.maxResultBytes): the session lane writes this text instead of serialising the
 * same, unchanged result a second time.
 */
export const resultJson = new WeakMap<object, string>();
const RESULT_TEXT_KEYS = new Set(['text', 'description', 'title', 'message']);

function allowedBy(ad: AllowDeny, name: string): boolean {
  if (ad.allow && ad.allow.length > 0 && !matchesAny(name, ad.allow)) return false;
  return !matchesAny(name, ad.deny);
}

function summarize(findings: readonly Finding[]): string {
  const top = findings.filter((f) => f.severity !== 'info').slice(0, 3);
  return top.length ? top.map((f) => `${f.ruleId} ${f.title}`).join('; ') : 'no finding detail';
}

/** RFC 6570 template -> a regular expression matching URIs it can produce (level 1 variables). */
function templateMatcher(template: string): RegExp {
  const parts = template.split(/(\{[^}]*\})/);
  const body = parts
    .map((p) => (p.startsWith('{') ? (p.startsWith('{+') || p.startsWith('{/') ? '.+' : '[^/]+') : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

let isoMs = -1;
let isoText = '';
/** The current time as an ISO string, formatted once per millisecond (every audit record carries one). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}
