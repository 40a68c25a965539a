// The gateway's commands, registered on the `palisade` program by the CLI package (loaded
// lazily, so `palisade scan` never loads this):
//   palisade gateway --config FILE [--host H] [--port P] [--stdio]
//   palisade gateway check --config FILE
//   palisade gateway approve --config FILE TOOL | --all
//   palisade gateway token create --config FILE --name N [--virtual-server V] [--expires-in DAYS]
//   palisade guard [--config FILE] [--pass-env NAMES] -- COMMAND ARGS...
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { newToken } from './auth.js';
import { ConfigError, DEFAULT_LIMITS, loadConfig, type GatewayConfig } from './config.js';
import { Gateway } from './gateway.js';
import { federatedName } from './naming.js';
import { startGateway, type RunningGateway } from './run.js';
import { GatewayStore } from './store.js';
import { sha256 } from '@palisade/core';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env: process.env };

function fail(io: Io, err: unknown): number {
  if (err instanceof ConfigError) {
    io.err(`palisade gateway: ${err.message}\n`);
    return 2;
  }
  io.err(`palisade gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

function waitForStop(running: RunningGateway): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().finally(() => resolve(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (!process.stdin.isTTY) process.stdin.once('end', () => undefined);
  });
}

/** Add `gateway` and `guard` to a commander program. Actions set `process.exitCode`. */
export function registerGatewayCommands(program: Command, io: Io = defaultIo): void {
  const gateway = program
    .command('gateway')
    .description('Run the MCP gateway: one authenticated endpoint in front of your MCP servers, enforcing Palisade policy')
    .option('--config <file>', 'gateway config (YAML or JSON)')
    .option('--host <host>', 'address to bind (default from the config, else 127.0.0.1)')
    .option('--port <port>', 'port (default from the config, else 8090)', (v) => parsePort(v))
    .option('--stdio', 'serve one client over this process’s stdin/stdout instead of HTTP')
    .action(async (opts: { config?: string; host?: string; port?: number; stdio?: boolean }) => {
      process.exitCode = await gatewayServe(opts, io);
    });

  gateway
    .command('check')
    .description('Validate the config, connect the upstreams and list what the gateway would expose')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      // --config belongs to `gateway` (commander reads it before or after the subcommand)
      const opts = cmd.optsWithGlobals<{ config?: string; json?: boolean }>();
      process.exitCode = opts.config ? await gatewayCheck({ ...opts, config: opts.config }, io) : needConfig(io, 'check');
    });

  gateway
    .command('approve')
    .description('Release a quarantined (changed) or risk-blocked tool at its current definition')
    .option('--all', 'approve every quarantined or blocked tool')
    .argument('[tool]', 'federated tool name, e.g. everything__echo')
    .action(async (tool: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; all?: boolean }>();
      process.exitCode = opts.config ? await gatewayApprove(tool, { ...opts, config: opts.config }, io) : needConfig(io, 'approve');
    });

  const token = gateway.command('token').description('Manage gateway tokens');
  token
    .command('create')
    .description('Create a gateway token (printed once; only its SHA-256 is stored)')
    .requiredOption('--name <name>', 'who or what the token is for')
    .option('--virtual-server <name...>', 'limit the token to these virtual servers')
    .option('--expires-in <days>', 'expire after this many days', (v) => Number(v))
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; name: string; virtualServer?: string[]; expiresIn?: number }>();
      process.exitCode = opts.config ? await gatewayTokenCreate({ ...opts, config: opts.config }, io) : needConfig(io, 'token create');
    });

  program
    .command('guard')
    .description('Run one stdio MCP server behind the gateway policy, speaking stdio to the client')
    .option('--config <file>', 'gateway config whose policy, limits and store to use')
    .option('--pass-env <names>', 'comma-separated environment variables the server may see (besides PATH, HOME, ...)')
    .argument('<command...>', 'the server command and its arguments (after --)')
    .action(async (command: string[], opts: { config?: string; passEnv?: string }) => {
      process.exitCode = await guardServe(command, opts, io);
    });
}

function needConfig(io: Io, sub: string): number {
  io.err(`palisade gateway ${sub}: give the config file with --config FILE.\n`);
  return 2;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderError(2, 'palisade.port', `--port must be a number from 0 to 65535, not "${v}".`);
  return n;
}

async function gatewayServe(opts: { config?: string; host?: string; port?: number; stdio?: boolean }, io: Io): Promise<number> {
  if (!opts.config) {
    io.err('palisade gateway: give the config file with --config FILE (see docs/gateway.md for an example).\n');
    return 2;
  }
  try {
    const running = await startGateway(opts.config, {
      host: opts.host,
      port: opts.port,
      stdio: opts.stdio,
      warn: (m) => io.err(`palisade gateway: ${m}\n`),
      env: io.env,
    });
    if (running.url) io.err(`palisade gateway: listening on ${running.url} (also /servers/<virtual>/mcp, /sse)\n`);
    return await waitForStop(running);
  } catch (err) {
    return fail(io, err);
  }
}

async function gatewayCheck(opts: { config: string; json?: boolean }, io: Io): Promise<number> {
  let cfg: GatewayConfig;
  try {
    cfg = await loadConfig(opts.config, io.env);
  } catch (err) {
    return fail(io, err);
  }
  const store = new GatewayStore(cfg.store);
  const gw = new Gateway(cfg, store, { env: io.env });
  try {
    await gw.start();
    const upstreams = [...gw.upstreams.values()].map((s) => ({
      name: s.cfg.name,
      transport: s.cfg.transport,
      up: s.up,
      error: s.error,
      level: s.level,
      blocked: s.blocked,
      isolation: s.cfg.isolation ?? 'shared',
      ...(s.cfg.isolation === 'per-user' ? { maxInstances: s.cfg.maxInstances ?? 50 } : {}),
      // per-user OAuth: nothing connects before a user authorizes (tokens are in the store, per user)
      ...(s.cfg.auth ? { oauth: true } : {}),
    }));
    const tools = gw.catalog();
    if (opts.json) io.out(JSON.stringify({ config: cfg.path, upstreams, tools, collisions: gw.collisions }, null, 2) + '\n');
    else {
      io.out(`${cfg.path}: valid\n\nUpstreams:\n`);
      for (const u of upstreams)
        io.out(
          `  ${u.name} (${u.transport}${u.isolation === 'per-user' ? `, per-user, at most ${u.maxInstances} instances` : ''}) ${u.up ? 'connected' : u.oauth ? 'per-user OAuth: each user authorizes at /oauth/upstreams/' + u.name + '/authorize; tools are read with the first authorized user' : `UNAVAILABLE: ${u.error}`}; risk ${u.level}${u.blocked ? ' -> BLOCKED' : ''}\n`,
        );
      io.out(`\nTools (${tools.length}):\n`);
      for (const t of tools)
        io.out(
          `  ${t.status === 'ok' ? 'ok         ' : t.status.toUpperCase().padEnd(11)} ${t.federated}  [${t.level}]${t.reason ? `\n               ${t.reason}` : ''}\n`,
        );
      if (gw.collisions.length) io.out(`\nName collisions:\n${gw.collisions.map((c) => `  ${c}\n`).join('')}`);
    }
    const down = upstreams.filter((u) => !u.up && !u.oauth).length;
    return down > 0 || gw.collisions.length > 0 ? 1 : 0;
  } catch (err) {
    return fail(io, err);
  } finally {
    await gw.close();
    store.close();
  }
}

async function gatewayApprove(tool: string | undefined, opts: { config: string; all?: boolean }, io: Io): Promise<number> {
  if (!tool && !opts.all) {
    io.err('palisade gateway approve: name the tool (e.g. everything__echo) or give --all.\n');
    return 2;
  }
  let cfg: GatewayConfig;
  try {
    cfg = await loadConfig(opts.config, io.env);
  } catch (err) {
    return fail(io, err);
  }
  const store = new GatewayStore(cfg.store);
  try {
    const targets = opts.all
      ? store
          .listTools()
          .filter((t) => t.status !== 'ok')
          .map((t) => t.federated)
      : [tool!];
    if (targets.length === 0) {
      io.out('Nothing is quarantined or blocked.\n');
      return 0;
    }
    let missing = 0;
    for (const t of targets) {
      const done = store.approve(t);
      if (done) {
        io.out(`${t}: ${done}\n`);
        store.audit({
          at: new Date().toISOString(),
          kind: 'policy',
          principal: `cli:${os.userInfo().username}`,
          virtualServer: null,
          upstream: null,
          tool: t,
          argHash: null,
          decision: 'approved',
          reason: done,
          latencyMs: null,
          resultBytes: null,
          detail: null,
        });
      } else {
        io.err(`palisade gateway approve: the gateway has not seen a tool named ${t}; run palisade gateway check --config ${opts.config} to list them.\n`);
        missing++;
      }
    }
    return missing ? 1 : 0;
  } finally {
    store.close();
  }
}

async function gatewayTokenCreate(opts: { config: string; name: string; virtualServer?: string[]; expiresIn?: number }, io: Io): Promise<number> {
  let cfg: GatewayConfig;
  try {
    cfg = await loadConfig(opts.config, io.env);
  } catch (err) {
    return fail(io, err);
  }
  for (const v of opts.virtualServer ?? []) {
    if (!cfg.virtualServers.has(v)) {
      io.err(`palisade gateway token create: there is no virtual server "${v}" in ${cfg.path}.\n`);
      return 2;
    }
  }
  if (opts.expiresIn !== undefined && !(opts.expiresIn > 0)) {
    io.err('palisade gateway token create: --expires-in takes a positive number of days.\n');
    return 2;
  }
  const store = new GatewayStore(cfg.store);
  try {
    const t = newToken();
    const expiresAt = opts.expiresIn ? new Date(Date.now() + opts.expiresIn * 86_400_000).toISOString() : undefined;
    store.addToken(opts.name, t.sha256, t.prefix, opts.virtualServer, expiresAt);
    io.out(`${t.token}\n`);
    io.err(
      `Created token "${opts.name}" (${t.prefix}…)${opts.virtualServer ? ` for ${opts.virtualServer.join(', ')}` : ' for every virtual server'}${expiresAt ? `, expires ${expiresAt}` : ''}. It is shown once; only its SHA-256 is stored.\n`,
    );
    if (!cfg.auth) io.err(`Note: ${cfg.path} has no "auth" section, so the gateway does not ask for tokens yet; add "auth: {}" to require them.\n`);
    return 0;
  } finally {
    store.close();
  }
}

async function guardServe(command: string[], opts: { config?: string; passEnv?: string }, io: Io): Promise<number> {
  if (command.length === 0) {
    io.err('palisade guard: give the server command after --, e.g. palisade guard -- npx -y @modelcontextprotocol/server-filesystem ~/work\n');
    return 2;
  }
  let base: GatewayConfig | undefined;
  try {
    if (opts.config) base = await loadConfig(opts.config, io.env);
  } catch (err) {
    return fail(io, err);
  }
  const env: Record<string, string> = {};
  for (const name of (opts.passEnv ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const v = io.env[name];
    if (v !== undefined) env[name] = v;
  }
  const name = federatedName('', path.basename(command[0]!).replace(/\.(cmd|exe|js)$/i, '') || 'server', {}).slice(0, 32);
  const cfg: GatewayConfig = {
    path: base?.path ?? '(palisade guard)',
    listen: { host: '127.0.0.1', port: 0, allowedOrigins: [] },
    store: base?.store ?? path.join(io.env.HOME ?? os.homedir(), '.palisade', 'guard', sha256(command.join('\0')).slice(0, 16)),
    // the guarded server keeps its own tool names (no prefix): it replaces the server in the
    // client's config, whose approvals and prompts name those tools
    upstreams: new Map([
      [
        name,
        {
          name,
          transport: 'stdio',
          command: command[0]!,
          args: command.slice(1),
          env,
          envNames: Object.keys(env),
          headers: {},
          headerNames: [],
          allowPrivateAddress: false,
          prefix: '',
          rename: {},
          timeoutMs: 60_000,
          protocol: 'legacy',
          disabled: false,
        },
      ],
    ]),
    virtualServers: new Map(),
    policy: base?.policy ?? {
      blockLevel: 'high',
      pinning: true,
      stripHiddenText: true,
      redactSecretsInResults: false,
      allowUpstreams: [],
      allowTools: [],
      relistIntervalMs: 0,
    },
    limits: base?.limits ?? DEFAULT_LIMITS,
    audit: base?.audit ?? { logPayloads: false },
    admin: { enabled: false },
  };
  try {
    const running = await startGateway(cfg, { stdio: true, warn: (m) => io.err(`palisade guard: ${m}\n`), env: io.env });
    const code = await new Promise<number>((resolve) => {
      const stop = () => void running.close().finally(() => resolve(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stdin.once('end', stop);
      process.stdin.once('close', stop);
    });
    return code;
  } catch (err) {
    return fail(io, err);
  }
}

/** Standalone entry: `runGatewayCommand(['gateway', 'check', '--config', 'f.yaml'])`. */
export async function runGatewayCommand(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = new Command('palisade').exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  registerGatewayCommands(program, io);
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return fail(io, err);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** `palisade guard -- CMD ...` as a function. */
export function runGuardCommand(argv: string[], io: Io = defaultIo): Promise<number> {
  return runGatewayCommand(['guard', ...argv], io);
}
