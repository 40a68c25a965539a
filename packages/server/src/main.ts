// `palisade serve`: build the app, listen, print the one-time setup link on an empty
// database, shut down gracefully on SIGINT/SIGTERM.
import { buildApp } from './app.js';
import { storageFor } from './db/storage.js';
import { ConfigError, resolveConfig, type ServeFlags, type ServerConfig } from './config.js';

/** Deadline for draining requests and webhook deliveries on SIGINT/SIGTERM. */
export const SHUTDOWN_DRAIN_S = 10;

export interface RunningServer {
  url: string;
  setupUrl: string | null;
  close(): Promise<void>;
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The first-start banner: plain text (no colour, no box-drawing characters), set apart by blank
 * lines and rules so the one link a newcomer needs stands out from the log lines.
 */
export function setupBanner(url: string, setupUrl: string): string {
  const rule = '='.repeat(Math.min(Math.max(setupUrl.length + 8, 60), 120));
  return [
    '',
    rule,
    '  Palisade is running. First start: create your organisation and owner',
    '  account by opening this link in your browser:',
    '',
    `      ${setupUrl}`,
    '',
    '  The link works once, within 1 hour (restart palisade serve for a new one).',
    `  Afterwards, sign in at ${url}`,
    rule,
    '',
    '',
  ].join('\n');
}

/**
 * Builds the app and listens. Status lines go to `out` (stderr, beside the JSON log); the
 * first-start banner with the setup link goes to `banner` (stdout), where a person reads it.
 */
export async function startServer(config: ServerConfig, out: NodeJS.WritableStream = process.stderr, banner: NodeJS.WritableStream = process.stdout): Promise<RunningServer> {
  const { app, platform } = await buildApp(config);
  for (const w of platform.warnings) out.write(`palisade: ${w}\n`);
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${displayHost(config.host)}:${port}`;
  out.write(`palisade: serving on ${url} (${storageFor(platform.store).describe(config.dataDir)})\n`);
  let setupUrl: string | null = null;
  if (platform.setup.token) {
    setupUrl = `${url}/setup?token=${platform.setup.token}`;
    out.write('palisade: first start: the one-time setup link is printed on standard output\n');
    banner.write(setupBanner(url, setupUrl));
  }
  return { url, setupUrl, close: () => app.close() };
}

/** The CLI entry: resolves flags and environment, runs until a signal. Returns an exit code. */
export async function runServe(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: ServerConfig;
  try {
    config = resolveConfig(flags, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`palisade: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') process.stderr.write(`palisade: port ${config.port} on ${config.host} is already in use; choose another with --port.\n`);
    else if (e.code === 'ECONNREFUSED') process.stderr.write('palisade: cannot reach the PostgreSQL server named by DATABASE_URL; check that it runs and the URL is right.\n');
    else process.stderr.write(`palisade: could not start the server: ${e.message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      process.stderr.write(`palisade: ${signal} received, finishing requests and webhook deliveries in flight (at most ${SHUTDOWN_DRAIN_S} s; undelivered webhooks stay queued in the database) and shutting down\n`);
      // the drains (HTTP requests, webhook deliveries) end by themselves within their 10 s deadlines; this is only for a hang
      const force = setTimeout(() => {
        process.stderr.write('palisade: shutdown did not finish in time; exiting anyway\n');
        resolve(1);
      }, (SHUTDOWN_DRAIN_S + 5) * 1000);
      force.unref();
      server.close().then(
        () => {
          clearTimeout(force);
          process.stderr.write('palisade: stopped\n');
          resolve(0);
        },
        () => resolve(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
