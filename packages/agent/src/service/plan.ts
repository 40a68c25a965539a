// What `palisade agent install|uninstall` does, as a plan (files to write or remove, commands
// to run) that --dry-run prints and --root writes under a folder without running anything, so
// tests never touch the real system.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import {
  LAUNCHD_LABEL,
  SERVICE_NAME,
  TASK_NAME,
  TASK_PATH,
  managedConfigPath,
  serviceFile,
  serviceFilePath,
  systemStateDir,
  type ServiceOptions,
  type ServicePlatform,
  type ServiceScope,
} from './files.js';
import { stateDirPath } from '../state.js';

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
  /** UTF-16LE with a byte-order mark (the Task Scheduler's XML) */
  utf16?: boolean;
  /** never printed by --dry-run (holds the agent key) */
  secret?: boolean;
}

export interface ServicePlan {
  files: PlannedFile[];
  remove: string[];
  commands: string[][];
  notes: string[];
}

export interface InstallInput extends ServiceOptions {
  /** write the settings file too (from --server and a key given in a file or PALISADE_API_KEY) */
  settings?: { server: string; apiKey: string };
  uid?: number;
  /** the user's state folder (--user: where the settings go), default that of stateDirPath */
  stateDir?: string;
}

/** Where install --server writes the settings: --config, else the managed path (system) or configure's own file (--user). */
function settingsPath(opts: InstallInput): string {
  if (opts.configFile) return opts.configFile;
  if (opts.scope === 'user') return path.join(opts.stateDir ?? stateDirPath({ platform: opts.platform, home: opts.home }), 'agent.json');
  return managedConfigPath(opts.platform);
}

export function installPlan(opts: InstallInput): ServicePlan {
  const unit = serviceFile(opts);
  const files: PlannedFile[] = [{ path: unit.path, content: unit.content, mode: 0o644, utf16: opts.platform === 'win32' }];
  const notes: string[] = [];
  if (opts.settings) {
    // root-only on Unix (the systemd credential or root's launchd reads it); on Windows the
    // per-user task must read it: C:\ProgramData inherits read access for Users
    files.push({ path: settingsPath(opts), content: JSON.stringify(opts.settings, null, 2) + '\n', mode: 0o600, secret: true });
  }
  const commands: string[][] = [];
  if (opts.platform === 'linux') {
    const ctl = opts.scope === 'user' ? ['systemctl', '--user'] : ['systemctl'];
    commands.push([...ctl, 'daemon-reload'], [...ctl, 'enable', '--now', `${SERVICE_NAME}.service`]);
    if (opts.scope === 'user') notes.push('A user unit runs while you are signed in; `loginctl enable-linger` keeps it running after sign-out.');
  } else if (opts.platform === 'darwin') {
    const domain = opts.scope === 'user' ? `gui/${opts.uid ?? 501}` : 'system';
    commands.push(['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`], ['launchctl', 'bootstrap', domain, unit.path]);
    if (opts.scope === 'system')
      notes.push("Grant the palisade binary Full Disk Access with a PPPC profile (deploy/mdm/jamf/), or macOS hides parts of users' homes from it.");
  } else {
    commands.push(['schtasks', '/Create', '/TN', TASK_PATH + TASK_NAME, '/XML', unit.path, '/F']);
    notes.push(
      'The task starts at each sign-in as that user (least privilege); sign out and in, or run `schtasks /Run /TN \\Palisade\\Agent`, to start it now.',
    );
  }
  return { files, remove: [], commands, notes };
}

export function uninstallPlan(opts: Pick<ServiceOptions, 'platform' | 'scope' | 'home'> & { uid?: number; purge?: boolean; configFile?: string }): ServicePlan {
  const file = serviceFilePath(opts);
  const commands: string[][] = [];
  if (opts.platform === 'linux') {
    const ctl = opts.scope === 'user' ? ['systemctl', '--user'] : ['systemctl'];
    commands.push([...ctl, 'disable', '--now', `${SERVICE_NAME}.service`]);
  } else if (opts.platform === 'darwin') {
    commands.push(['launchctl', 'bootout', `${opts.scope === 'user' ? `gui/${opts.uid ?? 501}` : 'system'}/${LAUNCHD_LABEL}`]);
  } else {
    commands.push(['schtasks', '/Delete', '/TN', TASK_PATH + TASK_NAME, '/F']);
  }
  const remove = [file];
  if (opts.purge && opts.scope === 'system') remove.push(opts.configFile ?? managedConfigPath(opts.platform), systemStateDir(opts.platform));
  const after = opts.platform === 'linux' ? [[...(opts.scope === 'user' ? ['systemctl', '--user'] : ['systemctl']), 'daemon-reload']] : [];
  return { files: [], remove, commands: [...commands, ...after], notes: [] };
}

/**
 * Why this machine's service manager cannot take the service, before anything is written:
 * systemd must be running (it says so with /run/systemd/system/; a container without it as
 * PID 1 would get unit files that nothing starts). null when it can.
 */
export function serviceManagerProblem(platform: ServicePlatform, runDir = '/run/systemd/system'): string | null {
  if (platform === 'linux' && !existsSync(runDir))
    return 'systemd is not running on this machine (PID 1 is not systemd, as in most containers), so nothing would start the service: nothing was written. Use --root DIR to write the files only, or run `palisade agent run` under your own supervisor.';
  return null;
}

/** A path of the plan, placed under root (for --root): C:\ProgramData\x -> <root>/C/ProgramData/x. */
export function underRoot(root: string, p: string): string {
  const rel = p
    .replace(/^([A-Za-z]):\\/, '$1/')
    .replace(/\\/g, '/')
    .replace(/^\/+/, '');
  return path.join(root, ...rel.split('/'));
}

export interface ApplyOptions {
  /** write files under this folder and run no command */
  root?: string;
  run?: (cmd: string[]) => { status: number | null; stderr: string };
  log?: (m: string) => void;
}

const defaultRun = (cmd: string[]) => {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  return { status: r.error ? 127 : r.status, stderr: r.error ? r.error.message : r.stderr };
};

/** Carries out a plan. Commands that only stop what is not running (bootout, disable) may fail. */
export function applyPlan(plan: ServicePlan, opts: ApplyOptions = {}): void {
  const place = (p: string) => (opts.root ? underRoot(opts.root, p) : p);
  for (const p of plan.remove) rmSync(place(p), { recursive: true, force: true });
  for (const f of plan.files) {
    const target = place(f.path);
    mkdirSync(path.dirname(target), { recursive: true, mode: f.secret ? 0o700 : 0o755 });
    const data = f.utf16 ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(f.content, 'utf16le')]) : f.content;
    writeFileSync(target, data, { mode: f.mode });
    if (process.platform !== 'win32') chmodSync(target, f.mode);
  }
  if (opts.root) return;
  const run = opts.run ?? defaultRun;
  for (const cmd of plan.commands) {
    const r = run(cmd);
    const mayFail = cmd.includes('bootout') || cmd.includes('disable') || cmd.includes('/Delete');
    if (r.status !== 0 && !mayFail) throw new Error(`\`${cmd.join(' ')}\` failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`}`);
  }
}

/** The plan as text for --dry-run: files (secrets shown as <redacted>), then commands. */
export function describePlan(plan: ServicePlan, print = false): string {
  const out: string[] = [];
  for (const p of plan.remove) out.push(`remove ${p}`);
  for (const f of plan.files) {
    out.push(`write ${f.path} (mode ${f.mode.toString(8).padStart(4, '0')}${f.utf16 ? ', UTF-16' : ''})`);
    if (print) out.push(f.secret ? '  <contents redacted: the agent key>' : f.content.replace(/\r\n/g, '\n').replace(/^/gm, '  ').trimEnd());
  }
  for (const c of plan.commands) out.push(`run ${c.map((w) => (/[\s"]/.test(w) ? JSON.stringify(w) : w)).join(' ')}`);
  for (const n of plan.notes) out.push(`note: ${n}`);
  return out.join('\n') + '\n';
}

export interface ServiceStatus {
  platform: ServicePlatform;
  scope: ServiceScope;
  file: string;
  installed: boolean;
  state: string;
  config: string | null;
  spooled: number | null;
}

/** Installed? running? which settings file? how many reports wait in the spool? */
export function serviceStatus(
  opts: Pick<ServiceOptions, 'platform' | 'scope' | 'home'> & { configFile?: string; stateDir?: string; root?: string },
): ServiceStatus {
  const place = (p: string) => (opts.root ? underRoot(opts.root, p) : p);
  const file = serviceFilePath(opts);
  const installed = existsSync(place(file));
  let state = installed ? 'installed' : 'not installed';
  if (installed && !opts.root) {
    const cmd =
      opts.platform === 'linux'
        ? [...(opts.scope === 'user' ? ['systemctl', '--user'] : ['systemctl']), 'is-active', `${SERVICE_NAME}.service`]
        : opts.platform === 'darwin'
          ? ['launchctl', 'print', `${opts.scope === 'user' ? 'gui/501' : 'system'}/${LAUNCHD_LABEL}`]
          : ['schtasks', '/Query', '/TN', TASK_PATH + TASK_NAME];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
    if (r.error) state = `installed (could not ask ${cmd[0]}: ${r.error.message})`;
    else if (opts.platform === 'linux') state = (r.stdout || '').trim() || `unknown (exit ${r.status})`;
    else if (opts.platform === 'darwin') state = /state = running/.test(r.stdout) ? 'running' : r.status === 0 ? 'loaded' : 'not loaded';
    else state = r.status === 0 ? 'registered' : 'not registered';
  }
  // in the order `agent run` reads them: --config, the managed file, configure's file (--user)
  const userFile = opts.scope === 'user' ? path.join(opts.stateDir ?? stateDirPath({ platform: opts.platform, home: opts.home }), 'agent.json') : undefined;
  const candidates = [opts.configFile, managedConfigPath(opts.platform), userFile].filter((c): c is string => !!c);
  const config = candidates.find((c) => existsSync(place(c))) ?? null;
  let spooled: number | null = null;
  const stateDir = opts.stateDir ?? (opts.scope === 'system' ? systemStateDir(opts.platform) : stateDirPath({ platform: opts.platform, home: opts.home }));
  if (stateDir) {
    try {
      spooled = readdirSync(place(path.join(stateDir, 'spool'))).filter((n) => n.endsWith('.json')).length;
    } catch {
      spooled = 0;
    }
  }
  return { platform: opts.platform, scope: opts.scope, file, installed, state, config, spooled };
}

/** The agent key from a file (an MDM secret dropped on disk), trimmed; never echoed. */
export function readKeyFile(file: string): string {
  return readFileSync(file, 'utf8').trim();
}
