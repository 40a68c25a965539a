// Builds the fastify app from a config object (no listen): database and migrations,
// defences (helmet/CSP, body limits, request ids, error shape, log redaction), access
// enforcement, metrics, OpenAPI, the API routes and the dashboard's static files.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import ajvFormats from 'ajv-formats';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import type { ServerConfig } from './config.js';
import { openDatabase, type OpenedDatabase } from './db/open.js';
import { storageFor } from './db/storage.js';
import { prepareDatabase } from './db/roles.js';
import { countUsers } from './auth/accounts.js';
import { makeAccessHook } from './auth/access.js';
import { randomToken } from './auth/crypto.js';
import { secretKey } from './auth/jwt.js';
import { LoginThrottle, MemoryThrottleStore, RedisThrottleStore } from './auth/login-throttle.js';
import { Redis } from 'ioredis';
import { pruneExpiredSessions } from './auth/sessions.js';
import { pruneAllOrganisations } from './services/retention.js';
import { ApiError } from './errors.js';
import { Metrics } from './metrics.js';
import { boundRouteSchemas, refuseNonFinite, refuseNul, strictDateTime } from './http/bounds.js';
import { RouteTable, swaggerOptions } from './openapi.js';
import { addErrorResponses } from './http/errors.js';
import { securityHeaders } from './http/security-headers.js';
import { apiRoutes } from './routes/index.js';
import { opsRoutes } from './routes/ops.js';
import { seedBundledAdvisories } from './services/advisories.js';
import { dispatcherFor } from './services/webhooks/dispatcher.js';
import { StorageQuota } from './services/quota.js';

import { SERVER_VERSION } from './version.js';

export { SERVER_VERSION };
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** How long the first-start setup link works after the server starts. */
export const SETUP_TOKEN_TTL_MS = 3600_000;
const INGEST_ROUTE = '/api/v1/agent/report';

export interface Platform {
  store: OpenedDatabase;
  config: ServerConfig;
  jwtKey: Uint8Array;
  metrics: Metrics;
  /** every registered route (for the route-walking tests) and the OpenAPI document */
  openapi: RouteTable;
  throttle: LoginThrottle;
  /** per-organisation storage quota, checked before each agent report */
  quota: StorageQuota;
  /** the one-time setup token while no user exists, else null; it expires an hour after start (a restart prints a new one) */
  setup: { token: string | null; expiresAt: number };
  /** start-up warnings (e.g. a PostgreSQL role that escapes row-level security) */
  warnings: string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    platform: Platform;
  }
}

// Never logged: credentials in headers, bodies or log objects.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
  'password',
  'token',
  'key',
  'setupToken',
  'refreshToken',
  '*.password',
  '*.token',
  '*.key',
  '*.setupToken',
  '*.refreshToken',
  '*.secret',
];

// A query parameter whose name holds one of these words is a credential: its value is never
// logged (access_token, refresh_token, token, setupToken, password, passwd, pwd, key, api_key,
// apikey, x-api-key, secret, client_secret, ... in any case). `%5B` etc. are decoded names too.
const SECRET_NAME = '(?:[A-Za-z0-9_.%-]*?(?:access_token|token|password|passwd|pwd|key|secret)[A-Za-z0-9_.%-]*)';
const SECRET_QUERY = new RegExp(`([?&]${SECRET_NAME}=)[^&#\\s"]*`, 'gi');
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
}

/**
 * Every log line, whatever logged it (request logs, errors whose message quotes a URL, a
 * plugin's own lines): credential query values redacted before the line is written.
 */
export function redactLogLine(line: string): string {
  return line.includes('=') ? line.replace(SECRET_QUERY, '$1[redacted]') : line;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function defaultWebDir(): string | null {
  const dir = fileURLToPath(new URL('../../web/dist/', import.meta.url));
  return fs.existsSync(path.join(dir, 'index.html')) ? dir : null;
}

/**
 * One log line per request, when it is answered: the request (id, method, URL with credential
 * values redacted, address), the status and the time, where fastify writes two ("incoming
 * request" and "request completed"), each through the log's redaction. Every other line
 * fastify writes (errors, routes not found, closing) stays as it is.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {
    // logged with the answer (requestCompleted)
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

export interface BuiltApp {
  app: FastifyInstance;
  platform: Platform;
}

export async function buildApp(config: ServerConfig): Promise<BuiltApp> {
  const warnings: string[] = [];
  // PostgreSQL: migrate as the owner role, serve as the runtime role (db/roles.ts)
  let runtimeUrl = config.databaseUrl;
  if (config.databaseUrl) {
    const prepared = await prepareDatabase({ databaseUrl: config.databaseUrl, databaseMigrationUrl: config.databaseMigrationUrl });
    runtimeUrl = prepared.runtimeUrl;
    warnings.push(...prepared.warnings);
  }
  const store = openDatabase({ databaseUrl: runtimeUrl, dataDir: config.dataDir });
  const storage = storageFor(store);
  let setupToken: string | null;
  try {
    // SQLite migrates its file here; PostgreSQL was migrated above by the owner role
    await storage.migrateOnOpen(store);
    // the curated advisories shipped with Palisade, stored (idempotent) and matched against the inventory
    await seedBundledAdvisories(store).catch((err: unknown) => warnings.push(`The bundled advisories were not loaded (${err instanceof Error ? err.message : String(err)}); known-vulnerable versions are matched only against imported ones.`));
    // a PostgreSQL role that escapes row-level security is named at start
    const roleWarning = await storage.roleWarning(store.db);
    if (roleWarning) warnings.push(roleWarning);
    setupToken = (await countUsers(store)) === 0 ? (config.setupToken ?? randomToken(24)) : null;
  } catch (err) {
    await store.close();
    throw err;
  }

  // REDIS_URL: sign-in throttles and route rate limits shared by every server process
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 5_000, enableAutoPipelining: true }) : null;
  redis?.on('error', () => undefined); // reconnects by itself; a command that fails answers 500 and says so in the log
  const platform: Platform = {
    store,
    config,
    jwtKey: secretKey(config.jwtSecret),
    metrics: new Metrics(),
    openapi: new RouteTable(),
    throttle: new LoginThrottle(redis ? new RedisThrottleStore(redis) : new MemoryThrottleStore()),
    quota: new StorageQuota(store),
    setup: { token: setupToken, expiresAt: Date.now() + SETUP_TOKEN_TTL_MS },
    warnings,
  };

  const app = Fastify({
    logger: {
      level: config.logLevel ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // only these fields of a request are ever logged (never headers or bodies)
        req(req: Partial<FastifyRequest>) {
          return { id: req.id, method: req.method, url: typeof req.url === 'string' ? redactUrl(req.url) : undefined, remoteAddress: req.ip };
        },
      },
      hooks: { streamWrite: redactLogLine },
      ...(config.logStream ? { stream: config.logStream } : {}),
    },
    logController: new OneLinePerRequest(),
    bodyLimit: config.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: config.trustProxy ?? false,
    // slow or idle clients cannot hold connections forever
    requestTimeout: 60_000,
    connectionTimeout: 120_000,
    keepAliveTimeout: 72_000,
    requestIdHeader: false,
    genReqId(req) {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
    // unknown fields are refused (400), not silently dropped; query strings are still coerced
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
      // date-times that JavaScript can hold (no leap second, a real calendar date)
      // (the formats plugin first, so fastify does not add it again after ours)
      plugins: [
        ajvFormats as never,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        ((ajv: any) => ajv.addFormat('date-time', strictDateTime)) as never,
      ],
    },
  });
  app.decorate('platform', platform);
  const prune = async () => {
    await pruneExpiredSessions(store).catch((err: unknown) => app.log.warn({ err }, 'could not prune expired sessions'));
    await pruneAllOrganisations(store, new Date(), (orgId, err) => app.log.warn({ err, orgId }, 'could not apply the retention period')).catch((err: unknown) => app.log.warn({ err }, 'could not apply the retention period'));
  };
  const pruneTimer = setInterval(prune, 3600_000);
  pruneTimer.unref();
  void prune();
  // graceful shutdown: requests in flight finish before the database closes (at most 10 s);
  // a request whose client went away still runs its handler, so only its response ends it
  const inFlight = new Set<string>();
  app.addHook('onRequest', async (request) => {
    inFlight.add(request.id);
  });
  app.addHook('onResponse', async (request) => {
    inFlight.delete(request.id);
  });
  app.addHook('onClose', async () => {
    clearInterval(pruneTimer);
    const requests = (async () => {
      for (const until = Date.now() + 10_000; inFlight.size > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    })();
    // webhook deliveries in flight get the same 10 s; what is left stays queued in the database
    await Promise.all([requests, dispatcherFor(store).stop()]);
    await store.close();
    if (redis) await redis.quit().catch(() => redis.disconnect());
  });

  // Every route is collected, and every /api/ route must say who may call it.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && !route.config?.access) {
      throw new Error(`Route ${String(route.method)} ${route.url} declares no access rule; add config: { access: access.user('...') } (or access.public / access.agent).`);
    }
    // every parameter and string bounded before the schema compiles (http/bounds.ts)
    boundRouteSchemas(route);
    // the error answers its access rule can give, documented and serialised like the others
    addErrorResponses(route);
    platform.openapi.add(route);
  });
  // the OpenAPI document, from the routes' schemas (openapi.ts); registered before any route
  await app.register(swagger, swaggerOptions(SERVER_VERSION));
  platform.openapi.attach(app);

  const security = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
    },
    hsts: config.production ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(cookie);
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'palisade:rate:' } : {}),
    errorResponseBuilder: (_req, ctx) => new ApiError(429, 'rate_limited', `Too many requests; wait ${Math.ceil(ctx.ttl / 1000)} seconds and try again.`),
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(security);
    reply.header('x-request-id', request.id);
    // API answers hold organisation data and tokens: never kept by browsers or proxies
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });
  app.addHook('onRequest', makeAccessHook(store, platform.jwtKey));
  app.addHook('preValidation', refuseNul);
  app.addHook('preHandler', refuseNonFinite);
  // an organisation at its storage quota gets a clear 507 before its report is read (after the access hook)
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST' || request.routeOptions.url !== INGEST_ROUTE || !request.agent) return;
    const problem = await platform.quota.problem({ orgId: request.agent.orgId });
    if (problem) throw new ApiError(507, 'storage_quota_exceeded', problem);
  });
  app.addHook('onResponse', async (request, reply) => {
    platform.metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (request.method === 'POST' && request.routeOptions.url === INGEST_ROUTE) platform.metrics.observeIngest(reply.statusCode);
  });

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).headers(err.headers).send({ error: { code: err.code, message: err.message } });
    }
    if ((err as FastifyError).validation) {
      return reply.code(400).send({ error: { code: 'bad_request', message: `The request is not valid: ${err.message}. Check the fields against docs/api.md.` } });
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status === 413) {
      return reply.code(413).send({ error: { code: 'payload_too_large', message: `The request body is too large (the limit here is ${request.routeOptions.bodyLimit ?? config.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes); send less data.` } });
    }
    if (status === 415) return reply.code(415).send({ error: { code: 'unsupported_media_type', message: 'Send the body as JSON with Content-Type: application/json.' } });
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: { code: 'bad_request', message: `The request could not be understood: ${err.message}` } });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: `Something went wrong on the server; try again, and if it keeps happening give your administrator the request id ${request.id}.` } });
  });

  const webDir = config.webDir === undefined ? defaultWebDir() : config.webDir;
  if (webDir) await app.register(fastifyStatic, { root: webDir, wildcard: false, index: ['index.html'] });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    if (url.startsWith('/api/') || (request.method !== 'GET' && request.method !== 'HEAD')) {
      return reply.code(404).send({ error: { code: 'not_found', message: `There is no ${request.method} ${redactUrl(url)} route; see /api/v1/openapi.json for the list.` } });
    }
    if (webDir) return reply.type('text/html').sendFile('index.html'); // SPA fallback
    return reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send('The Palisade dashboard is not built. Run `npm run build -w packages/web` and restart `palisade serve`. The API is at /api/v1 (see /api/v1/openapi.json).\n');
  });

  await app.register(opsRoutes);
  await app.register(apiRoutes, { prefix: '/api/v1' });
  await app.ready();
  return { app, platform };
}
