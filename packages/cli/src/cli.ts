// The `palisade` command line. Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage
// or unexpected error. Only what `scan` needs is imported up front; probing, the backend and
// the other commands load their modules when they run, so the CLI starts fast.
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { levelRank, severityRank, type Level, type ScanReport } from '@palisade/core';
import { isPlatform, locationContext, scan, toHostPath, AGENT_VERSION, type ScanOptions } from '@palisade/agent';


import { render, writeJson, type OutputFormat } from './output/index.js';
import { registerRulesCommand } from './commands/rules.js';
import { registerPinsCommand } from './commands/pins.js';
import { registerAdvisoriesCommand } from './commands/advisories.js';
import { registerServeCommand } from './commands/serve.js';
import { registerReportCommands } from './commands/report.js';
import { registerGatewayCommands } from './commands/gateway.js';
import { registerAgentServiceCommands } from './commands/agent-service.js';

const FAIL_LEVELS = ['critical', 'high', 'medium', 'low'] as const;
type FailLevel = (typeof FAIL_LEVELS)[number];

export interface ScanFlags {
  json?: boolean;
  sarif?: boolean;
  markdown?: boolean;
  output?: string;
  failOn?: FailLevel;
  probe?: boolean;
  probeTimeout?: number;
  path?: string[];
  config?: string[];
  home?: string;
  platform?: 'darwin' | 'linux' | 'win32';
  color?: boolean;
}

/** A mistake in how palisade was called: printed as one sentence, exit code 2. */
export class UsageError extends Error {}

function parsePlatform(v: string): 'darwin' | 'linux' | 'win32' {
  if (!isPlatform(v)) throw new InvalidArgumentError('use darwin, linux or win32.');
  return v;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!/^\d+(?:\.\d+)?$/.test(v.trim()) || !Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('give a number of seconds between 1 and 3600.');
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function outputFormat(flags: Pick<ScanFlags, 'json' | 'sarif' | 'markdown'>): OutputFormat {
  if (flags.json) return 'json';
  if (flags.sarif) return 'sarif';
  if (flags.markdown) return 'markdown';
  return 'table';
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org) or --no-color is given. */
export function useColor(flags: Pick<ScanFlags, 'color' | 'output'>, env: NodeJS.ProcessEnv, stdoutIsTty: boolean): boolean {
  if (flags.color === false || flags.output) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stdoutIsTty;
}

/** The highest level anything in the report reaches: a server's level or any single finding. */
export function worstLevel(report: ScanReport): Level {
  let worst = 0;
  for (const s of report.servers) {
    worst = Math.max(worst, levelRank[s.level]);
    for (const f of s.findings) worst = Math.max(worst, severityRank[f.severity]);
  }
  for (const f of report.findings) worst = Math.max(worst, severityRank[f.severity]);
  return (Object.keys(levelRank) as Level[]).find((l) => levelRank[l] === worst) ?? 'none';
}

// sync file calls here, as in discovery: one stat or write, and a scan never loads fs/promises
function checkFolder(flag: string, dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`the folder given to ${flag} does not exist: ${dir}. Check the path and try again.`);
  }
  if (!st.isDirectory()) throw new UsageError(`${flag} needs a folder, but ${dir} is not one.`);
}

function writeReport(file: string, text: string): void {
  try {
    writeFileSync(file, text, { mode: 0o600 });
    // an existing file keeps its old mode on write: the report may name hosts and paths, so tighten it
    chmodSync(file, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : err instanceof Error ? err.message : String(err);
    throw new UsageError(`cannot write the report to ${file}: ${why}. Choose a writable file path for --output.`);
  }
}

export async function runScan(flags: ScanFlags): Promise<number> {
  if (flags.home !== undefined) checkFolder('--home', flags.home);
  const loc = locationContext({ platform: flags.platform, home: flags.home });
  // the one pipeline (packages/agent/src/scan.ts): versions, advisories and rules as `report` has them
  const opts: ScanOptions = { loc, paths: flags.path, configFiles: flags.config };
  const timeoutMs = Math.round((flags.probeTimeout ?? 15) * 1000);
  if (flags.probe) {
    opts.enrich = async (discovery) => {
      // the MCP SDK and child-process code load only when probing was asked for
      const { probeServers } = await import('@palisade/agent/probe');
      await probeServers(discovery, { timeoutMs, onProgress: (msg) => process.stderr.write(`palisade: ${msg}\n`) });
    };
  }
  const report = await scan(opts);
  const format = outputFormat(flags);
  // SARIF paths are relative to what was scanned: the (first) --path folder, else the home folder
  const root = flags.path?.length ? path.resolve(flags.path[0]!) : toHostPath(loc.home, loc.platform);
  if (format === 'json' && !flags.output) {
    // the same bytes as render(report, 'json'), written in pieces (see writeJson); when stdout
    // has nothing queued after a write (a file, a terminal, a pipe with room: Node wrote it at
    // once), the piece's bytes are free and writeJson may reuse its buffer
    writeJson(report, (piece) => {
      process.stdout.write(piece);
      return process.stdout.writableLength === 0;
    });
  } else {
    const text = render(report, format, { color: useColor(flags, process.env, Boolean(process.stdout.isTTY)), width: process.stdout.isTTY ? process.stdout.columns : 80, root });
    if (flags.output) {
      writeReport(flags.output, text);
      process.stderr.write(`palisade: report written to ${flags.output}\n`);
    } else process.stdout.write(text);
  }
  if (flags.failOn && levelRank[worstLevel(report)] >= levelRank[flags.failOn]) return 1;
  return 0;
}

/**
 * The whole command tree, or with `only: 'scan'` the scan command alone: what `palisade scan
 * ...` parses, prints as help and reports as usage errors is the same either way (none of it
 * involves the other commands), and the others' options and texts are not built on every scan.
 */
export function buildProgram(only?: 'scan'): Command {
  const program = new Command();
  program
    .name('palisade')
    .description('Find, judge and control the MCP servers your AI clients are wired to.')
    .version(AGENT_VERSION, '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(true);

  const formats = ['json', 'sarif', 'markdown'];
  const formatOption = (name: string, text: string) => new Option(`--${name}`, text).conflicts(formats.filter((f) => f !== name));
  program
    .command('scan')
    .description('discover every MCP server in the known AI clients on this machine and score its risk')
    .addOption(formatOption('json', 'print the scan as JSON (schema version 1)'))
    .addOption(formatOption('sarif', 'print SARIF 2.1.0 (for code-scanning dashboards)'))
    .addOption(formatOption('markdown', 'print Markdown (for pull-request comments)'))
    .option('-o, --output <file>', 'write the report to FILE (mode 0600) instead of standard output')
    .addOption(new Option('--fail-on <level>', 'exit 1 when a finding at or above LEVEL exists').choices(FAIL_LEVELS))
    .option('--probe', 'connect to each server and list its tools (starts stdio servers)')
    .addOption(new Option('--probe-timeout <seconds>', 'give up on one server after this long when probing').argParser(parseSeconds).default(15))
    .option('--path <dir>', 'also scan project folders below DIR (repeatable)', collect)
    .option('--config <file>', 'scan one config file of any known format (repeatable)', collect)
    .option('--home <dir>', "resolve every client's locations as if DIR were the home folder")
    .addOption(new Option('--platform <os>', 'resolve locations as on this OS: darwin, linux or win32').argParser(parsePlatform))
    .option('--no-color', 'no colours in the table (NO_COLOR is respected too)')
    .action(async (flags: ScanFlags) => {
      process.exitCode = await runScan(flags);
    });

  if (only !== 'scan') {
    registerRulesCommand(program);
    registerPinsCommand(program);
    registerAdvisoriesCommand(program);
    registerServeCommand(program);
    registerReportCommands(program);
    registerGatewayCommands(program);
    registerAgentServiceCommands(program);
  }
  usageErrorsAsOneLine(program);
  return program;
}

/**
 * The npm package (palisade-mcp) holds the scanner only: the backend and the gateway need
 * native database modules and are run from a checkout of the repository.
 */
function missingOptionalPart(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code !== 'MODULE_NOT_FOUND' && e?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const m = /['"](@palisade\/(?:server|gateway))['"]/.exec(e.message ?? '');
  if (!m) return undefined;
  const what = m[1] === '@palisade/server' ? 'the backend (palisade serve)' : 'the gateway';
  return `${what} is not part of the palisade-mcp package, which holds the scanner only; run it from a checkout of the Palisade repository (npm install, then node packages/cli/bin/palisade.js ${m[1] === '@palisade/server' ? 'serve' : 'gateway'} there).`;
}

/**
 * A usage error is one line (commander's message, with its "did you mean" folded in) and a hint
 * naming the help of the command that was misused, never the whole help text.
 */
export function usageErrorLine(message: string, commandPath: string): string {
  const lines = message
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const [first = 'error: the command line could not be read', ...rest] = lines;
  const suggestion = rest.map((l) => l.replace(/^\((.*)\)$/, '$1')).join(' ');
  const text = first.replace(/^error: /, '').replace(/\.$/, '');
  const hint = `run \`${commandPath} --help\` to see what it accepts`;
  return `palisade: error: ${text}${suggestion ? ` (${suggestion.charAt(0).toLowerCase()}${suggestion.slice(1)})` : ''}; ${hint}.\n`;
}

function usageErrorsAsOneLine(cmd: Command, parents: string[] = []): void {
  const names = [...parents, cmd.name()];
  const commandPath = names.join(' ');
  cmd.showHelpAfterError(false);
  cmd.configureOutput({ outputError: (str, write) => write(usageErrorLine(str, commandPath)) });
  for (const sub of cmd.commands) usageErrorsAsOneLine(sub, names);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv[0] === 'scan' ? 'scan' : undefined);
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; every usage error exits 2 (commander has printed it)
      return err.exitCode === 0 ? 0 : 2;
    }
    const missing = missingOptionalPart(err);
    if (missing) {
      process.stderr.write(`palisade: ${missing}\n`);
      return 2;
    }
    // one line, never a stack trace (commands throw errors whose message is the sentence to show)
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`palisade: ${message}\n`);
    return 2;
  }
}
