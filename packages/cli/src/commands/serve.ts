// `palisade serve`: the backend. The action loads @palisade/server lazily so `palisade scan`
// stays fast to start and does not need the server's native modules.
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';

/**
 * V8's old generation grows by 10% over what the last full collection kept instead of its own
 * factor (up to 2x and more under allocation): under a stream of changed reports serve's RSS
 * settled at 269-286 MB instead of 325-489 MB, with the same CPU per report
 * (bench/ingest/memory-changed.mjs; issue 12's goal is 250 MB). Set here because V8 refuses it
 * in NODE_OPTIONS; a --heap-growing-percent given to node itself wins.
 */
export const SERVE_HEAP_GROWING_PERCENT = 10;

function tuneHeap(): void {
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}`);
}

interface ServeOptions {
  port?: string;
  host?: string;
  data?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the Palisade backend and dashboard (SQLite in the data folder, or PostgreSQL with DATABASE_URL)')
    .option('--port <port>', 'port to listen on (default: $PORT or 8080)')
    .option('--host <host>', 'address to listen on (default: $PALISADE_HOST or 127.0.0.1)')
    .option('--data <dir>', 'data folder for the embedded database and generated secrets (default: $PALISADE_DATA_DIR or ./.palisade-data)')
    .addHelpText(
      'after',
      '\nOn the first start the one-time setup link is printed on standard output, in a banner; status lines and the\n' +
        'JSON request log go to standard error (redirect 2> to keep them apart).\n' +
        '\nEnvironment: DATABASE_URL (postgres://, a non-superuser role), JWT_SECRET (required with NODE_ENV=production),\n' +
        'PALISADE_SETUP_TOKEN (preset the first-start token), PALISADE_SIGNUP=open (self-service sign-up), PALISADE_TRUST_PROXY=1.',
    )
    .action(async (opts: ServeOptions) => {
      tuneHeap();
      const { runServe } = await import('@palisade/server');
      process.exitCode = await runServe({ port: opts.port, host: opts.host, data: opts.data });
    });
}
