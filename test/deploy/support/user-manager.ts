// A real systemd user manager (`systemd --user`) for the deployment tests, on a machine whose
// PID 1 is not systemd (a container, a CI runner). systemd refuses to start a user instance
// unless the system "was booted with systemd", which it reads from /run/systemd/system/. The
// manager is therefore started in its own mount namespace (unshare -m) where a private tmpfs
// over /run/systemd holds that folder, and in its own UTS namespace (unshare -u) with a
// hostname of its own, so one machine can play several. Its units, runtime folder and bus
// live in temporary folders given by the test; nothing of the host's /run, /etc or home is
// written. systemctl has to run in the same mount namespace (outside it, it sees no booted
// systemd and falls back to offline mode): commands go through `nsenter`.
// Needs root (for the namespaces) and systemd installed; whyNoUserManager() says why not.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const SYSTEMD = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd'].find((p) => existsSync(p));
// absolute paths: the commands run with the test user's PATH, which may hold none of these
const which = (cmd: string) => ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => path.join(d, cmd)).find((p) => existsSync(p)) ?? cmd;
const UNSHARE = which('unshare');
const NSENTER = which('nsenter');
const SYSTEMCTL = which('systemctl');

/** null when a user manager can be started here, else the reason it cannot (for the skip message). */
export function whyNoUserManager(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (!SYSTEMD) return 'systemd is not installed (no /usr/lib/systemd/systemd)';
  if (process.getuid?.() !== 0)
    return 'PID 1 is not systemd here and starting a user manager outside a booted systemd needs private mount and UTS namespaces (unshare -m -u), i.e. root';
  for (const tool of ['unshare', 'nsenter', 'systemctl'])
    if (spawnSync(tool, ['--version'], { encoding: 'utf8' }).status !== 0) return `${tool} is not installed`;
  const probe = spawnSync('unshare', ['-m', '-u', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare -m -u is refused here (${(probe.stderr || '').trim() || `exit ${probe.status}`}): no CAP_SYS_ADMIN`;
  return null;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface UserManager {
  pid: number;
  /** the environment a user of this "machine" has: HOME, XDG_*, PATH */
  env: Record<string, string>;
  /** runs a command as that user on that machine (the manager's namespaces) */
  run(cmd: string[], env?: Record<string, string>, timeoutMs?: number): Promise<RunResult>;
  stop(): Promise<void>;
}

function collect(p: ChildProcess, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d) => (stdout += d));
    p.stderr?.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts `systemd --user` for a user whose home is `home`, on a "machine" named `hostname`.
 * `path` is the PATH of that user and of the services (give one without Node to show it is not needed).
 */
export async function startUserManager(opts: { home: string; hostname: string; runtimeDir: string; path: string }): Promise<UserManager> {
  const why = whyNoUserManager();
  if (why) throw new Error(`no user manager: ${why}`);
  mkdirSync(path.join(opts.home, '.config'), { recursive: true });
  mkdirSync(opts.runtimeDir, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    PATH: opts.path,
    HOME: opts.home,
    USER: 'root',
    XDG_CONFIG_HOME: path.join(opts.home, '.config'),
    XDG_RUNTIME_DIR: opts.runtimeDir,
    NO_COLOR: '1',
  };
  // the mount point must exist before the private tmpfs goes over it (an empty folder if it did not)
  const script = [
    'set -e',
    'mkdir -p /run/systemd',
    'mount -t tmpfs -o mode=0755,size=64m palisade-test /run/systemd',
    'mkdir /run/systemd/system',
    'hostname "$PALISADE_TEST_HOSTNAME"',
    'unset PALISADE_TEST_HOSTNAME',
    // the manager and its services get the user's PATH only
    'export PATH="$PALISADE_TEST_PATH"',
    'unset PALISADE_TEST_PATH',
    `exec ${SYSTEMD} --user`,
  ].join('; ');
  const child = spawn(UNSHARE, ['-m', '-u', '--propagation', 'private', '/bin/sh', '-c', script], {
    env: { ...env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', PALISADE_TEST_PATH: opts.path, PALISADE_TEST_HOSTNAME: opts.hostname },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid!;
  const run = (cmd: string[], extra: Record<string, string> = {}, timeoutMs = 60_000) =>
    collect(spawn(NSENTER, ['-t', String(pid), '-m', '-u', '--', ...cmd], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(t);
  };
  // ready when `systemctl --user is-system-running` says running (or degraded: a unit of the
  // distribution's own user session failed, which is nothing to these tests)
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`systemd --user exited at once: ${log.trim().split('\n').slice(-5).join(' | ')}`);
    const r = await run([SYSTEMCTL, '--user', 'is-system-running'], {}, 10_000);
    if (/^(running|degraded)/.test(r.stdout.trim())) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`systemd --user did not come up: ${r.stdout.trim()} ${r.stderr.trim()} ${log.trim().split('\n').slice(-5).join(' | ')}`);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  return { pid, env, run, stop };
}
