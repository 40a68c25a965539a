// A real app on a real database for tests, and a small cookie-jar client over fastify's
// in-process inject (the same routing, hooks and plugins as a listening server).
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type Platform } from '../../src/app.js';
import type { ServerConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase, type TestDialect } from './databases.js';

// POST /agent/report answers once its report is processed (the route's wait; production
// answers 202 at once): tests that send a report then read the inventory keep working.
// Tests of the inbox itself send `Prefer: wait=0`.
process.env.PALISADE_INGEST_WAIT_MS ??= '30000';

// A fixed, strong-looking test-only signing key (never used outside tests).
export const TEST_JWT_SECRET = 'test-fixture-jwt-key-9fQ2xL7mB4vR8nT1kW6zY3hJ5cD0sAeGuPiOq';
export const SETUP_TOKEN = 'test-fixture-setup-token-0123456789';
/** Test fixture passwords: made up, used only against throwaway test databases. */
export const PASSWORD = 'fixture-Pass-9x7Q-not-real';

export interface TestApp {
  app: FastifyInstance;
  platform: Platform;
  db: TestDatabase;
  logs: string[];
  close(): Promise<void>;
}

export async function makeTestApp(dialect: TestDialect, overrides: Partial<ServerConfig> = {}, db?: TestDatabase): Promise<TestApp> {
  const database = db ?? (await createTestDatabase(dialect));
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const { app, platform } = await buildApp({
    host: '127.0.0.1',
    port: 0,
    dataDir: database.dataDir,
    databaseUrl: database.databaseUrl,
    databaseMigrationUrl: database.migrationUrl,
    production: false,
    jwtSecret: TEST_JWT_SECRET,
    signupOpen: false,
    setupToken: SETUP_TOKEN,
    webDir: null,
    logLevel: 'info',
    logStream,
    ...overrides,
  });
  return {
    app,
    platform,
    db: database,
    logs,
    async close() {
      await app.close();
      if (!db) await database.drop();
    },
  };
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** send X-CSRF-Token from the jar (default true) */
  csrf?: boolean | string;
  /** send cookies (default true) */
  cookies?: boolean;
}

export class Client {
  readonly jar = new Map<string, string>();
  constructor(readonly app: FastifyInstance) {}

  async request(method: Method, url: string, opts: RequestOptions = {}): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.cookies !== false && this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (method !== 'GET' && opts.csrf !== false) {
      const token = typeof opts.csrf === 'string' ? opts.csrf : this.jar.get('palisade_csrf');
      if (token) headers['x-csrf-token'] = token;
    }
    const res = await this.app.inject({ method, url, headers, ...(opts.body !== undefined ? { payload: opts.body as object } : {}) });
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const cleared = c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() <= Date.now());
      if (cleared) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return res;
  }

  get(url: string, opts?: RequestOptions) {
    return this.request('GET', url, opts);
  }
  post(url: string, body?: unknown, opts?: RequestOptions) {
    return this.request('POST', url, { ...opts, body: body ?? {} });
  }
}

/** Runs first-start setup and returns the signed-in owner's client. */
export async function setupOwner(app: FastifyInstance, email = 'owner@a.test', orgName = 'Org A'): Promise<{ client: Client; userId: string; orgId: string }> {
  const client = new Client(app);
  const res = await client.post('/api/v1/setup', { setupToken: SETUP_TOKEN, orgName, email, password: PASSWORD });
  if (res.statusCode !== 201) throw new Error(`setup failed: ${res.statusCode} ${res.body}`);
  const body = res.json() as { user: { id: string }; org: { id: string } };
  return { client, userId: body.user.id, orgId: body.org.id };
}

/** Invites an email with a role through `inviter` and accepts it; returns the new user's client. */
export async function inviteUser(app: FastifyInstance, inviter: Client, email: string, role: string): Promise<{ client: Client; userId: string }> {
  const inv = await inviter.post('/api/v1/invitations', { email, role });
  if (inv.statusCode !== 201) throw new Error(`invite failed: ${inv.statusCode} ${inv.body}`);
  const client = new Client(app);
  const acc = await client.post('/api/v1/invitations/accept', { token: (inv.json() as { token: string }).token, password: PASSWORD });
  if (acc.statusCode !== 201) throw new Error(`accept failed: ${acc.statusCode} ${acc.body}`);
  return { client, userId: (acc.json() as { user: { id: string } }).user.id };
}

/** Creates an org with its owner through signup (the app must run with signupOpen). */
export async function signupOwner(app: FastifyInstance, email: string, orgName: string): Promise<{ client: Client; userId: string; orgId: string }> {
  const client = new Client(app);
  const res = await client.post('/api/v1/auth/signup', { orgName, email, password: PASSWORD });
  if (res.statusCode !== 202) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  // sign-up answers the same for known and new addresses; the new owner then signs in
  const login = await client.post('/api/v1/auth/login', { email, password: PASSWORD });
  if (login.statusCode !== 200) throw new Error(`sign-in after signup failed: ${login.statusCode} ${login.body}`);
  const body = login.json() as { user: { id: string }; org: { id: string } };
  return { client, userId: body.user.id, orgId: body.org.id };
}
