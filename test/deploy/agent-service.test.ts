// Issue 17 §2: `palisade agent install|uninstall|status|run`. The generated service files are
// validated with the platform's own rules where this machine has them (systemd-analyze verify
// for the units; Python's plistlib, the reader plutil's format follows, and xmllint for the
// plist; xmllint and the Task Scheduler schema's element order for the task), the CLI writes
// them only under --root or prints them (--dry-run, --print), and the service loop runs
// against a fake backend on loopback: report at start, on a watched config change
// (debounced) and on schedule, bounded spool while the backend is down, one host entry per
// user with --all-users. A real `systemd --user` runs the installed --user unit (in private
// mount and UTS namespaces: this container has no systemd as PID 1; see
// support/user-manager.ts); where that is impossible (not root, namespaces refused, no
// systemd) the test is skipped and its title says why.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileLog,
  installPlan,
  launchdPlist,
  runService,
  serviceFile,
  serviceTarget,
  systemdUnit,
  userHomes,
  windowsTaskXml,
  type ServiceOptions,
} from '@palisade/agent/service';
import { startUserManager, whyNoUserManager } from './support/user-manager.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'packages/cli/bin/palisade.js');
const KEY = 'pal_TestAgentKeyForServiceTests_0123456789';
const has = (cmd: string, args: string[] = ['--version']) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
const hasSystemdAnalyze = has('systemd-analyze');
const hasXmllint = has('xmllint');
const hasPython = has('python3');
// a real `systemd --user` (test/deploy/support/user-manager.ts): null when one can run here
const noUserManager = whyNoUserManager();

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-service-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fakeBin(): string {
  const f = path.join(tmp, 'bin', 'palisade');
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, '#!/bin/sh\nexit 0\n');
  chmodSync(f, 0o755);
  return f;
}

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });

describe('systemd units', () => {
  it.skipIf(!hasSystemdAnalyze)('system and --user units pass `systemd-analyze verify` with no warning (a broken unit does warn: the check is live)', () => {
    const exe = fakeBin();
    const dir = path.join(tmp, 'units');
    mkdirSync(dir, { recursive: true });
    for (const scope of ['system', 'user'] as const) {
      const file = path.join(dir, `${scope}`, 'palisade-agent.service');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, systemdUnit({ platform: 'linux', scope, command: [exe], interval: '1h' }));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.trim(), `${scope}: ${r.stderr}`).toBe('');
    }
    const bad = path.join(dir, 'bad.service');
    writeFileSync(bad, `[Service]\nExecStart=${exe}\nProtectSystem=maybe\n`);
    expect(spawnSync('systemd-analyze', ['verify', bad], { encoding: 'utf8' }).stderr).toMatch(/protect system/i);
  });

  it('system unit: dynamic unprivileged user, read-only access to homes, key as a credential, journal logging', () => {
    const u = systemdUnit({ platform: 'linux', scope: 'system', command: ['/usr/local/bin/palisade'], interval: '30m' });
    for (const line of [
      'DynamicUser=yes',
      'AmbientCapabilities=CAP_DAC_READ_SEARCH',
      'CapabilityBoundingSet=CAP_DAC_READ_SEARCH',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=read-only',
      'StateDirectory=palisade',
      'LoadCredential=agent.json:/etc/palisade/agent.json',
      'ExecStart=/usr/local/bin/palisade agent run --interval 30m --splay 5m --all-users --config %d/agent.json',
      'WantedBy=multi-user.target',
    ])
      expect(u.split('\n')).toContain(line);
    expect(u).not.toMatch(/^User=root/m);
    expect(u).not.toMatch(/StandardOutput=file/); // the journal
    const user = systemdUnit({ platform: 'linux', scope: 'user', command: ['/opt/pal isade/palisade'], interval: '1h' });
    expect(user).toContain('ExecStart="/opt/pal isade/palisade" agent run --interval 1h --splay 5m\n');
    expect(user).toContain('WantedBy=default.target');
    expect(user).not.toContain('--all-users');
    expect(user).not.toContain('CAP_');
  });
});

describe('launchd plist', () => {
  const opts: ServiceOptions = { platform: 'darwin', scope: 'system', command: ['/usr/local/bin/palisade'], interval: '1h' };
  const text = launchdPlist(opts);
  it.skipIf(!hasXmllint)('is well-formed XML with the plist DOCTYPE', () => {
    const f = path.join(tmp, 'com.palisade.agent.plist');
    writeFileSync(f, text);
    const r = spawnSync('xmllint', ['--noout', f], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(text).toContain('<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"');
  });
  it.skipIf(!hasPython)("reads as a property list with the LaunchDaemon keys (plistlib, plutil's format)", () => {
    const r = spawnSync('python3', ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], {
      input: text,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.Label).toBe('com.palisade.agent');
    expect(p.ProgramArguments).toEqual([
      '/usr/local/bin/palisade',
      'agent',
      'run',
      '--interval',
      '1h',
      '--splay',
      '5m',
      '--all-users',
      '--config',
      '/Library/Application Support/Palisade/agent.json',
    ]);
    expect(p.RunAtLoad).toBe(true);
    expect(p.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(p.ProcessType).toBe('Background');
    expect(p.Umask).toBe(0o077);
    expect(p.StandardErrorPath).toBe('/Library/Logs/Palisade/agent.log');
    expect(p.EnvironmentVariables.PALISADE_STATE_DIR).toBe('/Library/Application Support/Palisade/state');
    expect(p.UserName).toBeUndefined();
    expect(serviceFile(opts).path).toBe('/Library/LaunchDaemons/com.palisade.agent.plist');
  });
  it('escapes XML in arguments', () => {
    expect(launchdPlist({ ...opts, command: ['/Apps/a&b <x>/palisade'] })).toContain('<string>/Apps/a&amp;b &lt;x&gt;/palisade</string>');
  });
});

describe('Windows scheduled task XML', () => {
  const opts: ServiceOptions = { platform: 'win32', scope: 'system', command: ['C:\\Program Files\\Palisade\\palisade.exe'], interval: '1h' };
  const text = windowsTaskXml(opts, new Date('2026-12-01T10:00:00Z'));

  it.skipIf(!hasXmllint)('is written as UTF-16 with a BOM, well-formed, in the Task Scheduler namespace', () => {
    const out = path.join(tmp, 'winroot');
    const r = cli(['agent', 'install', '--platform', 'win32', '--root', out, '--binary', 'C:\\Program Files\\Palisade\\palisade.exe']);
    expect(r.status, r.stderr).toBe(0);
    const f = path.join(out, 'C/ProgramData/Palisade/palisade-agent-task.xml');
    const raw = readFileSync(f);
    expect([...raw.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    const lint = spawnSync('xmllint', ['--noout', f], { encoding: 'utf8' });
    expect(lint.status, lint.stderr).toBe(0);
    const xpath = (expr: string) => spawnSync('xmllint', ['--xpath', expr, f], { encoding: 'utf8' }).stdout.trim();
    expect(xpath('namespace-uri(/*)')).toBe('http://schemas.microsoft.com/windows/2004/02/mit/task');
    expect(xpath("string(/*[local-name()='Task']/@version)")).toBe('1.4');
  });

  it("has the schema's elements in the schema's order, a least-privilege Users principal and the command", () => {
    const top = [...text.matchAll(/^ {2}<(\w+)[\s>]/gm)].map((m) => m[1]);
    expect(top).toEqual(['RegistrationInfo', 'Triggers', 'Principals', 'Settings', 'Actions']);
    const settings = text.slice(text.indexOf('<Settings>'), text.indexOf('</Settings>'));
    const order = [...settings.matchAll(/^ {4}<(\w+)>/gm)].map((m) => m[1]);
    const schemaOrder = [
      'AllowStartOnDemand',
      'RestartOnFailure',
      'MultipleInstancesPolicy',
      'DisallowStartIfOnBatteries',
      'StopIfGoingOnBatteries',
      'AllowHardTerminate',
      'StartWhenAvailable',
      'NetworkProfileName',
      'RunOnlyIfNetworkAvailable',
      'WakeToRun',
      'Enabled',
      'Hidden',
      'DeleteExpiredTaskAfter',
      'IdleSettings',
      'NetworkSettings',
      'ExecutionTimeLimit',
      'Priority',
      'RunOnlyIfIdle',
      'UseUnifiedSchedulingEngine',
      'DisallowStartOnRemoteAppSession',
    ];
    // the task schema's Settings is an xs:all: any order is valid, every element at most once
    expect(new Set(order).size).toBe(order.length);
    for (const e of order) expect(schemaOrder, e).toContain(e);
    expect(text).toContain('<GroupId>S-1-5-32-545</GroupId>');
    expect(text).toContain('<RunLevel>LeastPrivilege</RunLevel>');
    expect(text).not.toMatch(/S-1-5-18|HighestAvailable/); // never SYSTEM, never elevated
    expect(text).toContain('<Command>C:\\Program Files\\Palisade\\palisade.exe</Command>');
    expect(text).toContain('<Arguments>agent run --interval 1h --splay 5m --config C:\\ProgramData\\Palisade\\agent.json --log-file agent.log</Arguments>');
    expect(text).toContain('<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>');
    expect(text).toContain('<LogonTrigger>');
  });
});

describe('palisade agent install / status / uninstall (files under --root, nothing run)', () => {
  it('--dry-run prints the plan and never the key; --root writes the unit 0644 and the settings 0600; status and uninstall follow', () => {
    const keyFile = path.join(tmp, 'key');
    writeFileSync(keyFile, `${KEY}\n`);
    const exe = fakeBin();
    const dry = cli([
      'agent',
      'install',
      '--platform',
      'linux',
      '--dry-run',
      '--binary',
      exe,
      '--server',
      'https://palisade.example.com',
      '--api-key-file',
      keyFile,
    ]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('write /etc/systemd/system/palisade-agent.service (mode 0644)');
    expect(dry.stdout).toContain('write /etc/palisade/agent.json (mode 0600)');
    expect(dry.stdout).toContain('run systemctl enable --now palisade-agent.service');
    expect(dry.stdout + dry.stderr).not.toContain(KEY);
    expect(existsSync('/etc/systemd/system/palisade-agent.service')).toBe(false);

    const out = path.join(tmp, 'linroot');
    const inst = cli([
      'agent',
      'install',
      '--platform',
      'linux',
      '--root',
      out,
      '--binary',
      exe,
      '--server',
      'https://palisade.example.com',
      '--api-key-file',
      keyFile,
    ]);
    expect(inst.status, inst.stderr).toBe(0);
    const unit = path.join(out, 'etc/systemd/system/palisade-agent.service');
    const settings = path.join(out, 'etc/palisade/agent.json');
    expect(statSync(unit).mode & 0o777).toBe(0o644);
    expect(statSync(settings).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(settings, 'utf8'))).toEqual({ server: 'https://palisade.example.com', apiKey: KEY });

    const st = cli(['agent', 'status', '--platform', 'linux', '--root', out, '--json']);
    expect(st.status, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ installed: true, state: 'installed', config: '/etc/palisade/agent.json', spooled: 0 });

    const un = cli(['agent', 'uninstall', '--platform', 'linux', '--root', out, '--purge']);
    expect(un.status, un.stderr).toBe(0);
    expect(existsSync(unit)).toBe(false);
    expect(existsSync(settings)).toBe(false);
    expect(cli(['agent', 'status', '--platform', 'linux', '--root', out]).status).toBe(3);
  });

  it('refuses a key on a plain http URL that is not loopback, a bad interval, and another platform without --root/--print', () => {
    expect(cli(['agent', 'install', '--dry-run', '--platform', 'linux', '--server', 'http://palisade.example.com'], { PALISADE_API_KEY: KEY }).status).toBe(2);
    expect(cli(['agent', 'install', '--dry-run', '--interval', '5s']).status).toBe(2);
    expect(cli(['agent', 'install', '--platform', process.platform === 'darwin' ? 'win32' : 'darwin']).status).toBe(2);
  });

  it.skipIf(existsSync('/run/systemd/system'))('where systemd is not running (this container), install refuses with one line and writes nothing', () => {
    const keyFile = path.join(tmp, 'key-nosystemd');
    writeFileSync(keyFile, KEY);
    const h = path.join(tmp, 'homes', 'nosystemd');
    mkdirSync(h, { recursive: true });
    const r = cli(['agent', 'install', '--user', '--server', 'https://palisade.example.com', '--api-key-file', keyFile], { HOME: h, PALISADE_STATE_DIR: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('systemd is not running on this machine');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain(KEY);
    expect(readdirSync(h)).toEqual([]);
  });

  it('plans launchctl and schtasks commands for the other platforms', () => {
    expect(installPlan({ platform: 'darwin', scope: 'system', command: ['/usr/local/bin/palisade'], interval: '1h' }).commands).toContainEqual([
      'launchctl',
      'bootstrap',
      'system',
      '/Library/LaunchDaemons/com.palisade.agent.plist',
    ]);
    expect(installPlan({ platform: 'win32', scope: 'system', command: ['palisade.exe'], interval: '1h' }).commands).toContainEqual([
      'schtasks',
      '/Create',
      '/TN',
      '\\Palisade\\Agent',
      '/XML',
      'C:\\ProgramData\\Palisade\\palisade-agent-task.xml',
      '/F',
    ]);
  });
});

describe('palisade agent run (the service loop) against a fake backend on loopback', () => {
  let server: http.Server;
  let url: string;
  const received: Array<{ key?: string; user: string; hostname: string; servers: string[] }> = [];
  let down = false;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (down) {
          res.statusCode = 503;
          return res.end('{}');
        }
        // a backend of protocol v1 only: the agent's v2 offer gets a 404 and the agent sends the
        // whole report (the service loop is what these tests are about; v2 has tests of its own)
        if (req.url !== '/api/v1/agent/report') {
          res.statusCode = 404;
          return res.end('{"error":{"code":"not_found","message":"no such route"}}');
        }
        const r = JSON.parse(body);
        received.push({
          key: req.headers['x-api-key'] as string,
          user: r.host.user,
          hostname: r.host.hostname,
          servers: r.servers.map((s: { name: string }) => s.name).sort(),
        });
        res.statusCode = 202;
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  function home(name: string, servers: Record<string, unknown>): string {
    const h = path.join(tmp, 'homes', name);
    mkdirSync(h, { recursive: true });
    writeFileSync(path.join(h, '.claude.json'), JSON.stringify({ mcpServers: servers }));
    return h;
  }
  function settings(): string {
    const f = path.join(tmp, `agent-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify({ server: url, apiKey: KEY }), { mode: 0o600 });
    return f;
  }

  it('reports every user at start, and once (debounced) soon after three quick writes to a watched config file', async () => {
    received.length = 0;
    const alice = home('alice', { files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/tmp'] } });
    const bob = home('bob', { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } });
    const stop = new AbortController();
    const rounds: string[] = [];
    const env = { ...process.env, PALISADE_STATE_DIR: path.join(tmp, 'state-run') };
    const done = runService({
      intervalMs: 60 * 60_000,
      configFile: settings(),
      homes: [
        { home: alice, user: 'alice' },
        { home: bob, user: 'bob' },
      ],
      platform: 'linux',
      debounceMs: 300,
      minGapMs: 0,
      signal: stop.signal,
      env,
      log: () => {},
      onRound: (r) => {
        rounds.push(r.reason);
      },
    });
    await expect.poll(() => rounds.length, { timeout: 20_000 }).toBe(1);
    expect(received.map((r) => r.user).sort()).toEqual(['alice', 'bob']);
    expect(received.every((r) => r.key === KEY)).toBe(true);
    // three quick writes to a watched file: one change round after the debounce
    const f = path.join(alice, '.claude.json');
    for (let i = 0; i < 3; i++) {
      writeFileSync(
        f,
        JSON.stringify({
          mcpServers: {
            files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/tmp'] },
            [`new${i}`]: { command: 'bash', args: ['-c', 'echo hi'] },
          },
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    await expect.poll(() => rounds.length, { timeout: 20_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 1000));
    stop.abort();
    await done;
    expect(rounds).toEqual(['start', 'change']);
    const aliceReports = received.filter((r) => r.user === 'alice');
    expect(aliceReports.at(-1)!.servers).toEqual(['files', 'new2']);
  });

  it('with the backend down, the spool stays within its bound and everything waiting is sent once it is back', async () => {
    received.length = 0;
    down = true;
    const h = home('carol', { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } });
    const state = path.join(tmp, 'state-down');
    const cfg = settings();
    const env = { ...process.env, PALISADE_STATE_DIR: state };
    for (let i = 0; i < 5; i++) {
      await runService({
        intervalMs: 60_000,
        once: true,
        configFile: cfg,
        homes: [{ home: h, user: 'carol' }],
        platform: 'linux',
        signal: new AbortController().signal,
        env,
        log: () => {},
        spoolMaxFiles: 3,
      });
    }
    expect(readdirSync(path.join(state, 'spool')).filter((n) => n.endsWith('.json'))).toHaveLength(3);
    down = false;
    let last: { delivered: number; waiting: number } | undefined;
    await runService({
      intervalMs: 60_000,
      once: true,
      configFile: cfg,
      homes: [{ home: h, user: 'carol' }],
      platform: 'linux',
      signal: new AbortController().signal,
      env,
      log: () => {},
      spoolMaxFiles: 3,
      onRound: (r) => (last = r),
    });
    expect(last).toMatchObject({ delivered: 3, waiting: 0 });
    expect(received).toHaveLength(3);
  });

  it('--splay delays the first report by a random part of the splay; a stop during the splay ends at once', async () => {
    received.length = 0;
    const h = home('frank', { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } });
    const env = { ...process.env, PALISADE_STATE_DIR: path.join(tmp, 'state-splay') };
    const stop = new AbortController();
    const started = Date.now();
    let firstAt = 0;
    const done = runService({
      intervalMs: 3_600_000,
      splayMs: 2000,
      random: () => 0.5,
      configFile: settings(),
      homes: [{ home: h, user: 'frank' }],
      platform: 'linux',
      signal: stop.signal,
      env,
      log: () => {},
      watch: false,
      onRound: () => (firstAt ||= Date.now()),
    });
    await expect.poll(() => firstAt, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(firstAt - started).toBeGreaterThanOrEqual(950);
    stop.abort();
    await done;
    const stop2 = new AbortController();
    const t0 = Date.now();
    const p2 = runService({
      intervalMs: 3_600_000,
      splayMs: 600_000,
      random: () => 1,
      configFile: settings(),
      homes: [],
      platform: 'linux',
      signal: stop2.signal,
      env,
      log: () => {},
    });
    setTimeout(() => stop2.abort(), 100);
    expect(await p2).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('re-reads the settings every round: a rotated key is used from the next scheduled round, no restart', async () => {
    received.length = 0;
    const h = home('gina', { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } });
    const cfg = settings();
    const NEW_KEY = 'pal_RotatedKeyForServiceTests_9876543210';
    const stop = new AbortController();
    let rounds = 0;
    const done = runService({
      intervalMs: 1500,
      random: () => 0.5,
      configFile: cfg,
      homes: [{ home: h, user: 'gina' }],
      platform: 'linux',
      signal: stop.signal,
      env: { ...process.env, PALISADE_STATE_DIR: path.join(tmp, 'state-rotate') },
      log: () => {},
      watch: false,
      onRound: () => {
        rounds++;
        if (rounds === 1) writeFileSync(cfg, JSON.stringify({ server: url, apiKey: NEW_KEY }));
      },
    });
    await expect.poll(() => rounds, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    stop.abort();
    await done;
    expect(received.slice(0, 2).map((r) => r.key)).toEqual([KEY, NEW_KEY]);
  });

  it("reads the machine's regular users from passwd (uid 1000+, a login shell, an existing home)", () => {
    const passwd = path.join(tmp, 'passwd');
    const h = path.join(tmp, 'homes', 'dave');
    mkdirSync(h, { recursive: true });
    writeFileSync(
      passwd,
      [
        'root:x:0:0:root:/root:/bin/bash',
        `dave:x:1000:1000::${h}:/bin/bash`,
        'svc:x:1001:1001::/nonexistent:/bin/bash',
        `sys:x:1002:1002::${h}:/usr/sbin/nologin`,
        'nobody:x:65534:65534::/:/usr/sbin/nologin',
      ].join('\n'),
    );
    expect(userHomes('linux', passwd)).toEqual([{ home: h, user: 'dave' }]);
  });

  it("macOS LaunchDaemon: every person's folder in /Users, not Shared, Guest or hidden ones", () => {
    const users = path.join(tmp, 'Users');
    for (const n of ['alice', 'bob', 'Shared', 'Guest', '.localized-dir']) mkdirSync(path.join(users, n), { recursive: true });
    writeFileSync(path.join(users, '.localized'), '');
    expect(userHomes('darwin', '/nonexistent', users).sort((a, b) => a.user.localeCompare(b.user))).toEqual([
      { home: path.join(users, 'alice'), user: 'alice' },
      { home: path.join(users, 'bob'), user: 'bob' },
    ]);
  });

  it('`palisade agent run --once` through the CLI: exit 0 when delivered, settings from --config', async () => {
    received.length = 0;
    const h = home('erin', { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } });
    // asynchronous: the fake backend answers from this same process
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [bin, 'agent', 'run', '--once', '--config', settings()], {
        env: { ...process.env, HOME: h, PALISADE_STATE_DIR: path.join(tmp, 'state-cli') },
      });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (status) => resolve({ status, stderr }));
    });
    expect(r.status, r.stderr).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]!.servers).toEqual(['time']);
  });
  it("managed settings (the MDM path of the OS) win over the user's own file and PALISADE_* variables; --config wins over both", async () => {
    const state = path.join(tmp, 'state-managed');
    mkdirSync(state, { recursive: true });
    // the user's own file, as `palisade configure` writes it
    writeFileSync(path.join(state, 'agent.json'), JSON.stringify({ server: 'https://user.example.com', apiKey: KEY }));
    const managed = path.join(tmp, 'managed', 'agent.json');
    const MANAGED_KEY = 'pal_ManagedKeyFromTheMdmProfile_0123456789';
    const env = { PALISADE_SERVER: 'https://env.example.com', PALISADE_API_KEY: KEY };
    // no managed file yet: the variables, then the user's file
    expect((await serviceTarget(undefined, env, 'linux', state, managed)).server).toBe('https://env.example.com');
    expect((await serviceTarget(undefined, {}, 'linux', state, managed)).server).toBe('https://user.example.com');
    mkdirSync(path.dirname(managed), { recursive: true });
    writeFileSync(managed, JSON.stringify({ server: 'https://managed.example.com', apiKey: MANAGED_KEY }), { mode: 0o600 });
    expect(await serviceTarget(undefined, env, 'linux', state, managed)).toEqual({ server: 'https://managed.example.com', apiKey: MANAGED_KEY });
    expect(await serviceTarget(undefined, {}, 'linux', state, managed)).toEqual({ server: 'https://managed.example.com', apiKey: MANAGED_KEY });
    const explicit = settings();
    expect((await serviceTarget(explicit, env, 'linux', state, managed)).server).toBe(url);
    // a broken managed file is a clear error naming the file, never the user's settings silently
    writeFileSync(managed, '{"server": 1');
    await expect(serviceTarget(undefined, env, 'linux', state, managed)).rejects.toThrow(`Cannot read the agent settings in ${managed}`);
    // the service loop reports with the managed settings
    received.length = 0;
    writeFileSync(managed, JSON.stringify({ server: url, apiKey: MANAGED_KEY }));
    const h = home('hana', { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } });
    await runService({
      intervalMs: 60_000,
      once: true,
      managedConfig: managed,
      homes: [{ home: h, user: 'hana' }],
      platform: 'linux',
      signal: new AbortController().signal,
      env: { ...process.env, PALISADE_STATE_DIR: state, PALISADE_SERVER: 'https://env.example.com', PALISADE_API_KEY: KEY },
      log: () => {},
    });
    expect(received.map((r) => r.key)).toEqual([MANAGED_KEY]);
  });

  it('--log-file: timestamped lines in a 0600 file, bounded to one older file; the Windows task logs to agent.log in the state folder', () => {
    const file = path.join(tmp, 'logs', 'agent.log');
    const log = fileLog(file, 200);
    for (let i = 0; i < 12; i++) log(`round ${i}: 1 scan(s), 1 report(s) sent`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).size).toBeLessThan(200 + 80);
    expect(statSync(`${file}.1`).size).toBeLessThan(200 + 80);
    expect(readdirSync(path.dirname(file)).sort()).toEqual(['agent.log', 'agent.log.1']);
    expect(readFileSync(file, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z palisade: round \d+/);
    expect(readFileSync(file, 'utf8')).toContain('round 11:');
    const task = windowsTaskXml({ platform: 'win32', scope: 'system', command: ['palisade.exe'], interval: '1h' });
    expect(task).toContain('--log-file agent.log</Arguments>');
    expect(systemdUnit({ platform: 'linux', scope: 'system', command: ['/usr/local/bin/palisade'], interval: '1h' })).not.toContain('--log-file');
  });

  it('`agent run --log-file` through the CLI writes its rounds there, not to stderr', async () => {
    received.length = 0;
    const h = home('ivan', { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } });
    const state = path.join(tmp, 'state-logfile');
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [bin, 'agent', 'run', '--once', '--config', settings(), '--log-file', 'agent.log'], {
        env: { ...process.env, HOME: h, PALISADE_STATE_DIR: state },
      });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (status) => resolve({ status, stderr }));
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(path.join(state, 'agent.log'), 'utf8')).toMatch(/palisade: start: 1 scan\(s\), 1 report\(s\) sent to http:\/\/127\.0\.0\.1/);
    expect(readFileSync(path.join(state, 'agent.log'), 'utf8')).not.toContain(KEY);
  });

  it("install --user writes the settings to configure's own file (not the managed path) and --splay 0 drops the splay", () => {
    const keyFile = path.join(tmp, 'key-user');
    writeFileSync(keyFile, KEY);
    const h = path.join(tmp, 'homes', 'judy');
    mkdirSync(h, { recursive: true });
    const out = path.join(tmp, 'userroot');
    const r = cli(
      [
        'agent',
        'install',
        '--user',
        '--platform',
        'linux',
        '--root',
        out,
        '--binary',
        '/opt/palisade',
        '--splay',
        '0',
        '--server',
        url,
        '--api-key-file',
        keyFile,
      ],
      {
        HOME: h,
        PALISADE_STATE_DIR: '',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const unit = readFileSync(path.join(out, h, '.config/systemd/user/palisade-agent.service'), 'utf8');
    expect(unit).toContain('ExecStart=/opt/palisade agent run --interval 1h\n');
    const file = path.join(out, h, '.local/state/palisade/agent.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: url, apiKey: KEY });
    expect(existsSync(path.join(out, 'etc/palisade/agent.json'))).toBe(false);
    expect(cli(['agent', 'install', '--user', '--dry-run', '--splay', '3s']).status).toBe(2);
  });

  it.skipIf(noUserManager !== null)(
    `a real systemd --user runs the installed --user unit: it reports at once, status says active, uninstall stops it${noUserManager ? ` (skipped: ${noUserManager})` : ''}`,
    async () => {
      received.length = 0;
      const h = path.join(tmp, 'homes', 'kim');
      mkdirSync(h, { recursive: true });
      writeFileSync(path.join(h, '.claude.json'), JSON.stringify({ mcpServers: { time: { command: 'uvx', args: ['mcp-server-time==2025.8.4'] } } }));
      const keyFile = path.join(tmp, 'key-kim');
      writeFileSync(keyFile, KEY, { mode: 0o600 });
      const um = await startUserManager({ home: h, hostname: 'palisade-user-unit', runtimeDir: path.join(tmp, 'run-kim'), path: '/usr/bin:/bin' });
      try {
        const palisade = [process.execPath, bin];
        const inst = await um.run([...palisade, 'agent', 'install', '--user', '--splay', '0', '--server', url, '--api-key-file', keyFile]);
        expect(inst.code, inst.stderr).toBe(0);
        expect(inst.stdout).toContain(`agent service installed (${h}/.config/systemd/user/palisade-agent.service)`);
        await expect
          .poll(() => received.filter((r) => r.hostname === 'palisade-user-unit').length, { timeout: 45_000, interval: 250 })
          .toBeGreaterThanOrEqual(1);
        expect(received[0]).toMatchObject({ key: KEY, servers: ['time'] });
        const st = await um.run([...palisade, 'agent', 'status', '--user', '--json']);
        expect(st.code, st.stderr).toBe(0);
        expect(JSON.parse(st.stdout)).toMatchObject({ installed: true, state: 'active', config: `${h}/.local/state/palisade/agent.json`, spooled: 0 });
        const un = await um.run([...palisade, 'agent', 'uninstall', '--user']);
        expect(un.code, un.stderr).toBe(0);
        expect(existsSync(path.join(h, '.config/systemd/user/palisade-agent.service'))).toBe(false);
        const active = await um.run(['systemctl', '--user', 'is-active', 'palisade-agent.service']);
        expect(active.stdout.trim()).not.toBe('active');
        const st2 = await um.run([...palisade, 'agent', 'status', '--user']);
        expect(st2.code).toBe(3);
      } finally {
        await um.stop();
      }
    },
    120_000,
  );
});
