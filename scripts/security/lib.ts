// Shared pieces of the security checks: one result shape and a way to run a tool with an
// argument array (never a shell string), capturing its output.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** one line for the summary */
  summary: string;
  /** further lines worth printing (the failures, what was skipped and why) */
  details?: string[];
}

export interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
  /** set when the program could not be started at all */
  startError?: string;
}

export function runTool(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunOutput> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let startError: string | undefined;
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), options.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      startError = e.message;
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ...(startError ? { startError } : {}) });
    });
  });
}

/** A repository-local executable from node_modules/.bin. */
export function bin(name: string): string {
  return path.join(REPO_ROOT, 'node_modules', '.bin', name);
}

/** The last lines of a tool's output, for a failure's details. */
export function tail(text: string, lines = 20): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.includes('Unknown user config "nodedir"')).slice(-lines);
}

/** `*` matches within one path segment, `**` across segments; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** ISO date (YYYY-MM-DD) at or after today? */
export function notExpired(expires: string, today = new Date()): boolean {
  const d = Date.parse(`${expires}T23:59:59Z`);
  return Number.isFinite(d) && d >= today.getTime();
}
