// The agent as an operating-system service: the files `palisade agent install` writes, as pure
// functions of the options, so they can be printed (--print), checked by tests and written
// under a root folder without touching the real system.
//   linux, system scope: a systemd unit under a dynamic (throw-away, unprivileged) user that
//     keeps only CAP_DAC_READ_SEARCH (read, never write, every user's MCP configs), a
//     read-only view of the system, its own state folder, and the agent key handed over as a
//     systemd credential (the key file stays root-only). Logs go to the journal.
//   linux, --user: a systemd user unit that runs as that user and reads only that home.
//   darwin: a LaunchDaemon (root: reading every user's home needs it, and MDM grants the
//     agent Full Disk Access through a PPPC profile), low priority, logs in /Library/Logs.
//   win32: a scheduled task for the Users group, run at each logon as that user with least
//     privilege (a user's own profile is all it reads), hidden, restarted on failure.
// Each runs `palisade agent run`: report at start, then on a jittered schedule and when a
// watched config file changes (debounced); the spool stays bounded.
import path from 'node:path';

export type ServicePlatform = 'linux' | 'darwin' | 'win32';
export type ServiceScope = 'system' | 'user';

export const SERVICE_NAME = 'palisade-agent';
export const LAUNCHD_LABEL = 'com.palisade.agent';
export const TASK_PATH = '\\Palisade\\';
export const TASK_NAME = 'Agent';

export interface ServiceOptions {
  platform: ServicePlatform;
  scope: ServiceScope;
  /** the command that starts palisade: the single executable, or node and the bin script */
  command: string[];
  /** time between scheduled reports (1h, 30m, ...) */
  interval: string;
  /** the agent's settings file ({server, apiKey}); default: the managed path of the platform (system) or configure's file (user) */
  configFile?: string;
  /** the user's home (user scope) for the paths of user units */
  home?: string;
  /** the first report waits a random part of this (default 5m; "0" for none) */
  splay?: string;
}

/** Where an MDM (or an administrator) puts the agent's settings: {"server": "...", "apiKey": "pal_..."} */
export function managedConfigPath(platform: ServicePlatform): string {
  if (platform === 'win32') return 'C:\\ProgramData\\Palisade\\agent.json';
  if (platform === 'darwin') return '/Library/Application Support/Palisade/agent.json';
  return '/etc/palisade/agent.json';
}

/** The state folder (spool, pins) of a system-wide agent. */
export function systemStateDir(platform: ServicePlatform): string {
  if (platform === 'win32') return 'C:\\ProgramData\\Palisade\\state';
  if (platform === 'darwin') return '/Library/Application Support/Palisade/state';
  return '/var/lib/palisade';
}

/** The system service's log file: darwin's launchd file; linux logs to the journal, windows to agent.log in each user's state folder. */
export function logPath(platform: ServicePlatform): string | null {
  return platform === 'darwin' ? '/Library/Logs/Palisade/agent.log' : null;
}

/** The file a service definition is installed as. */
export function serviceFilePath(opts: Pick<ServiceOptions, 'platform' | 'scope' | 'home'>): string {
  if (opts.platform === 'linux') {
    if (opts.scope === 'user') return path.posix.join(opts.home ?? '~', '.config/systemd/user', `${SERVICE_NAME}.service`);
    return `/etc/systemd/system/${SERVICE_NAME}.service`;
  }
  if (opts.platform === 'darwin') {
    if (opts.scope === 'user') return path.posix.join(opts.home ?? '~', 'Library/LaunchAgents', `${LAUNCHD_LABEL}.plist`);
    return `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`;
  }
  // the task XML is kept beside the settings, for `schtasks /Create /XML` and for audits
  return 'C:\\ProgramData\\Palisade\\palisade-agent-task.xml';
}

/** The arguments of `palisade agent run` for a service. */
export function runArgs(opts: ServiceOptions, configFile?: string): string[] {
  // --splay: the first report waits a random part of 5 minutes, so a fleet that boots at 9:00 does not report at once
  const splay = opts.splay ?? '5m';
  const args = ['agent', 'run', '--interval', opts.interval, ...(/^0+[hms]?$/.test(splay) ? [] : ['--splay', splay])];
  if (opts.scope === 'system' && opts.platform !== 'win32') args.push('--all-users');
  if (configFile) args.push('--config', configFile);
  // the Task Scheduler keeps no output: the log is a bounded file in the user's state folder
  // (%LOCALAPPDATA%\Palisade\agent.log); systemd's journal and launchd's file take stderr
  if (opts.platform === 'win32') args.push('--log-file', 'agent.log');
  return args;
}

// systemd: a word of ExecStart is quoted when it holds anything but safe characters; % and $
// are escaped so systemd neither expands specifiers nor variables in a path
function systemdWord(w: string): string {
  const escaped = w.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function systemdUnit(opts: ServiceOptions): string {
  const exec = (args: string[]) => [...opts.command, ...args].map(systemdWord).join(' ');
  const header = [
    '# Palisade agent: reports the MCP servers configured on this machine to the Palisade backend.',
    '# Written by `palisade agent install`; remove with `palisade agent uninstall`.',
    '[Unit]',
    'Description=Palisade agent (MCP server inventory)',
    'Documentation=https://github.com/palisade/palisade/blob/main/docs/deployment.md',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
  ];
  const common = [
    'Restart=on-failure',
    'RestartSec=30s',
    'NoNewPrivileges=yes',
    'UMask=0077',
    'Nice=10',
    'IOSchedulingClass=idle',
    'MemoryMax=512M',
    'CPUQuota=50%',
    'TimeoutStopSec=20s',
    'SyslogIdentifier=palisade-agent',
  ];
  if (opts.scope === 'user') {
    const config = opts.configFile ? exec(runArgs(opts, opts.configFile)) : exec(runArgs(opts));
    // no PrivateTmp= and no other namespacing here: a user manager gets mount namespaces only
    // through user namespaces (refused on some distributions: the unit would fail with
    // 226/NAMESPACE), and a private /tmp would hide homes and config files kept under /tmp
    return [...header, `ExecStart=${config}`, ...common, '', '[Install]', 'WantedBy=default.target', ''].join('\n');
  }
  const keyFile = opts.configFile ?? managedConfigPath('linux');
  return [
    ...header,
    // the settings file stays root-only (0600): systemd hands a copy to this service alone
    `LoadCredential=agent.json:${keyFile}`,
    `ExecStart=${exec(runArgs(opts))} --config %d/agent.json`,
    ...common,
    // a throw-away unprivileged user; reading other users' configs is all it may do beyond that
    'DynamicUser=yes',
    'StateDirectory=palisade',
    'StateDirectoryMode=0700',
    'Environment=PALISADE_STATE_DIR=%S/palisade',
    'AmbientCapabilities=CAP_DAC_READ_SEARCH',
    'CapabilityBoundingSet=CAP_DAC_READ_SEARCH',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function launchdPlist(opts: ServiceOptions): string {
  const system = opts.scope === 'system';
  const config = opts.configFile ?? (system ? managedConfigPath('darwin') : undefined);
  const args = [...opts.command, ...runArgs(opts, config)];
  const log = system ? logPath('darwin')! : path.posix.join(opts.home ?? '~', 'Library/Logs/Palisade/agent.log');
  const str = (s: string) => `<string>${xml(s)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '\t<key>Label</key>',
    `\t${str(LAUNCHD_LABEL)}`,
    '\t<key>ProgramArguments</key>',
    '\t<array>',
    ...args.map((a) => `\t\t${str(a)}`),
    '\t</array>',
    ...(system
      ? ['\t<key>EnvironmentVariables</key>', '\t<dict>', '\t\t<key>PALISADE_STATE_DIR</key>', `\t\t${str(systemStateDir('darwin'))}`, '\t</dict>']
      : []),
    '\t<key>RunAtLoad</key>',
    '\t<true/>',
    '\t<key>KeepAlive</key>',
    '\t<dict>',
    '\t\t<key>SuccessfulExit</key>',
    '\t\t<false/>',
    '\t</dict>',
    '\t<key>ThrottleInterval</key>',
    '\t<integer>60</integer>',
    '\t<key>ProcessType</key>',
    `\t${str('Background')}`,
    '\t<key>LowPriorityIO</key>',
    '\t<true/>',
    '\t<key>Nice</key>',
    '\t<integer>10</integer>',
    '\t<key>Umask</key>',
    '\t<integer>63</integer>',
    '\t<key>StandardOutPath</key>',
    `\t${str(log)}`,
    '\t<key>StandardErrorPath</key>',
    `\t${str(log)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/** Windows command-line quoting of one argument (CommandLineToArgvW rules). */
export function winQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

export function windowsTaskXml(opts: ServiceOptions, now = new Date()): string {
  const config = opts.configFile ?? managedConfigPath('win32');
  const [command, ...pre] = opts.command;
  const args = [...pre, ...runArgs(opts, config)].map(winQuote).join(' ');
  const start = now.toISOString().replace(/\.\d+Z$/, '');
  return [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    `    <Date>${start}</Date>`,
    '    <Author>Palisade</Author>',
    '    <Description>Palisade agent: reports the MCP servers configured for the signed-in user to the Palisade backend. Installed by palisade agent install.</Description>',
    `    <URI>${xml(TASK_PATH + TASK_NAME)}</URI>`,
    '  </RegistrationInfo>',
    '  <Triggers>',
    '    <LogonTrigger>',
    '      <Enabled>true</Enabled>',
    '      <Delay>PT2M</Delay>',
    '    </LogonTrigger>',
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Users">',
    // BUILTIN\Users: the task runs as whoever signs in, never elevated
    '      <GroupId>S-1-5-32-545</GroupId>',
    '      <RunLevel>LeastPrivilege</RunLevel>',
    '    </Principal>',
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <AllowHardTerminate>true</AllowHardTerminate>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>',
    '    <IdleSettings>',
    '      <StopOnIdleEnd>false</StopOnIdleEnd>',
    '      <RestartOnIdle>false</RestartOnIdle>',
    '    </IdleSettings>',
    '    <AllowStartOnDemand>true</AllowStartOnDemand>',
    '    <Enabled>true</Enabled>',
    '    <Hidden>true</Hidden>',
    '    <RunOnlyIfIdle>false</RunOnlyIfIdle>',
    '    <WakeToRun>false</WakeToRun>',
    // resident: `agent run` reports on its own jittered schedule and on config changes
    '    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>',
    '    <Priority>7</Priority>',
    '    <RestartOnFailure>',
    '      <Interval>PT5M</Interval>',
    '      <Count>3</Count>',
    '    </RestartOnFailure>',
    '  </Settings>',
    '  <Actions Context="Users">',
    '    <Exec>',
    `      <Command>${xml(command!)}</Command>`,
    `      <Arguments>${xml(args)}</Arguments>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ].join('\r\n');
}

/** The service definition for the options' platform and scope. */
export function serviceFile(opts: ServiceOptions): { path: string; content: string } {
  const content = opts.platform === 'linux' ? systemdUnit(opts) : opts.platform === 'darwin' ? launchdPlist(opts) : windowsTaskXml(opts);
  return { path: serviceFilePath(opts), content };
}
