#!/usr/bin/env node
// Entry point of the Palisade GitHub Action (action.yml). Scans the checked-out repository's
// project MCP configs (.mcp.json, .cursor/mcp.json, .vscode/mcp.json, ...) with
// `palisade scan --path`, against an empty home folder so nothing of the runner's own user is
// read, and then:
//   - writes SARIF 2.1.0 (paths relative to the repository root) for code scanning;
//   - appends the Markdown summary to $GITHUB_STEP_SUMMARY;
//   - posts or updates one PR comment through the GitHub API, only when a token and a pull
//     request are there (a read-only token on a fork's PR gives a warning, not a failure);
//   - writes outputs (level, servers, findings, sarif-file, failed) to $GITHUB_OUTPUT.
// It exits 0 when the scan ran, also when findings reach --fail-on: `failed=true` in the
// outputs lets action.yml upload the SARIF first and fail the job after. Exit 2: usage error
// or the scan itself failed. No dependencies beyond Node (>= 20); the token is never printed.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FAIL_LEVELS = ['critical', 'high', 'medium', 'low'];
const COMMENT_MARKER = '<!-- palisade-mcp-scan -->';
/** The npm package that `npm run pack:npm` publishes (the binary in it is `palisade`). */
export const NPM_PACKAGE = 'palisade-mcp';
const COMMENT_LIMIT = 60_000; // GitHub's comment limit is 65,536 characters
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

class UsageError extends Error {}

const env = process.env;
const input = (name, fallback = '') => {
  const v = env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
};

/** The command that runs palisade: INPUT_PALISADE-COMMAND / PALISADE_CLI, else npx of this checkout's CLI package at its version. */
export function cliCommand() {
  const given = input('palisade-command') || env.PALISADE_CLI || '';
  if (given) {
    if (given.startsWith('[')) {
      const argv = JSON.parse(given);
      if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
        throw new UsageError('palisade-command: give a JSON array of strings or a command line.');
      return argv;
    }
    return given.split(/\s+/).filter(Boolean);
  }
  // the published CLI package (packages/cli/scripts/pack.mjs names it) at the version of the
  // checkout the action runs from
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'packages/cli/package.json'), 'utf8'));
  const version = input('palisade-version', pkg.version);
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version)) throw new UsageError(`palisade-version: "${version}" is not an exact version (x.y.z).`);
  return ['npx', '--yes', `${NPM_PACKAGE}@${version}`];
}

function runPalisade(argv, args) {
  const [cmd, ...pre] = argv;
  const r = spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...env, NO_COLOR: '1' } });
  if (r.error) throw new Error(`could not run ${cmd}: ${r.error.message}`);
  return r;
}

/** SARIF locations relative to the repository root, whatever sub-folder was scanned. */
export function rebaseSarif(sarif, workspace, scanned) {
  const prefix = path.relative(workspace, scanned).split(path.sep).join('/');
  for (const run of sarif.runs ?? []) {
    if (run.originalUriBaseIds?.['%SRCROOT%']) run.originalUriBaseIds['%SRCROOT%'].uri = `${new URL(`file://${workspace.split(path.sep).join('/')}/`).href}`;
    for (const result of run.results ?? []) {
      for (const loc of result.locations ?? []) {
        const art = loc.physicalLocation?.artifactLocation;
        if (art && art.uriBaseId === '%SRCROOT%' && prefix && !prefix.startsWith('..')) art.uri = `${prefix}/${art.uri}`;
      }
    }
  }
  return sarif;
}

function writeOutputs(values) {
  if (!env.GITHUB_OUTPUT) return;
  appendFileSync(
    env.GITHUB_OUTPUT,
    Object.entries(values)
      .map(([k, v]) => `${k}=${String(v).replace(/[\r\n]/g, ' ')}\n`)
      .join(''),
  );
}

/** The pull request number from the event payload, or null outside a pull request. */
export function pullRequestNumber() {
  if (!env.GITHUB_EVENT_PATH || !existsSync(env.GITHUB_EVENT_PATH)) return null;
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
    const n = event.pull_request?.number ?? (event.issue?.pull_request ? event.issue.number : undefined);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

async function api(method, url, token, body) {
  const res = await fetch(url, {
    method,
    redirect: 'error', // the token goes to the API host and nowhere else
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'palisade-action',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    const err = new Error(`GitHub API ${method} ${new URL(url).pathname} answered ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return text ? JSON.parse(text) : null;
}

/** Creates the comment, or updates the one this action wrote before on the same PR. */
export async function upsertComment({ apiUrl, repository, number, token, body }) {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) throw new Error('GITHUB_REPOSITORY is not owner/name');
  const base = `${apiUrl.replace(/\/+$/, '')}/repos/${repository}/issues`;
  let existing = null;
  for (let page = 1; page <= 10 && !existing; page++) {
    const list = await api('GET', `${base}/${number}/comments?per_page=100&page=${page}`, token);
    if (!Array.isArray(list) || list.length === 0) break;
    existing = list.find((c) => typeof c.body === 'string' && c.body.includes(COMMENT_MARKER)) ?? null;
    if (list.length < 100) break;
  }
  if (existing) {
    await api('PATCH', `${base}/comments/${existing.id}`, token, { body });
    return { action: 'updated', id: existing.id };
  }
  const created = await api('POST', `${base}/${number}/comments`, token, { body });
  return { action: 'created', id: created?.id };
}

export function commentBody(markdown, failOn, failed) {
  const verdict = failed ? `\n\n**Fails the check:** something reaches \`${failOn}\` or above.` : '';
  let text = `${COMMENT_MARKER}\n${markdown.trim()}${verdict}\n`;
  if (text.length > COMMENT_LIMIT) text = `${text.slice(0, COMMENT_LIMIT)}\n\n_(cut: the full report is in the job summary and the SARIF file)_\n`;
  return text;
}

export async function main() {
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());
  const scanned = path.resolve(workspace, input('path', '.'));
  if (!existsSync(scanned) || !statSync(scanned).isDirectory()) throw new UsageError(`path: ${input('path', '.')} is not a folder in the repository.`);
  const failOn = input('fail-on', 'high').toLowerCase();
  if (failOn !== 'none' && !FAIL_LEVELS.includes(failOn)) throw new UsageError(`fail-on: use critical, high, medium, low or none (got "${failOn}").`);
  const sarifFile = path.resolve(workspace, input('sarif-file', 'palisade.sarif'));
  const wantComment = input('comment', 'true') === 'true';
  const cli = cliCommand();

  // an empty home: only the repository's project configs are scanned, never the runner's user
  const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-action-home-'));
  try {
    const common = ['--path', scanned, '--home', home, '--platform', 'linux'];
    const json = runPalisade(cli, ['scan', '--json', ...common, ...(failOn === 'none' ? [] : ['--fail-on', failOn])]);
    if (json.status !== 0 && json.status !== 1) throw new Error(`palisade scan exited ${json.status}: ${json.stderr.trim().split('\n')[0] ?? ''}`);
    const report = JSON.parse(json.stdout);
    const failed = json.status === 1;

    const sarif = runPalisade(cli, ['scan', '--sarif', ...common]);
    if (sarif.status !== 0) throw new Error(`palisade scan --sarif exited ${sarif.status}`);
    mkdirSync(path.dirname(sarifFile), { recursive: true });
    writeFileSync(sarifFile, JSON.stringify(rebaseSarif(JSON.parse(sarif.stdout), workspace, scanned), null, 2));

    const md = runPalisade(cli, ['scan', '--markdown', ...common]);
    if (md.status !== 0) throw new Error(`palisade scan --markdown exited ${md.status}`);
    if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${md.stdout.trim()}\n`);

    const servers = report.servers?.length ?? 0;
    const findings = (report.servers ?? []).reduce((n, s) => n + (s.findings?.length ?? 0), 0) + (report.findings?.length ?? 0);
    const levels = ['critical', 'high', 'medium', 'low', 'none'];
    const level = levels.find((l) => (report.servers ?? []).some((s) => s.level === l)) ?? 'none';
    process.stdout.write(
      `palisade: ${servers} MCP server(s) in ${path.relative(workspace, scanned) || '.'}, ${findings} finding(s), highest level ${level}; SARIF in ${path.relative(workspace, sarifFile)}.\n`,
    );

    const token = input('token') || '';
    const number = pullRequestNumber();
    if (wantComment && token && number && env.GITHUB_REPOSITORY) {
      try {
        const r = await upsertComment({
          apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
          repository: env.GITHUB_REPOSITORY,
          number,
          token,
          body: commentBody(md.stdout, failOn, failed),
        });
        process.stdout.write(`palisade: PR #${number} comment ${r.action}.\n`);
      } catch (err) {
        // a fork's pull request gets a read-only token: the summary and SARIF still stand
        process.stdout.write(`::warning::palisade: could not comment on PR #${number}: ${err.message}\n`);
      }
    }
    writeOutputs({ level, servers, findings, 'sarif-file': path.relative(workspace, sarifFile) || sarifFile, failed: failed ? 'true' : 'false' });
    if (failed) process.stdout.write(`::error::palisade: MCP configuration reaches ${failOn} or above (see the job summary).\n`);
    return 0;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`::error::palisade: ${err instanceof UsageError ? '' : 'the scan failed: '}${err.message}\n`);
      process.exit(2);
    },
  );
}
