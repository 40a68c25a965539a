// `palisade agent install|uninstall|status|run`: the agent as an operating-system service
// (systemd unit, launchd LaunchDaemon, Windows scheduled task). This file only declares the
// commands; the actions load @palisade/agent/service with `await import(...)`.
// --dry-run prints what would be written and run; --print prints the service file alone;
// --root DIR writes the files under DIR and runs nothing (image builders, tests).
import { Option, type Command } from 'commander';

interface CommonFlags {
  user?: boolean;
  platform?: 'linux' | 'darwin' | 'win32';
  root?: string;
  dryRun?: boolean;
}

interface InstallFlags extends CommonFlags {
  interval: string;
  splay: string;
  config?: string;
  binary?: string;
  server?: string;
  apiKeyFile?: string;
  print?: boolean;
}

function hostPlatform(): 'linux' | 'darwin' | 'win32' {
  return process.platform === 'win32' ? 'win32' : process.platform === 'darwin' ? 'darwin' : 'linux';
}

/** How the service starts palisade: this executable when it is the single executable, else node and this bin script. */
async function selfCommand(binary?: string): Promise<string[]> {
  if (binary) return [binary];
  try {
    const sea = (await import('node:sea')) as { isSea?: () => boolean };
    if (sea.isSea?.()) return [process.execPath];
  } catch {
    // node:sea is missing before Node 20: not a single executable
  }
  return [process.execPath, process.argv[1]!];
}

function common(cmd: Command): Command {
  return cmd
    .option('--user', 'a per-user service (systemd --user, a LaunchAgent) instead of the system-wide one')
    .addOption(new Option('--platform <os>', 'generate for this OS (with --print, --dry-run or --root)').choices(['linux', 'darwin', 'win32']))
    .option('--root <dir>', 'write the files under DIR and run no command')
    .option('--dry-run', 'print what would be written and run, change nothing');
}

export function registerAgentServiceCommands(program: Command): void {
  const agent = program.command('agent').description('run the agent as a service: install, uninstall, status (systemd, launchd, Windows Task Scheduler)');

  common(agent.command('install'))
    .description('install and start the agent service: reports at start, every interval (jittered) and when an MCP config file changes')
    .option('--interval <duration>', 'time between scheduled reports: 1h, 30m, 2h30m, ...', '1h')
    .option('--splay <duration>', 'the first report after a start waits a random part of this (0 for none)', '5m')
    .option('--config <file>', 'the agent settings file {"server","apiKey"} (default: the managed path of the OS for the system service)')
    .option('--binary <path>', 'the palisade executable the service runs (default: this one)')
    .option('--server <url>', 'also write the settings file with this backend URL ...')
    .option('--api-key-file <file>', '... and the agent key read from FILE (or PALISADE_API_KEY); never pass a key as an argument')
    .option('--print', 'print the service file only')
    .action(async (flags: InstallFlags) => {
      const svc = await import('@palisade/agent/service');
      const { checkApiKey, checkServerUrl, parseInterval } = await import('@palisade/agent/upload');
      parseInterval(flags.interval);
      if (!/^0+[hms]?$/.test(flags.splay.trim())) parseInterval(flags.splay);
      const platform = flags.platform ?? hostPlatform();
      if (platform !== hostPlatform() && !flags.print && !flags.dryRun && !flags.root)
        throw new Error(`--platform ${platform} only with --print, --dry-run or --root (this machine is ${hostPlatform()}).`);
      const scope = flags.user ? 'user' : 'system';
      let settings: { server: string; apiKey: string } | undefined;
      if (flags.server) {
        const key = flags.apiKeyFile ? svc.readKeyFile(flags.apiKeyFile) : process.env.PALISADE_API_KEY;
        if (!key) throw new Error('--server needs the agent key: --api-key-file FILE or PALISADE_API_KEY.');
        settings = { server: checkServerUrl(flags.server), apiKey: checkApiKey(key) };
      }
      const os = await import('node:os');
      const plan = svc.installPlan({
        platform,
        scope,
        command: await selfCommand(flags.binary),
        interval: flags.interval,
        splay: flags.splay.trim(),
        configFile: flags.config,
        home: os.homedir(),
        settings,
        uid: process.getuid?.(),
      });
      if (flags.print) {
        process.stdout.write(plan.files[0]!.content);
        return;
      }
      if (flags.dryRun) {
        process.stdout.write(svc.describePlan(plan, true));
        return;
      }
      if (!flags.root && scope === 'system' && platform !== 'win32' && process.getuid?.() !== 0)
        throw new Error('the system service is installed as root (sudo palisade agent install), or use --user.');
      const problem = flags.root ? null : svc.serviceManagerProblem(platform);
      if (problem) throw new Error(problem);
      svc.applyPlan(plan, { root: flags.root });
      process.stdout.write(`palisade: agent service installed (${plan.files[0]!.path}${flags.root ? ` under ${flags.root}` : ''}).\n`);
      for (const n of plan.notes) process.stdout.write(`note: ${n}\n`);
    });

  common(agent.command('uninstall'))
    .description('stop and remove the agent service')
    .option('--purge', 'also remove the settings file and the state folder (spool) of the system service')
    .action(async (flags: CommonFlags & { purge?: boolean }) => {
      const svc = await import('@palisade/agent/service');
      const os = await import('node:os');
      const plan = svc.uninstallPlan({
        platform: flags.platform ?? hostPlatform(),
        scope: flags.user ? 'user' : 'system',
        home: os.homedir(),
        uid: process.getuid?.(),
        purge: flags.purge,
      });
      if (flags.dryRun) {
        process.stdout.write(svc.describePlan(plan));
        return;
      }
      svc.applyPlan(plan, { root: flags.root });
      process.stdout.write('palisade: agent service removed.\n');
    });

  common(agent.command('status'))
    .description('is the service installed and running, which settings file it uses, how many reports wait in the spool')
    .option('--json', 'as JSON')
    .action(async (flags: CommonFlags & { json?: boolean }) => {
      const svc = await import('@palisade/agent/service');
      const os = await import('node:os');
      const s = svc.serviceStatus({ platform: flags.platform ?? hostPlatform(), scope: flags.user ? 'user' : 'system', home: os.homedir(), root: flags.root });
      if (flags.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      else
        process.stdout.write(
          [
            `service:  ${s.installed ? s.file : 'not installed'} (${s.platform}, ${s.scope})`,
            `state:    ${s.state}`,
            `settings: ${s.config ?? 'none found (palisade configure, or the managed file)'}`,
            ...(s.spooled === null ? [] : [`spooled:  ${s.spooled} report(s) waiting`]),
          ].join('\n') + '\n',
        );
      process.exitCode = s.installed ? 0 : 3;
    });

  agent
    .command('run')
    .description('what the service runs: report now, then every interval (jittered) and when a watched config file changes (debounced)')
    .option('--interval <duration>', 'time between scheduled reports', '1h')
    .option('--splay <duration>', 'wait a random time up to this before the first report (5m, 90s)')
    .option('--config <file>', 'the agent settings file {"server","apiKey"} (default: the managed file of the OS if present, else configure\'s)')
    .option('--log-file <file>', 'log to this file (bounded: 5 MB, then one older file) instead of stderr; a relative path is in the state folder')
    .option('--all-users', "scan every user's home and report each as that user (the system service)")
    .option('--no-watch', 'do not watch config files for changes')
    .option('--once', 'one round, then exit (exit 1 when it could not be delivered)')
    .action(async (flags: { interval: string; splay?: string; config?: string; logFile?: string; allUsers?: boolean; watch?: boolean; once?: boolean }) => {
      const { fileLog, runService } = await import('@palisade/agent/service');
      const { parseInterval } = await import('@palisade/agent/upload');
      const intervalMs = parseInterval(flags.interval);
      const splayMs = flags.splay && !/^0+[hms]?$/.test(flags.splay.trim()) ? parseInterval(flags.splay) : 0;
      let log: ((m: string) => void) | undefined;
      if (flags.logFile) {
        const path = await import('node:path');
        const { stateDirPath } = await import('@palisade/agent');
        log = fileLog(path.resolve(stateDirPath(), flags.logFile));
      }
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      let lastWaiting = 0;
      await runService({
        intervalMs,
        splayMs,
        allUsers: flags.allUsers,
        configFile: flags.config,
        watch: flags.watch,
        once: flags.once,
        log,
        signal: stop.signal,
        onRound: (r) => (lastWaiting = r.waiting),
      });
      process.exitCode = flags.once && lastWaiting > 0 ? 1 : 0;
    });
}
