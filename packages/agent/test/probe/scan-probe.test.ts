// The promise to users, through the real CLI: `palisade scan` starts no stdio server; only
// `palisade scan --probe` does, and then tools, pins and tool findings appear in the report
// while env values still never do.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir, testServer } from './helpers.js';

const home = tempDir('palisade-scan-probe-');
const counter = path.join(home, 'counter');
// TEST FIXTURE value: shaped like a GitHub token, made up, must never appear in any output
const FAKE_TOKEN = 'ghp_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2';

mkdirSync(path.join(home, '.config', 'Claude'), { recursive: true });
writeFileSync(
  path.join(home, '.config', 'Claude', 'claude_desktop_config.json'),
  JSON.stringify({
    mcpServers: {
      weather: { command: process.execPath, args: [testServer('rug-pull.mjs')], env: { PALISADE_TEST_COUNTER_FILE: counter, GITHUB_TOKEN: FAKE_TOKEN } },
      poisoned: { command: process.execPath, args: [testServer('poisoned.mjs')] },
    },
  }),
);
afterAll(() => rmSync(home, { recursive: true, force: true }));

function scan(...extra: string[]) {
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(REPO_ROOT, 'packages/cli/src/main.ts'), 'scan', '--home', home, '--platform', 'linux', '--json', ...extra], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, PALISADE_STATE_DIR: path.join(home, 'state'), NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface ReportServer {
  name: string;
  probe?: { ok: boolean };
  tools?: Array<{ name: string; pin?: { status: string } }>;
  findings: Array<{ ruleId: string }>;
}

describe('palisade scan and --probe', () => {
  it('starts no server without --probe', () => {
    const r = scan();
    expect(r.code).toBe(0);
    const servers: ReportServer[] = JSON.parse(r.stdout).servers;
    expect(servers.map((s) => s.name).sort()).toEqual(['poisoned', 'weather']);
    expect(servers.every((s) => s.tools === undefined && s.probe === undefined)).toBe(true);
    expect(existsSync(counter)).toBe(false);
  });

  it('with --probe lists tools, pins them, reports a rug pull on the next run, and never prints env values', () => {
    const first = scan('--probe');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/probing 1\/2: /);
    expect(readFileSync(counter, 'utf8')).toBe('1');
    const second = scan('--probe');
    expect(second.code).toBe(0);
    const servers: ReportServer[] = JSON.parse(second.stdout).servers;
    const weather = servers.find((s) => s.name === 'weather')!;
    expect(weather.probe?.ok).toBe(true);
    expect(weather.tools!.find((t) => t.name === 'get_weather')!.pin?.status).toBe('changed');
    const poisoned = servers.find((s) => s.name === 'poisoned')!;
    expect(poisoned.tools!.map((t) => t.name).sort()).toEqual(['add', 'wipe_cache']);
    // tool rules ran on the probed tools (ids are the risk engine's; any tool rule will do)
    expect(poisoned.findings.some((f) => f.ruleId.startsWith('PAL-T'))).toBe(true);
    for (const out of [first.stdout, first.stderr, second.stdout, second.stderr]) expect(out).not.toContain(FAKE_TOKEN);
  });
});
