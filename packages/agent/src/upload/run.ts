// `palisade report` and `palisade daemon`: scan, put the report in the spool, drain the
// spool in order. Putting every report through the spool keeps the order promise simple:
// nothing newer is delivered while something older waits.
import { redactReport, type ScanReport } from '@palisade/core';
import { scan, type ScanOptions } from '../scan.js';
import { locationContext } from '../paths.js';
import { ensureStateDir, stateDirPath } from '../state.js';
import { deliverReport } from './v2.js';
import { Spool, type DrainResult } from './spool.js';
import { resolveTarget, type UploadTarget } from './target.js';

export interface ReportFlags {
  server?: string;
  apiKey?: string;
  path?: string[];
  config?: string[];
  home?: string;
  platform?: 'darwin' | 'linux' | 'win32';
  probe?: boolean;
  probeTimeout?: number;
}

export interface RunContext {
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
  stateDir?: string;
}

export function scanOptions(flags: ReportFlags, log: (m: string) => void): ScanOptions {
  const opts: ScanOptions = { loc: locationContext({ platform: flags.platform, home: flags.home }), paths: flags.path, configFiles: flags.config };
  if (flags.probe) {
    const timeoutMs = Math.round((flags.probeTimeout ?? 15) * 1000);
    opts.enrich = async (discovery) => {
      const { probeServers } = await import('../probe/index.js');
      await probeServers(discovery, { timeoutMs, onProgress: log });
    };
  }
  return opts;
}

export interface ReportOnceResult {
  target: UploadTarget;
  drain: DrainResult;
  /** the report made now was delivered (not only spooled) */
  delivered: boolean;
}

/** One scan, spooled and sent with everything older that waits. */
export async function reportOnce(flags: ReportFlags, ctx: RunContext = {}): Promise<ReportOnceResult> {
  const env = ctx.env ?? process.env;
  const log = ctx.log ?? ((m: string) => process.stderr.write(`palisade: ${m}\n`));
  const stateDir = ctx.stateDir ?? stateDirPath({ env });
  const target = await resolveTarget(flags, env, stateDir);
  const report = await scan(scanOptions(flags, log));
  await ensureStateDir(stateDir);
  const spool = new Spool(stateDir, { warn: log });
  // core's redactReport before the report touches the disk, and again on the way out (a
  // report spooled by an older agent version is redacted before it is sent)
  const file = await spool.add(JSON.stringify(redactReport(report)));
  // protocol v2 first (only the servers the backend does not hold), the whole report when it cannot be used
  const drain = await spool.drain((body) => deliverReport(target, redactBody(body)));
  const mine = drain.outcomes.find((o) => o.file === file)?.outcome;
  return { target, drain, delivered: mine?.kind === 'delivered' };
}

/** A spooled report body, redacted again with core's redactReport; a body that is not JSON is sent as it is (the backend refuses it). */
export function redactBody(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as ScanReport).servers)) return body;
  return JSON.stringify(redactReport(parsed as ScanReport));
}

/** Interval with up to ±10% jitter, so a fleet started together does not report together. */
export function jittered(intervalMs: number, random = Math.random): number {
  return Math.max(1000, Math.round(intervalMs * (0.9 + 0.2 * random())));
}

/** "1h", "30m", "45s", "2h30m" or plain seconds -> milliseconds. */
export function parseInterval(raw: string): number {
  const s = raw.trim().toLowerCase();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s);
  if (!m || s === '') throw new Error(`"${raw}" is not an interval; use forms like 1h, 30m, 90s or 2h30m.`);
  const ms = (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
  if (ms < 10_000) throw new Error('The interval must be at least 10s.');
  if (ms > 7 * 86_400_000) throw new Error('The interval must be at most 7 days (168h).');
  return ms;
}

export interface DaemonOptions extends RunContext {
  intervalMs: number;
  signal: AbortSignal;
  /** for tests: a fixed first delay instead of a jittered one */
  random?: () => number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Report, then wait a jittered interval, until the signal aborts. Never throws for a failed round. */
export async function runDaemon(flags: ReportFlags, opts: DaemonOptions): Promise<number> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`palisade: ${m}\n`));
  let rounds = 0;
  while (!opts.signal.aborted) {
    rounds++;
    try {
      const r = await reportOnce(flags, opts);
      if (r.drain.stoppedBecause) log(`report spooled for later: ${r.drain.stoppedBecause} (${r.drain.remaining} waiting).`);
      else log(`report sent to ${r.target.server}${r.drain.delivered > 1 ? ` with ${r.drain.delivered - 1} older spooled report(s)` : ''}.`);
    } catch (err) {
      log(`this round failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const wait = jittered(opts.intervalMs, opts.random);
    await sleep(wait, opts.signal);
  }
  return rounds;
}
