// The gateway's HTTP face. Every request: Host and Origin against the allowlist (DNS
// rebinding), then the bearer token, then the route:
//   POST/GET/DELETE /mcp, /servers/<virtual>/mcp   Streamable HTTP: 2025-11-25 sessions and
//                                                   2026-07-28 stateless requests, per client
//   GET /sse + POST /messages                      the legacy HTTP+SSE transport (2024-11-05)
//   /.well-known/oauth-protected-resource          RFC 9728 metadata (when OAuth is configured)
//   /healthz, /metrics
// Sessions are bound to the principal that opened them: another principal gets 404.
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, isLegacyRequest, WebStandardStreamableHTTPServerTransport, type Server, type Transport } from '@modelcontextprotocol/server';
import { Authenticator } from './auth.js';
import { isLoopbackHost, type GatewayConfig } from './config.js';
import type { Gateway, Principal, Scope } from './gateway.js';
import { buildMcpServer } from './mcp-server.js';
import type { ListKind } from '@palisade/mcp';
import type { SharedSessions } from './scale/sessions.js';
import { label } from './scale/metrics.js';
import { handleUpstreamOAuth } from './oauth/routes.js';
import { LANE_KEEPALIVE_MS, SessionLane } from './session-lane.js';

interface Session {
  id: string;
  principal: string;
  /** the path it was opened on: a session id is only valid on that endpoint */
  path: string;
  server: Server;
  transport: Transport & { handleRequest?: WebStandardStreamableHTTPServerTransport['handleRequest'] };
  lastSeen: number;
  kind: 'streamable' | 'sse';
  /** the short way for a session's common POSTs (session-lane.ts); streamable sessions only */
  lane?: SessionLane;
}

const SESSION_IDLE_MS = 30 * 60_000;

export interface GatewayHttpOptions {
  host?: string;
  port?: number;
  /** 2025-11-25 sessions kept in Redis: any process can continue them */
  shared?: SharedSessions;
  /** a session unused this long is dropped from this process (default 30 min) */
  sessionIdleMs?: number;
  /** issue 16 figures appended to /metrics */
  scaleMetrics?: { render(gauges?: Record<string, number>): string };
}

export class GatewayHttpServer {
  readonly server: http.Server;
  private readonly sessions = new Map<string, Session>();
  private readonly auth: Authenticator;
  private readonly modern;
  private sweeper?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  host: string;
  port: number;
  private allowedHosts = new Set<string>();
  private readonly shared?: SharedSessions;
  private readonly sessionIdleMs: number;
  private readonly scaleMetrics?: GatewayHttpOptions['scaleMetrics'];
  /** sessions being re-created from Redis: concurrent requests wait for the same one */
  private readonly restoring = new Map<string, Promise<Session | undefined>>();

  constructor(
    private readonly gateway: Gateway,
    private readonly cfg: GatewayConfig,
    opts: GatewayHttpOptions = {},
  ) {
    this.host = opts.host ?? cfg.listen.host;
    this.port = opts.port ?? cfg.listen.port;
    this.shared = opts.shared;
    this.sessionIdleMs = opts.sessionIdleMs ?? SESSION_IDLE_MS;
    this.scaleMetrics = opts.scaleMetrics;
    if (!isLoopbackHost(this.host) && !cfg.auth) {
      throw new Error(
        `Refusing to listen on ${this.host} without authentication: anyone who can reach it could use every upstream. Add an "auth" section (tokens or oauth) to the config, or listen on 127.0.0.1.`,
      );
    }
    this.auth = new Authenticator(cfg, gateway.store, this.resourceUrl());
    this.modern = createMcpHandler(
      (ctx) => {
        const scope = (ctx.authInfo?.extra as { scope?: Scope } | undefined)?.scope;
        if (!scope) throw new Error('no scope on a modern request');
        return buildMcpServer(gateway, scope);
      },
      { legacy: 'reject', maxRequestBodySize: cfg.limits.maxMessageBytes },
    );
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.json(res, 500, { error: 'internal error' });
        else res.destroy();
        gateway.audit({ kind: 'http', decision: 'error', reason: String(err).slice(0, 300) });
      });
    });
    this.server.headersTimeout = 30_000;
    this.server.requestTimeout = 0; // SSE streams stay open
    const offChange = gateway.onChange((kind) => this.broadcast(kind));
    const offUpdate = gateway.onResourceUpdated((uri) => this.modern.notify.resourceUpdated(uri));
    this.unsubscribe = () => {
      offChange();
      offUpdate();
    };
  }

  private baseUrl(): string {
    if (this.cfg.listen.publicUrl) return this.cfg.listen.publicUrl.replace(/\/$/, '');
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h === '0.0.0.0' || h === '[::]' ? '127.0.0.1' : h}:${this.port}`;
  }

  resourceUrl(): string {
    return this.cfg.auth?.oauth?.audience ?? `${this.baseUrl()}/mcp`;
  }

  async listen(): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.computeAllowedHosts();
    this.gateway.setBaseUrl(this.baseUrl()); // per-user upstream OAuth: where to send users to authorize
    // the resource URL depends on the port when it was 0
    (this.auth as unknown as { resource: string }).resource = this.resourceUrl();
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.min(LANE_KEEPALIVE_MS, this.sessionIdleMs / 2)));
    this.sweeper.unref();
    // a session ended (DELETE) on another process is dropped here too
    await this.shared?.onDeleted((id) => {
      const s = this.sessions.get(id);
      if (!s) return;
      this.sessions.delete(id);
      void s.transport.close().catch(() => undefined);
    });
    return { host: this.host, port: this.port, url: `${this.baseUrl()}/mcp` };
  }

  private computeAllowedHosts(): void {
    const names = this.cfg.listen.allowedHosts ?? ['localhost', '127.0.0.1', '[::1]'];
    for (const n of names) {
      const lower = n.toLowerCase();
      this.allowedHosts.add(lower);
      if (!/:\d+$/.test(lower)) this.allowedHosts.add(`${lower}:${this.port}`);
    }
    if (this.cfg.listen.publicUrl) this.allowedHosts.add(new URL(this.cfg.listen.publicUrl).host.toLowerCase());
  }

  /** A page served from an allowed host of this gateway itself (http://localhost:8090) is not a rebinding attack. */
  private sameOrigin(origin: string): boolean {
    try {
      const u = new URL(origin);
      return (u.protocol === 'http:' || u.protocol === 'https:') && this.allowedHosts.has(u.host.toLowerCase());
    } catch {
      return false;
    }
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
    res.end(text);
  }

  private rpcError(res: http.ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
    this.json(res, status, { jsonrpc: '2.0', id: null, error: { code, message } }, headers);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.allowedHosts.has(host)) {
      this.gateway.audit({ kind: 'http', decision: 'refused-host', reason: `Host ${host.slice(0, 200)}` });
      return this.json(res, 403, { error: 'forbidden', message: `Host "${host.slice(0, 100)}" is not in listen.allowedHosts (DNS-rebinding protection).` });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.cfg.listen.allowedOrigins.includes(origin) && !this.sameOrigin(origin)) {
      this.gateway.audit({ kind: 'http', decision: 'refused-origin', reason: `Origin ${origin.slice(0, 200)}` });
      return this.json(res, 403, { error: 'forbidden', message: `Origin "${origin.slice(0, 100)}" is not in listen.allowedOrigins.` });
    }
    // the endpoint nearly every request is for needs no URL object (no query, nothing to normalise)
    const plainMcp = req.url === '/mcp';
    const url = plainMcp ? undefined : new URL(req.url ?? '/', 'http://gateway.invalid');
    const path = url ? url.pathname : '/mcp';
    if (path === '/healthz' && req.method === 'GET') {
      const ups = [...this.gateway.upstreams.values()];
      return this.json(res, 200, { status: 'ok', upstreams: ups.length, upstreamsUp: ups.filter((u) => u.up).length });
    }
    if (path.startsWith('/.well-known/oauth-protected-resource')) {
      if (!this.cfg.auth?.oauth) return this.json(res, 404, { error: 'not_found' });
      return this.json(res, 200, {
        resource: this.resourceUrl(),
        authorization_servers: [this.cfg.auth.oauth.issuer],
        bearer_methods_supported: ['header'],
        ...(this.cfg.auth.oauth.scopes ? { scopes_supported: this.cfg.auth.oauth.scopes } : {}),
        resource_name: 'Palisade gateway',
      });
    }
    // per-user upstream OAuth (oauth/routes.ts): authorize authenticates itself; the callback is checked by its state
    if (
      url &&
      path.startsWith('/oauth/upstreams/') &&
      (await handleUpstreamOAuth({ gateway: this.gateway, authenticate: (h) => this.auth.authenticate(h), baseUrl: () => this.baseUrl() }, req, res, url))
    )
      return;
    // everything below needs a principal
    const auth = await this.auth.authenticate(req.headers.authorization);
    if (!auth.ok) {
      this.gateway.audit({ kind: 'auth', decision: 'refused', reason: auth.description });
      const challenge = [`Bearer error="${auth.error}"`, `error_description="${auth.description.replace(/"/g, "'")}"`];
      if (this.cfg.auth?.oauth) challenge.push(`resource_metadata="${this.baseUrl()}/.well-known/oauth-protected-resource"`);
      return this.json(res, auth.status, { error: auth.error, error_description: auth.description }, { 'www-authenticate': challenge.join(', ') });
    }
    const principal = auth.principal;
    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      const ups = [...this.gateway.upstreams.values()];
      res.end(
        this.gateway.metrics.render({
          palisade_gateway_sessions: this.sessions.size,
          palisade_gateway_upstreams_up: ups.filter((u) => u.up).length,
          palisade_gateway_upstreams: ups.length,
        }) +
          perUserInstances(ups) +
          (this.scaleMetrics?.render() ?? ''),
      );
      return;
    }
    let scope: Scope | undefined;
    let mcpPath = false;
    if (path === '/mcp') {
      scope = { principal };
      mcpPath = true;
    } else {
      const m = /^\/servers\/([a-zA-Z0-9_-]{1,64})\/(mcp|sse|messages)$/.exec(path);
      if (m) {
        if (!this.gateway.mayUseVirtualServer(principal, m[1]!))
          return this.json(res, 404, { error: 'not_found', message: `No virtual server "${m[1]}" for this principal.` });
        scope = { principal, virtualServer: m[1]! };
        mcpPath = m[2] === 'mcp';
        if (m[2] === 'sse') return this.openSse(req, res, scope, path);
        if (m[2] === 'messages') return this.postSse(req, res, url!, principal);
      }
    }
    if (path === '/sse') return this.openSse(req, res, { principal }, path);
    if (path === '/messages') return this.postSse(req, res, url!, principal);
    if (!mcpPath || !scope) return this.json(res, 404, { error: 'not_found' });
    // a W3C traceparent header is the parent of the spans of the calls this request carries
    if (this.gateway.tracing) return this.gateway.tracing.incoming(req.headers, () => this.serveMcp(req, res, scope, path));
    return this.serveMcp(req, res, scope, path);
  }

  private readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer | undefined> {
    const limit = this.cfg.limits.maxMessageBytes;
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      this.rpcError(res, 413, -32600, `The message is over the gateway's limit of ${limit} bytes.`);
      req.resume();
      return Promise.resolve(undefined);
    }
    // plain 'data'/'end' listeners: an async iterator per request cost more than the read itself
    return new Promise((resolve, reject) => {
      let first: Buffer | undefined;
      let more: Buffer[] | undefined;
      let size = 0;
      let over = false;
      const onData = (chunk: Buffer) => {
        if (over) return;
        size += chunk.length;
        if (size > limit) {
          over = true;
          this.rpcError(res, 413, -32600, `The message is over the gateway's limit of ${limit} bytes.`);
          req.destroy();
          resolve(undefined);
          return;
        }
        if (!first) first = chunk;
        else (more ??= [first]).push(chunk);
      };
      req.on('data', onData);
      req.once('end', () => {
        if (!over) resolve(more ? Buffer.concat(more) : (first ?? Buffer.alloc(0)));
      });
      req.once('error', (err) => {
        if (!over) reject(err);
      });
      // a request aborted before its end: nothing more arrives
      req.once('close', () => {
        if (!over && !req.complete) reject(new Error('the request was aborted before its end'));
      });
    });
  }

  private toWebRequest(req: http.IncomingMessage, body: Buffer | undefined, signal: AbortSignal): Request {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || k === 'authorization') continue; // the client's credential stays here
      if (Array.isArray(v)) for (const x of v) headers.append(k, x);
      else headers.set(k, v);
    }
    const url = `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;
    return new Request(url, {
      method: req.method,
      headers,
      body: body && body.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' ? new Uint8Array(body) : undefined,
      signal,
    });
  }

  private async sendWebResponse(res: http.ServerResponse, response: Response, signal: AbortController): Promise<void> {
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      headers[k] = v;
    });
    headers['cache-control'] ??= 'no-store';
    res.writeHead(response.status, headers);
    if (!response.body) {
      res.end();
      return;
    }
    // the body is read chunk by chunk straight into the response (no Node stream in between):
    // a one-event SSE answer and its end leave in one write
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let closed = false;
    let drained: (() => void) | undefined;
    res.on('close', () => {
      closed = true;
      signal.abort();
      drained?.();
      reader.cancel().catch(() => undefined);
    });
    res.on('drain', () => drained?.());
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || closed) break;
          if (!res.write(value)) {
            await new Promise<void>((resolve) => (drained = resolve));
            drained = undefined;
          }
        }
        if (!closed) res.end();
      } catch {
        res.destroy();
      }
    })();
  }

  private async serveMcp(req: http.IncomingMessage, res: http.ServerResponse, scope: Scope, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (!['POST', 'GET', 'DELETE'].includes(method)) return this.json(res, 405, { error: 'method not allowed' }, { allow: 'GET, POST, DELETE' });
    const body = method === 'POST' ? await this.readBody(req, res) : undefined;
    if (method === 'POST' && !body) return;
    let parsed: unknown;
    if (body) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return this.rpcError(res, 400, -32700, 'Parse error: the body is not JSON.');
      }
      // the JSON-RPC envelope (message, params, arguments) adds three levels to the arguments
      const depth = jsonDepth(parsed, this.cfg.limits.maxDepth + 3);
      if (depth > this.cfg.limits.maxDepth + 3)
        return this.rpcError(res, 400, -32600, `The message nests deeper than the gateway allows (${this.cfg.limits.maxDepth}).`);
    }
    let abortController: AbortController | undefined;
    const abort = () => (abortController ??= new AbortController());
    // the SDK reads a parsed body from parsedBody and never from the request (its documented
    // fast path), so a POST's bytes are not copied into a web stream a second time; the web
    // request is only built for the SDK's transports (a session's common POST goes without one)
    let web: Request | undefined;
    const webRequest = () => (web ??= this.toWebRequest(req, parsed === undefined ? body : undefined, abort().signal));
    const sessionId = req.headers['mcp-session-id'];
    const legacy = sessionId !== undefined || (await isLegacyRequest(webRequest(), parsed, { maxRequestBodySize: this.cfg.limits.maxMessageBytes }));
    if (!legacy) {
      const response = await this.modern.fetch(webRequest(), {
        parsedBody: parsed,
        authInfo: { token: '', clientId: scope.principal.id, scopes: [], extra: { scope } },
      });
      return this.sendWebResponse(res, response, abort());
    }
    if (typeof sessionId === 'string') {
      let s = this.sessions.get(sessionId);
      if (!s && this.shared) {
        try {
          s = await this.restore(sessionId, scope, path, webRequest());
        } catch (err) {
          this.gateway.audit({ kind: 'session', principal: scope.principal.id, decision: 'restore-failed', reason: String(err).slice(0, 300) });
          return this.rpcError(res, 503, -32000, 'The shared session store is unavailable; retry shortly.');
        }
      }
      // a session of another principal, or of another endpoint, does not exist for this caller
      if (!s || s.principal !== scope.principal.id || s.path !== path || s.kind !== 'streamable')
        return this.rpcError(res, 404, -32001, 'Session not found; start a new session with initialize.');
      s.lastSeen = Date.now();
      if (this.shared) {
        this.shared.touch(sessionId);
        await this.recordSubscriptions(sessionId, parsed);
      }
      if (method === 'POST' && s.lane?.serve(req, res, parsed)) return;
      const response = await s.transport.handleRequest!(webRequest(), { parsedBody: parsed });
      return this.sendWebResponse(res, response, abort());
    }
    if (method !== 'POST' || !isInitialize(parsed))
      return this.rpcError(
        res,
        400,
        -32000,
        'Bad request: no Mcp-Session-Id header; send initialize first (or use the 2026-07-28 per-request _meta envelope).',
      );
    const init = (Array.isArray(parsed) ? parsed : [parsed]).find(isInitialize) as { params?: Record<string, unknown> } | undefined;
    // 256 bits from the CSPRNG: unguessable
    const { transport } = await this.openSession(scope, path, randomBytes(32).toString('base64url'), init?.params ?? {});
    const response = await transport.handleRequest(webRequest(), { parsedBody: parsed });
    return this.sendWebResponse(res, response, abort());
  }

  /** A session's server and transport; `initParams` are saved to Redis when shared. */
  private async openSession(
    scope: Scope,
    path: string,
    id: string,
    initParams: Record<string, unknown> | undefined,
  ): Promise<{ server: Server; transport: WebStandardStreamableHTTPServerTransport }> {
    const server = buildMcpServer(this.gateway, scope);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: async (sid) => {
        this.sessions.set(sid, { id: sid, principal: scope.principal.id, path, server, transport, lastSeen: Date.now(), kind: 'streamable', lane });
        // saved before the client learns the id: any process can continue it from the next request on
        if (this.shared && initParams)
          await this.shared.save(sid, { principal: scope.principal.id, path, init: initParams, createdAt: new Date().toISOString() });
      },
      onsessionclosed: async (sid) => {
        this.sessions.delete(sid);
        await this.shared?.delete(sid).catch(() => undefined);
      },
      maxRequestBodySize: this.cfg.limits.maxMessageBytes,
    });
    const lane = new SessionLane(transport, id);
    transport.onclose = () => {
      lane.close();
      if (transport.sessionId && this.sessions.get(transport.sessionId)?.transport === transport) {
        this.sessions.delete(transport.sessionId);
        this.shared?.forget(transport.sessionId);
      }
    };
    await server.connect(transport);
    lane.attach(server);
    return { server, transport };
  }

  /**
   * Re-create a session another process opened: the stored initialize is replayed through the
   * SDK's transport (with the stored id), then notifications/initialized and the session's
   * resource subscriptions. The replies go nowhere; the client never sees them.
   */
  private restore(id: string, scope: Scope, path: string, like: Request): Promise<Session | undefined> {
    let p = this.restoring.get(id);
    if (!p) {
      p = (async () => {
        const rec = await this.shared!.get(id);
        if (!rec || rec.principal !== scope.principal.id || rec.path !== path) return undefined;
        const { transport } = await this.openSession(scope, path, id, undefined);
        const url = like.url;
        const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: like.headers.get('host') ?? 'localhost' };
        const send = async (message: Record<string, unknown>, withSession: boolean) => {
          const h: Record<string, string> = { ...headers };
          if (withSession) h['mcp-session-id'] = id;
          const protocol = (rec.init as { protocolVersion?: unknown }).protocolVersion;
          if (withSession && typeof protocol === 'string') h['mcp-protocol-version'] = protocol;
          const r = await transport.handleRequest(new Request(url, { method: 'POST', headers: h, body: JSON.stringify(message) }), { parsedBody: message });
          const text = await r.text();
          return { status: r.status, text };
        };
        const init = await send({ jsonrpc: '2.0', id: '_palisade_restore', method: 'initialize', params: rec.init }, false);
        if (init.status !== 200) throw new Error(`replaying initialize answered ${init.status}`);
        await send({ jsonrpc: '2.0', method: 'notifications/initialized' }, true);
        for (const uri of await this.shared!.subscriptions(id))
          await send({ jsonrpc: '2.0', id: `_palisade_restore_sub`, method: 'resources/subscribe', params: { uri } }, true);
        this.gateway.audit({
          kind: 'session',
          principal: scope.principal.id,
          decision: 'restored',
          reason: 'continued a session opened on another gateway process',
        });
        return this.sessions.get(id);
      })().finally(() => this.restoring.delete(id));
      this.restoring.set(id, p);
    }
    return p;
  }

  /** resources/subscribe and unsubscribe are part of the shared session. */
  private async recordSubscriptions(id: string, parsed: unknown): Promise<void> {
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
      const msg = m as { method?: unknown; params?: { uri?: unknown } } | null;
      const uri = msg?.params?.uri;
      if (!msg || typeof uri !== 'string' || uri.length > 8192) continue;
      if (msg.method === 'resources/subscribe') await this.shared!.subscribe(id, uri).catch(() => undefined);
      else if (msg.method === 'resources/unsubscribe') await this.shared!.unsubscribe(id, uri).catch(() => undefined);
    }
  }

  // ---- legacy HTTP+SSE (2024-11-05) ---------------------------------------------------

  private async openSse(req: http.IncomingMessage, res: http.ServerResponse, scope: Scope, path: string): Promise<void> {
    if (req.method !== 'GET') return this.json(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
    const id = randomUUID() + randomBytes(8).toString('hex');
    const transport = new LegacySseTransport(res, id);
    const server = buildMcpServer(this.gateway, scope);
    const messagesPath = path.replace(/sse$/, 'messages');
    this.sessions.set(id, { id, principal: scope.principal.id, path: messagesPath, server, transport, lastSeen: Date.now(), kind: 'sse' });
    res.on('close', () => {
      this.sessions.delete(id);
      void server.close().catch(() => undefined);
    });
    await server.connect(transport);
    transport.endpoint(`${messagesPath}?sessionId=${encodeURIComponent(id)}`);
  }

  private async postSse(req: http.IncomingMessage, res: http.ServerResponse, url: URL, principal: Principal): Promise<void> {
    if (req.method !== 'POST') return this.json(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
    const id = url.searchParams.get('sessionId') ?? '';
    const s = this.sessions.get(id);
    if (!s || s.kind !== 'sse' || s.principal !== principal.id || s.path !== url.pathname) return this.json(res, 404, { error: 'Session not found' });
    const body = await this.readBody(req, res);
    if (!body) return;
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      return this.json(res, 400, { error: 'the body is not JSON' });
    }
    if (jsonDepth(message, this.cfg.limits.maxDepth + 3) > this.cfg.limits.maxDepth + 3) return this.json(res, 400, { error: 'the message nests too deeply' });
    s.lastSeen = Date.now();
    res.writeHead(202).end('Accepted');
    (s.transport as LegacySseTransport).receive(message);
  }

  private broadcast(kind: ListKind): void {
    for (const s of this.sessions.values()) {
      const send =
        kind === 'tools' ? s.server.sendToolListChanged() : kind === 'prompts' ? s.server.sendPromptListChanged() : s.server.sendResourceListChanged();
      void Promise.resolve(send).catch(() => undefined);
    }
    if (kind === 'tools') this.modern.notify.toolsChanged();
    else if (kind === 'prompts') this.modern.notify.promptsChanged();
    else this.modern.notify.resourcesChanged();
  }

  private sweep(): void {
    const now = Date.now();
    const cutoff = now - this.sessionIdleMs;
    for (const s of this.sessions.values()) {
      s.lane?.keepAlive(now);
      if (s.lastSeen < cutoff && s.kind === 'streamable') {
        this.sessions.delete(s.id);
        void s.transport.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
    this.sessions.clear();
    await this.modern.close().catch(() => undefined);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The 2024-11-05 HTTP+SSE transport, server side: an event stream out, POSTs in. */
class LegacySseTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  readonly sessionId: string;
  private open = true;

  constructor(
    private readonly res: http.ServerResponse,
    id: string,
  ) {
    this.sessionId = id;
    res.on('close', () => {
      this.open = false;
      this.onclose?.();
    });
  }

  async start(): Promise<void> {
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    this.res.flushHeaders();
  }

  endpoint(path: string): void {
    this.res.write(`event: endpoint\ndata: ${path}\n\n`);
  }

  receive(message: unknown): void {
    this.onmessage?.(message as never);
  }

  async send(message: unknown): Promise<void> {
    if (!this.open) throw new Error('the SSE stream is closed');
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  async close(): Promise<void> {
    if (this.open) this.res.end();
    this.open = false;
  }
}

function isInitialize(body: unknown): boolean {
  const one = Array.isArray(body) ? body : [body];
  return one.some((m) => !!m && typeof m === 'object' && (m as { method?: unknown }).method === 'initialize');
}

/** Depth of a parsed JSON value, stopping once it passes `cap`. */
export function jsonDepth(value: unknown, cap: number): number {
  return depthOf(value, 1, cap);
}

// recursion is bounded by `cap` (it stops one level past it), so the stack stays small
function depthOf(v: unknown, d: number, cap: number): number {
  if (d > cap || !v || typeof v !== 'object') return d;
  let max = d;
  if (Array.isArray(v)) {
    for (const x of v)
      if (x && typeof x === 'object') {
        const n = depthOf(x, d + 1, cap);
        if (n > max) max = n;
        if (max > cap) return max;
      }
    return max;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x && typeof x === 'object') {
      const n = depthOf(x, d + 1, cap);
      if (n > max) max = n;
      if (max > cap) return max;
    }
  }
  return max;
}

/** The running instances of each per-user upstream (one per principal that called it): a gauge per upstream. */
function perUserInstances(ups: readonly { cfg: { name: string }; pool?: { size: number } }[]): string {
  const pooled = ups.filter((u) => u.pool);
  if (pooled.length === 0) return '';
  return (
    [
      '# HELP palisade_gateway_user_instances Running instances of per-user upstreams (isolation: per-user or per-user OAuth), one per principal.',
      '# TYPE palisade_gateway_user_instances gauge',
      ...pooled.map((u) => `palisade_gateway_user_instances{upstream="${label(u.cfg.name)}"} ${u.pool!.size}`),
    ].join('\n') + '\n'
  );
}
