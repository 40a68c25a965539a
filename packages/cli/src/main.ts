// Process entry of the CLI: bin/palisade.js runs the built copy of this file; tests and
// developers can run the sources with `node --conditions=source --import tsx src/main.ts`.
// Whatever goes wrong, the user sees one line and exit code 2, never a stack trace.
import { main } from './cli.js';

function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`palisade: unexpected error: ${message.split('\n')[0]}\n`);
  process.exitCode = 2;
}

// `palisade scan | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  fail(err);
});

process.on('uncaughtException', (err) => {
  fail(err);
  process.exit(2);
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, fail);
