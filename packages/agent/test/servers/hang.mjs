#!/usr/bin/env node
// TEST FIXTURE: a stdio "MCP server" that never answers initialize, for Palisade's timeout
// tests. It starts a grandchild process (as npx-launched servers do) and writes
// "<own pid> <grandchild pid>" to PALISADE_TEST_PID_FILE, so a test can check that both
// are gone after the probe. With PALISADE_TEST_IGNORE_TERM=1 it also ignores SIGTERM and
// stdin EOF, so only SIGKILL stops it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
if (process.env.PALISADE_TEST_PID_FILE) writeFileSync(process.env.PALISADE_TEST_PID_FILE, `${process.pid} ${grandchild.pid}`);
if (process.env.PALISADE_TEST_IGNORE_TERM === '1') process.on('SIGTERM', () => {});
process.stdin.on('data', () => {
  // read and ignore every request
});
process.stdin.on('end', () => {
  if (process.env.PALISADE_TEST_IGNORE_TERM !== '1') process.exit(0);
});
setInterval(() => {}, 1000);
