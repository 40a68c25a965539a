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

// What may still be open once a command is done without anything left to wait for: stdout and
// stderr themselves (a pipe or a terminal) and a write to them still on its way.
const STDIO_RESOURCES = new Set(['PipeWrap', 'TTYWrap', 'SimpleWriteWrap', 'WriteWrap']);

/**
 * A command whose work is done, with nothing else pending (no server listening, no child
 * process, no timer, no file operation), ends as soon as stdout and stderr are flushed.
 * Left to itself, Node would first tear down the heap page by page (~5 ms after a
 * 500-server scan). Anything else still open: the process ends on its own, as usual.
 */
function exitWhenIdle(code: number): void {
  const open = process.getActiveResourcesInfo();
  if (open.length > 4 || !open.every((r) => STDIO_RESOURCES.has(r))) return;
  let left = 2;
  const flushed = (): void => {
    left -= 1;
    if (left === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  exitWhenIdle(code);
}, fail);
