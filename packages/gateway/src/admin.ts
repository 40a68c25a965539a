// The gateway's admin API: off by default; when enabled it listens on a loopback address only,
// on its own port (never the MCP endpoint's), and every request needs the admin token. It lists
// the upstreams' status, the tools with their state, the pins, the quarantined tools and the
// risk approvals, and approves (releases) one tool as `palisade gateway approve` does. Every
// request is audited, refused ones included. Browsers are refused (a request with an Origin
// header, or a Host that is not this loopback listener: DNS rebinding), so a web page cannot
// drive it.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from './config.js';
import type { Gateway } from './gateway.js';
import type { ListKind } from '@palisade/mcp';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackAdminHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class AdminServer {
  private readonly server: http.Server;
  private readonly tokenHash: Buffer;
  private port = 0;
  private readonly host: string;

  constructor(
    private readonly gateway: Gateway,
    private readonly cfg: GatewayConfig['admin'],
    /** managed mode: the backend sync's health and the policy in force (shown in /admin/status) */
    private readonly extra: { backend?: () => unknown } = {},
  ) {
    this.host = cfg.host ?? '127.0.0.1';
    if (!isLoopbackAdminHost(this.host))
      throw new Error(`Refusing to start the admin API on ${this.host}: it listens on a loopback address only (127.0.0.1, ::1 or localhost).`);
    const hash = cfg.token !== undefined ? sha256(cfg.token) : cfg.tokenSha256 ? Buffer.from(cfg.tokenSha256, 'hex') : undefined;
    if (!hash || hash.length !== 32) throw new Error('The admin API needs admin.token (an ${ENV} reference) or admin.tokenSha256.');
    this.tokenHash = hash;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) this.json(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
  }

  async listen(): Promise<{ url: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.cfg.port ?? 8091, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return { url: `http://${h}:${this.port}/admin`, port: this.port };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private audit(decision: string, req: http.IncomingMessage, reason: string, tool?: string): void {
    this.gateway.audit({ kind: 'admin', principal: 'admin', decision, tool: tool ?? null, reason: `${req.method ?? '?'} ${(req.url ?? '').slice(0, 200)}: ${reason}` });
  }

  private hostAllowed(req: http.IncomingMessage): boolean {
    const host = (req.headers.host ?? '').toLowerCase();
    return ['127.0.0.1', 'localhost', '[::1]', ...(!this.host.includes(':') ? [this.host] : [])].some(
      (h) => host === `${h}:${this.port}`,
    );
  }

  private authorized(req: http.IncomingMessage): boolean {
    const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    return timingSafeEqual(sha256(m[1]!), this.tokenHash);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // the body is never needed: drain (bounded) so the connection stays sane
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
    });
    if (req.headers.origin !== undefined || !this.hostAllowed(req)) {
      this.audit('forbidden', req, 'Origin header present or Host not this loopback listener');
      return this.json(res, 403, { error: 'forbidden: the admin API takes no browser requests and answers only on its loopback address' });
    }
    if (!this.authorized(req)) {
      this.audit('unauthorized', req, 'missing or wrong admin token');
      return this.json(res, 401, { error: 'unauthorized: send Authorization: Bearer <admin token>' }, { 'www-authenticate': 'Bearer realm="palisade-admin"' });
    }
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const p = url.pathname.replace(/\/+$/, '');
    const get = (fn: () => unknown): void => {
      if (req.method !== 'GET') return this.json(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      this.audit('allowed', req, 'read');
      this.json(res, 200, fn());
    };
    if (p === '/admin/status') return get(() => this.status());
    if (p === '/admin/tools') return get(() => ({ tools: this.gateway.catalog() }));
    if (p === '/admin/pins') return get(() => ({ pins: this.pins() }));
    if (p === '/admin/quarantine') return get(() => ({ quarantined: this.quarantined() }));
    if (p === '/admin/approvals') return get(() => ({ approvals: this.approvals() }));
    const approve = /^\/admin\/tools\/([^/]{1,200})\/(approve|release)$/.exec(p);
    if (approve) {
      if (req.method !== 'POST') return this.json(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
      let name: string;
      try {
        name = decodeURIComponent(approve[1]!);
      } catch {
        return this.json(res, 400, { error: 'bad tool name encoding' });
      }
      return this.approve(req, res, name);
    }
    this.audit('not-found', req, 'no such admin endpoint');
    this.json(res, 404, { error: 'not found', endpoints: ['GET /admin/status', 'GET /admin/tools', 'GET /admin/pins', 'GET /admin/quarantine', 'GET /admin/approvals', 'POST /admin/tools/<name>/approve'] });
  }

  private status(): unknown {
    const tools = this.gateway.catalog();
    return {
      upstreams: [...this.gateway.upstreams.values()].map((s) => ({
        name: s.cfg.name,
        transport: s.cfg.transport,
        up: s.up,
        level: s.level,
        blocked: s.blocked,
        ...(s.error ? { error: s.error.slice(0, 500) } : {}),
      })),
      tools: {
        total: tools.length,
        ok: tools.filter((t) => t.status === 'ok').length,
        quarantined: tools.filter((t) => t.status === 'quarantined').length,
        blocked: tools.filter((t) => t.status === 'blocked').length,
      },
      collisions: this.gateway.collisions,
      ...(this.extra.backend ? { backend: this.extra.backend() } : {}),
    };
  }

  private pins(): unknown[] {
    return this.gateway.store.db.prepare('SELECT upstream, tool, hash, pinned_at AS pinnedAt FROM pins ORDER BY upstream, tool').all();
  }

  private approvals(): unknown[] {
    return this.gateway.store.db.prepare('SELECT upstream, tool, hash, approved_at AS approvedAt FROM risk_approvals ORDER BY upstream, tool').all();
  }

  private quarantined(): unknown[] {
    return this.gateway.store
      .listTools()
      .filter((t) => t.status === 'quarantined')
      .map((t) => ({
        federated: t.federated,
        upstream: t.upstream,
        tool: t.tool,
        currentHash: t.hash,
        pinnedHash: this.gateway.store.getPin(t.upstream, t.tool)?.hash ?? null,
        reason: t.reason,
        since: t.updatedAt,
      }));
  }

  private async approve(req: http.IncomingMessage, res: http.ServerResponse, name: string): Promise<void> {
    const done = this.gateway.store.approve(name);
    if (!done) {
      this.audit('not-found', req, 'no such tool', name.slice(0, 200));
      return this.json(res, 404, { error: `the gateway has not seen a tool named ${name.slice(0, 200)}` });
    }
    this.audit('approved', req, done, name);
    // re-read that upstream's tools now so the release is visible at once (and list_changed sent)
    const row = this.gateway.store.getTool(name);
    const s = row ? this.gateway.upstreams.get(row.upstream) : undefined;
    if (s?.up) await this.gateway.refresh(s, new Set<ListKind>(['tools']), true).catch(() => undefined);
    const now = this.gateway.catalog().find((t) => t.federated === name);
    this.json(res, 200, { tool: name, done, status: now?.status ?? row?.status ?? 'ok' });
  }
}
