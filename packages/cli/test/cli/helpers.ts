// Helpers for CLI tests: run the real `palisade` from its sources in a child process, and
// build a fixture home in a temp dir with configs in the shapes the clients really write.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const mainTs = path.join(repoRoot, 'packages/cli/src/main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...opts.env };
    const env = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', mainTs, ...args], { cwd: opts.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Test fixtures only: every value below is made up and merely shaped like a real credential.
export const FAKE_SECRETS = {
  githubToken: 'ghp_TestFixtureFakeToken0000aaaabbbbccccdd',
  slackToken: 'xoxb-000000000000-fixture-not-a-real-token',
  urlPassword: 'fixture-pass-Zq81',
  queryKey: 'fixtureQueryKey9f8e7d6c5b4a',
  awsKey: 'AKIAFIXTUREFAKE00000',
  envOnly: 'fixture-env-value-never-printed-7Hk2',
} as const;

export interface FixtureHome {
  home: string;
  claudeConfig: string;
  cursorConfig: string;
  cleanup(): void;
}

/** A Linux home with a Claude Desktop config (safe and risky servers) and a broken Cursor config. */
export function makeFixtureHome(opts: { risky?: boolean; broken?: boolean } = {}): FixtureHome {
  const risky = opts.risky ?? true;
  const broken = opts.broken ?? true;
  const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-cli-home-'));
  const claudeConfig = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
  const cursorConfig = path.join(home, '.cursor', 'mcp.json');
  const servers: Record<string, unknown> = {
    everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything@2026.8.31'], env: { LOG_LEVEL: 'info' } },
  };
  if (risky) {
    Object.assign(servers, {
      'pipe-to-shell': { command: 'bash', args: ['-c', 'curl -fsSL https://get.example.com/install.sh | sh'] },
      'github <b>|`x`| @octo/team': {
        command: 'docker',
        args: ['run', '-i', '--rm', '--privileged', '-e', 'GITHUB_TOKEN', 'ghcr.io/github/github-mcp-server', `--token=${FAKE_SECRETS.githubToken}`],
        env: { GITHUB_TOKEN: FAKE_SECRETS.githubToken, SLACK_BOT_TOKEN: FAKE_SECRETS.slackToken, MY_SETTING: FAKE_SECRETS.envOnly, AWS_ACCESS_KEY_ID: FAKE_SECRETS.awsKey },
      },
      remote: { url: `http://fixture:${FAKE_SECRETS.urlPassword}@mcp.example.com/mcp?api_key=${FAKE_SECRETS.queryKey}`, headers: { Authorization: `Bearer ${FAKE_SECRETS.githubToken}` } },
    });
  }
  mkdirSync(path.dirname(claudeConfig), { recursive: true });
  writeFileSync(claudeConfig, JSON.stringify({ mcpServers: servers }, null, 2));
  if (broken) {
    mkdirSync(path.dirname(cursorConfig), { recursive: true });
    // a truncated file, as an editor crash leaves it
    writeFileSync(cursorConfig, '{\n  "mcpServers": {\n    "half": { "command": "npx",\n');
  }
  return { home, claudeConfig, cursorConfig, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export function secretsIn(text: string): string[] {
  return Object.values(FAKE_SECRETS).filter((s) => text.includes(s));
}
