// `palisade agent run`: what the installed service runs. Reports at start, then every interval
// (jittered by ±10% so a fleet does not report at once) and soon after a watched MCP config
// file changes (debounced, and never more often than the minimum gap). With --all-users (the
// system service) every user's home is scanned and reported as that user's host entry.
// Reports go through the bounded spool, as `palisade report` does.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, watch, type FSWatcher } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { redactReport } from '@palisade/core';
import { scan } from '../scan.js';
import { stateDirPath, ensureStateDir } from '../state.js';
import { redactBody, jittered, scanOptions } from '../upload/run.js';
import { deliverReport } from '../upload/v2.js';
import { Spool } from '../upload/spool.js';
import { checkApiKey, checkServerUrl, resolveTarget, UploadConfigError, type UploadTarget } from '../upload/target.js';
import { managedConfigPath, type ServicePlatform } from './files.js';

export interface ServiceRunOptions {
  intervalMs: number;
  /** wait a random time up to this before the first round (a fleet booting together) */
  splayMs?: number;
  allUsers?: boolean;
  configFile?: string;
  watch?: boolean;
  /** wait this long after the last change before reporting (default 15 s) */
  debounceMs?: number;
  /** at least this long between two change-triggered reports (default 60 s) */
  minGapMs?: number;
  once?: boolean;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
  log?: (m: string) => void;
  platform?: ServicePlatform;
  /** the managed settings file (default: the platform's, managedConfigPath) */
  managedConfig?: string;
  /** for tests: the homes to scan instead of the machine's users */
  homes?: Array<{ home: string; user?: string }>;
  /** for tests: the first wait instead of a jittered interval */
  random?: () => number;
  spoolMaxFiles?: number;
  spoolMaxBytes?: number;
  onRound?: (round: RoundResult) => void;
}

export interface RoundResult {
  reason: 'start' | 'schedule' | 'change';
  scanned: number;
  delivered: number;
  waiting: number;
  stoppedBecause: string | null;
  watched: number;
}

/**
 * The backend and key: --config FILE; else the managed file of the platform when it exists (an
 * MDM's settings win over the user's own); else PALISADE_SERVER/PALISADE_API_KEY or the file
 * `palisade configure` wrote.
 */
export async function serviceTarget(
  configFile: string | undefined,
  env: NodeJS.ProcessEnv,
  platform: ServicePlatform,
  stateDir: string,
  managedFile: string = managedConfigPath(platform),
): Promise<UploadTarget> {
  const fromFile = (file: string): UploadTarget => {
    let v: { server?: unknown; apiKey?: unknown };
    try {
      v = JSON.parse(readFileSync(file, 'utf8')) as typeof v;
    } catch (err) {
      throw new UploadConfigError(
        `Cannot read the agent settings in ${file} (${(err as NodeJS.ErrnoException).code ?? 'not JSON'}); it should hold {"server": "https://...", "apiKey": "pal_..."}.`,
      );
    }
    if (typeof v.server !== 'string' || typeof v.apiKey !== 'string') throw new UploadConfigError(`${file} must hold "server" and "apiKey".`);
    return { server: checkServerUrl(v.server), apiKey: checkApiKey(v.apiKey) };
  };
  if (configFile) return fromFile(configFile);
  if (existsSync(managedFile)) return fromFile(managedFile);
  return resolveTarget({}, env, stateDir);
}

/**
 * A log that appends timestamped lines to a file (mode 0600) and keeps it bounded: past
 * maxBytes the file becomes FILE.1 (replacing the previous one) and a new one starts. For
 * platforms whose service manager keeps no output (the Windows task); a relative path is in
 * the state folder.
 */
export function fileLog(file: string, maxBytes = 5 * 1024 * 1024): (m: string) => void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  return (m: string) => {
    try {
      if (statSync(file).size >= maxBytes) renameSync(file, `${file}.1`);
    } catch {
      // no file yet
    }
    try {
      appendFileSync(file, `${new Date().toISOString()} palisade: ${m}\n`, { mode: 0o600 });
    } catch {
      process.stderr.write(`palisade: ${m}\n`);
    }
  };
}

/** Every person's home on this machine: regular accounts from /etc/passwd (linux) or /Users (darwin). */
export function userHomes(platform: ServicePlatform, passwd = '/etc/passwd', usersDir = '/Users'): Array<{ home: string; user: string }> {
  const homes: Array<{ home: string; user: string }> = [];
  if (platform === 'linux') {
    let text: string;
    try {
      text = readFileSync(passwd, 'utf8');
    } catch {
      return homes;
    }
    for (const line of text.split('\n')) {
      const [user, , uid, , , home, shell] = line.split(':');
      const n = Number(uid);
      if (!user || !home || !Number.isInteger(n) || n < 1000 || n >= 60000) continue;
      if (/(?:nologin|false)$/.test(shell ?? '')) continue;
      if (existsSync(home)) homes.push({ home, user });
    }
  } else if (platform === 'darwin') {
    let names: string[];
    try {
      names = readdirSync(usersDir);
    } catch {
      return homes;
    }
    for (const name of names) {
      if (name.startsWith('.') || name === 'Shared' || name === 'Guest') continue;
      const home = path.join(usersDir, name);
      try {
        if (statSync(home).isDirectory()) homes.push({ home, user: name });
      } catch {
        // unreadable: skipped
      }
    }
  }
  return homes;
}

const MAX_WATCHED = 256;

/** Runs until the signal aborts (or one round with `once`); returns the number of rounds. */
export async function runService(opts: ServiceRunOptions): Promise<number> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((m: string) => process.stderr.write(`palisade: ${m}\n`));
  const platform = opts.platform ?? (process.platform === 'win32' ? 'win32' : process.platform === 'darwin' ? 'darwin' : 'linux');
  const stateDir = stateDirPath({ env });
  await ensureStateDir(stateDir);
  // read again every round: a key rotated by the MDM is used from the next round on, no restart
  let target = await serviceTarget(opts.configFile, env, platform, stateDir, opts.managedConfig);
  const spool = new Spool(stateDir, { maxFiles: opts.spoolMaxFiles ?? 100, maxBytes: opts.spoolMaxBytes ?? 50 * 1024 * 1024, warn: log });
  const debounceMs = opts.debounceMs ?? 15_000;
  const minGapMs = opts.minGapMs ?? 60_000;

  let watchers: FSWatcher[] = [];
  let wake: (() => void) | null = null;
  let changed = false;
  let debounce: NodeJS.Timeout | undefined;
  let lastChangeRound = 0;
  const closeWatchers = () => {
    for (const w of watchers) w.close();
    watchers = [];
  };
  const onChange = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const gap = Date.now() - lastChangeRound;
      const fire = () => {
        changed = true;
        wake?.();
      };
      if (gap >= minGapMs) fire();
      else debounce = setTimeout(fire, minGapMs - gap);
    }, debounceMs);
  };
  const watchFiles = (files: string[]) => {
    closeWatchers();
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const dir = path.dirname(f);
      if (!byDir.has(dir)) byDir.set(dir, new Set());
      byDir.get(dir)!.add(path.basename(f));
    }
    for (const [dir, names] of byDir) {
      if (watchers.length >= MAX_WATCHED) break;
      try {
        // the folder, not the file: editors replace files by rename, which ends a file watch
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (!name || names.has(String(name))) onChange();
        });
        w.on('error', () => w.close());
        watchers.push(w);
      } catch {
        // a folder that vanished or cannot be watched: the schedule still covers it
      }
    }
  };

  let rounds = 0;
  let reason: RoundResult['reason'] = 'start';
  if (opts.splayMs && !opts.once) {
    const delay = Math.floor((opts.random ?? Math.random)() * opts.splayMs);
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, delay);
      function done() {
        clearTimeout(t);
        opts.signal.removeEventListener('abort', done);
        resolve();
      }
      opts.signal.addEventListener('abort', done, { once: true });
    });
  }
  try {
    while (!opts.signal.aborted) {
      rounds++;
      const homes = opts.homes ?? (opts.allUsers ? userHomes(platform) : [{ home: env.HOME || env.USERPROFILE || os.homedir() }]);
      const configFiles: string[] = [];
      let scanned = 0;
      for (const { home, user } of homes) {
        try {
          const report = await scan(scanOptions({ home, platform }, log));
          if (user) report.host = { ...report.host, user };
          for (const c of report.clients) if (c.configPath && existsSync(c.configPath)) configFiles.push(c.configPath);
          await spool.add(JSON.stringify(redactReport(report)));
          scanned++;
        } catch (err) {
          log(`scanning ${user ?? 'this user'} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (rounds > 1) {
        try {
          target = await serviceTarget(opts.configFile, env, platform, stateDir, opts.managedConfig);
        } catch (err) {
          log(`keeping the previous settings: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const drain = await spool.drain((body) => deliverReport(target, redactBody(body)));
      if (opts.watch !== false && !opts.once) watchFiles([...new Set(configFiles)]);
      const result: RoundResult = {
        reason,
        scanned,
        delivered: drain.delivered,
        waiting: drain.remaining,
        stoppedBecause: drain.stoppedBecause,
        watched: watchers.length,
      };
      log(
        drain.stoppedBecause
          ? `${reason}: ${scanned} scan(s) spooled for later: ${drain.stoppedBecause} (${drain.remaining} waiting).`
          : `${reason}: ${scanned} scan(s), ${drain.delivered} report(s) sent to ${target.server}; watching ${watchers.length} folder(s).`,
      );
      opts.onRound?.(result);
      if (opts.once) break;
      if (reason === 'change') lastChangeRound = Date.now();
      // wait for the schedule, a change, or the stop signal
      const wait = jittered(opts.intervalMs, opts.random);
      reason = await new Promise<RoundResult['reason']>((resolve) => {
        const done = (r: RoundResult['reason']) => {
          clearTimeout(timer);
          opts.signal.removeEventListener('abort', onAbort);
          wake = null;
          resolve(r);
        };
        const onAbort = () => done('schedule');
        const timer = setTimeout(() => done('schedule'), wait);
        opts.signal.addEventListener('abort', onAbort, { once: true });
        wake = () => done('change');
        if (changed) done('change');
      });
      if (reason === 'change') changed = false;
    }
  } finally {
    clearTimeout(debounce);
    closeWatchers();
  }
  return rounds;
}
