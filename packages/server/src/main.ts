// `palisade serve`: build the app, listen, print the one-time setup link on an empty
// database, shut down gracefully on SIGINT/SIGTERM.
import { buildApp } from './app.js';
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

export async function startServer(config: ServerConfig, out: NodeJS.WritableStream = process.stderr): Promise<RunningServer> {
  const { app, platform } = await buildApp(config);
  for (const w of platform.warnings) out.write(`palisade: ${w}\n`);
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${displayHost(config.host)}:${port}`;
  out.write(`palisade: serving on ${url} (${platform.store.dialect === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL'})\n`);
  let setupUrl: string | null = null;
  if (platform.setup.token) {
    setupUrl = `${url}/setup?token=${platform.setup.token}`;
    out.write(`palisade: first start: create the first organisation and owner at\n\n    ${setupUrl}\n\n(this link works once, for 1 hour; restart palisade serve for a new one)\n`);
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
