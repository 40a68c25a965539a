// How `palisade` answers mistakes and questions: help, usage errors (exit 2, usage on stderr,
// no stack trace), `palisade rules`, and colour on a real terminal (a pty from script(1)).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '@palisade/core';
import { main } from '../../src/cli.js';
import { makeFixtureHome, repoRoot, runCli, type CliResult, type FixtureHome } from './helpers.js';

let fx: FixtureHome;
beforeAll(() => {
  fx = makeFixtureHome({ broken: false });
});
afterAll(() => fx.cleanup());

/** Run `main()` in this process, capturing what it writes. */
async function inProcess(argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const saved = process.exitCode;
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = saved;
  }
}

const noStack = (r: CliResult) => expect(r.stderr).not.toMatch(/\n\s+at .*:\d+/);

describe('help and usage errors', () => {
  it('prints help with no command, and help for scan lists every flag', async () => {
    const [bare, help] = await Promise.all([runCli([]), runCli(['scan', '--help'])]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/Usage: palisade/);
    expect(bare.stdout).toMatch(/scan/);
    expect(bare.stdout).toMatch(/rules/);
    expect(help.code).toBe(0);
    for (const flag of ['--json', '--sarif', '--markdown', '--output', '--fail-on', '--probe', '--probe-timeout', '--path', '--config', '--home', '--platform', '--no-color']) expect(help.stdout).toContain(flag);
  });

  it('exits 2 with usage on stderr for unknown flags, bad values and conflicting formats', async () => {
    const cases = [
      ['scan', '--bogus'],
      ['scan', '--json', '--sarif'],
      ['scan', '--fail-on', 'extreme'],
    ];
    const results = await Promise.all(cases.map((c) => runCli(c)));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]!.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/error/i);
      // one line and a hint, not the whole help
      expect(r.stderr).not.toMatch(/Usage:/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/run `palisade scan --help` to see what it accepts\.\n$/);
      noStack(r);
    });
    expect(results[1]!.stderr).toMatch(/cannot be used with/);
    expect(results[2]!.stderr).toMatch(/critical, high, medium, low/);
  });

  it('suggests the nearest flag or command for a typo, in the one line', async () => {
    const flag = await inProcess(['scan', '--jsn']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe("palisade: error: unknown option '--jsn' (did you mean --json?); run `palisade scan --help` to see what it accepts.\n");
    const cmd = await inProcess(['scna']);
    expect(cmd.stderr).toBe("palisade: error: unknown command 'scna' (did you mean scan?); run `palisade --help` to see what it accepts.\n");
    const sub = await inProcess(['advisories', 'sync', '--hom', '/tmp']);
    expect(sub.stderr).toMatch(/^palisade: error: unknown option '--hom' \(did you mean --home\?\); run `palisade advisories sync --help`/);
  });

  // The same parser in-process (one child process per case would make this file slow).
  it('answers every other bad value with exit 2 and a message on stderr', async () => {
    const cases = [
      ['scan', '--markdown', '--json'],
      ['scan', '--sarif', '--markdown'],
      ['scan', '--platform', 'beos'],
      ['scan', '--probe-timeout', '0'],
      ['scan', '--probe-timeout', 'soon'],
      ['scan', '--output'],
      ['frobnicate'],
      ['rules', 'a', 'b'],
    ];
    for (const c of cases) {
      const r = await inProcess(c);
      expect(r.code, `${c.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr, c.join(' ')).toMatch(/error/i);
    }
  });

  it('exits 2 with one clear sentence when --home does not exist', async () => {
    const r = await runCli(['scan', '--home', path.join(fx.home, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^palisade: the folder given to --home does not exist: .*Check the path/);
    noStack(r);
  });
});

describe('palisade rules', () => {
  it('lists every rule with its severity, explains one, and refuses an unknown id', async () => {
    const first = allRules[0]?.meta;
    const [list, unknown] = await Promise.all([runCli(['rules']), runCli(['rules', 'PAL-X999'])]);
    const one = await inProcess(['rules', first?.id.toLowerCase() ?? 'PAL-C001']);
    const json = await inProcess(['rules', '--json']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+SEVERITY\s+TITLE/);
    for (const r of allRules) expect(list.stdout).toMatch(new RegExp(`^${r.meta.id}\\s+${r.meta.severity}\\s`, 'm'));
    for (const line of list.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    if (first) {
      expect(one.code).toBe(0);
      expect(one.stdout).toContain(first.id);
      expect(one.stdout).toContain('Why it matters');
      expect(one.stdout).toContain('What to do');
    }
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no rule with the id "PAL-X999".*palisade rules/);
    expect(unknown.stdout).toBe('');
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(allRules.length);
  });
});

// script(1) gives the CLI a real terminal, the only honest way to see the TTY colour decision.
const hasScript = existsSync('/usr/bin/script');
describe.skipIf(!hasScript)('colour on a terminal', () => {
  const onTty = (extra: string, env: Record<string, string> = {}) => {
    const main = path.join(repoRoot, 'packages/cli/src/main.ts');
    const cmd = `${JSON.stringify(process.execPath)} --conditions=source --import tsx ${JSON.stringify(main)} scan --home ${JSON.stringify(fx.home)} --platform linux ${extra}`;
    const cleanEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') cleanEnv[k] = v;
    return spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { cwd: repoRoot, env: { ...cleanEnv, TERM: 'xterm', ...env }, encoding: 'utf8', timeout: 60_000 });
  };

  it('colours the table on a TTY, and not with NO_COLOR', () => {
    const tty = onTty('');
    expect(tty.status, tty.stderr).toBe(0);
    expect(tty.stdout).toContain('\u001b[');
    const noColorEnv = onTty('', { NO_COLOR: '1' });
    expect(noColorEnv.stdout).toContain('servers:');
    expect(noColorEnv.stdout).not.toContain('\u001b[');
  });
});
