#!/usr/bin/env node
// The pre-commit hook (.pre-commit-hooks.yaml): `palisade scan --path .` on the repository's
// project MCP configs only (an empty home folder, so the developer's own client configs are
// not part of the verdict), the table on the terminal, exit 1 when something reaches
// --fail-on (default high). Extra arguments are passed to `palisade scan`.
// The palisade command: PALISADE_CLI (a command line), else `palisade` on PATH.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const cli = (process.env.PALISADE_CLI || 'palisade').split(/\s+/).filter(Boolean);
const args = process.argv.slice(2);
if (!args.includes('--fail-on')) args.push('--fail-on', 'high');
const platform = ['darwin', 'linux', 'win32'].includes(process.platform) ? process.platform : 'linux';
const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-hook-home-'));
let status = 2;
try {
  const r = spawnSync(cli[0], [...cli.slice(1), 'scan', '--path', process.cwd(), '--home', home, '--platform', platform, ...args], { stdio: 'inherit' });
  if (r.error)
    process.stderr.write(`palisade hook: could not run ${cli[0]} (${r.error.code ?? r.error.message}); install the palisade executable or set PALISADE_CLI.\n`);
  else status = r.status ?? 2;
} finally {
  rmSync(home, { recursive: true, force: true });
}
process.exit(status);
