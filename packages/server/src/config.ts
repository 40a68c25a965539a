// The server's configuration, from command-line flags and the environment, checked once at
// start. Problems a user can meet are ConfigError sentences saying what to do.
import path from 'node:path';
import { jwtSecretProblem, loadOrCreateJwtSecret } from './auth/jwt-secret.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** postgres://... ; SQLite in dataDir when absent */
  databaseUrl?: string;
  /** PostgreSQL only: the owner role that runs migrations (DATABASE_MIGRATION_URL); databaseUrl is then the runtime role */
  databaseMigrationUrl?: string;
  production: boolean;
  jwtSecret: string;
  signupOpen: boolean;
  /** preset one-time setup token (PALISADE_SETUP_TOKEN) */
  setupToken?: string;
  /** folder of the built dashboard; null: do not serve it */
  webDir?: string | null;
  /** JSON body limit in bytes (default 1 MiB) */
  bodyLimit?: number;
  logLevel?: string;
  /** where logs go (tests capture them); standard output when absent */
  logStream?: NodeJS.WritableStream;
  /** trust X-Forwarded-For from a reverse proxy (PALISADE_TRUST_PROXY=1) */
  trustProxy?: boolean;
  /** redis:// URL: sign-in throttles and rate limits shared by every server process (REDIS_URL) */
  redisUrl?: string;
}

export interface ServeFlags {
  port?: string | number;
  host?: string;
  data?: string;
}

export function parsePort(v: string | number | undefined, fallback = 8080): number {
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--port must be a whole number from 0 to 65535 (got ${String(v)}).`);
  return n;
}

/** NODE_ENV values that mean "development" (compared trimmed and case-insensitively). */
export const DEVELOPMENT_VALUES = ['development', 'dev', 'local', 'test'] as const;

/**
 * Whether security settings run in production mode: NODE_ENV is read trimmed and
 * case-insensitively, and ANY value but an explicit development one (`development`, `dev`,
 * `local`, `test`) is production — `Production`, `prod`, `PRODUCTION `, `staging` included.
 * Unset or empty is the local quick start (development).
 */
export function isProduction(nodeEnv: string | undefined): boolean {
  const v = (nodeEnv ?? '').trim().toLowerCase();
  if (v === '') return false;
  return !(DEVELOPMENT_VALUES as readonly string[]).includes(v);
}

export function resolveConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const production = isProduction(env.NODE_ENV);
  const dataDir = path.resolve(flags.data ?? env.PALISADE_DATA_DIR ?? './.palisade-data');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://; unset it to use the embedded SQLite database.');
  }
  const databaseMigrationUrl = env.DATABASE_MIGRATION_URL || undefined;
  if (databaseMigrationUrl && !databaseUrl) throw new ConfigError('DATABASE_MIGRATION_URL (the owner role that runs migrations) needs DATABASE_URL too (the runtime role that serves requests).');
  if (databaseMigrationUrl && !/^postgres(ql)?:\/\//.test(databaseMigrationUrl)) throw new ConfigError('DATABASE_MIGRATION_URL must start with postgres:// or postgresql://.');
  let jwtSecret: string;
  if (env.JWT_SECRET !== undefined || production) {
    const problem = jwtSecretProblem(env.JWT_SECRET);
    if (problem) throw new ConfigError(production ? `Refusing to start in production: ${problem}` : problem);
    jwtSecret = env.JWT_SECRET!;
  } else {
    jwtSecret = loadOrCreateJwtSecret(dataDir);
  }
  const signup = env.PALISADE_SIGNUP ?? 'closed';
  if (!['open', 'closed', ''].includes(signup)) throw new ConfigError(`PALISADE_SIGNUP must be "open" or "closed" (got "${signup}").`);
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://; unset it to keep sign-in throttles in this process.');
  const setupToken = env.PALISADE_SETUP_TOKEN || undefined;
  if (setupToken !== undefined && setupToken.length < 16) throw new ConfigError('PALISADE_SETUP_TOKEN must be at least 16 characters; use a random value.');
  return {
    host: flags.host ?? env.PALISADE_HOST ?? '127.0.0.1',
    port: parsePort(flags.port ?? env.PORT),
    dataDir,
    databaseUrl,
    databaseMigrationUrl,
    production,
    jwtSecret,
    signupOpen: signup === 'open',
    setupToken,
    logLevel: env.PALISADE_LOG_LEVEL ?? 'info',
    trustProxy: env.PALISADE_TRUST_PROXY === '1',
    redisUrl,
  };
}
