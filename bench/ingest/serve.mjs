// `palisade serve` as its own process for the backend benches (ingest, servers list, unchanged
// re-scans): production mode, a fresh JWT secret, the per-key ingest limit lifted (the benches
// measure ingest, not the limiter), its log in a file of the data folder (as a service's goes
// to the journal: a pipe the bench reads late would slow the server down); and the few HTTP
// steps every bench takes against it.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const SETUP = 'bench-only-setup-token-0123456789';
export const PASSWORD = 'bench-only-password-xyz-123';

/**
 * Starts serve on a free loopback port; resolves { child, base, log, startS } once it listens.
 * built: the built CLI (bin/palisade.js, as users run it) instead of the sources through tsx;
 * nodeFlags: flags for node itself; env: more environment for serve.
 */
export function startServe(dataDir, { databaseUrl, built = false, nodeFlags = [], env = {} } = {}) {
  const { DATABASE_URL: _d, PALISADE_INGEST_WAIT_MS: _w, ...base } = process.env;
  const logFile = path.join(dataDir, 'serve.log');
  const from = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const logFd = fs.openSync(logFile, 'a');
  const t0 = Date.now();
  const cli = built ? [path.join(repo, 'packages/cli/bin/palisade.js')] : ['--conditions=source', '--import', 'tsx', path.join(repo, 'packages/cli/src/main.ts')];
  const child = spawn(process.execPath, [...nodeFlags, ...cli, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir], {
    cwd: repo,
    env: {
      ...base,
      NODE_ENV: 'production',
      ...(built ? { PALISADE_BUNDLE: '1' } : {}),
      JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
      PALISADE_SETUP_TOKEN: SETUP,
      PALISADE_INGEST_RATE_LIMIT: '100000000',
      ...env,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const log = () => fs.readFileSync(logFile, 'utf8').slice(from);
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /serving on (http:\/\/[\d.]+:\d+)/.exec(log());
      if (m) {
        clearInterval(timer);
        resolve({ child, base: m[1], log, startS: (Date.now() - t0) / 1000 });
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`palisade serve exited (${code}): ${log().slice(-2000)}`));
    });
  });
}

/**
 * How users run `serve`: the built CLI with the node flags of the root package's `npm start`
 * (read from package.json, so the bench follows the start script), after compiling the
 * packages serve loads (`tsc -b`; a no-op when nothing changed). Spread into startServe's options.
 */
export function asUsersRunIt() {
  const tsc = spawnSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-b', 'packages/core', 'packages/mcp', 'packages/agent', 'packages/server', 'packages/gateway', 'packages/cli'], { cwd: repo, encoding: 'utf8' });
  if (tsc.status !== 0) process.stdout.write('note: tsc reported errors (see `npm run typecheck`); measuring what was emitted.\n');
  const start = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).scripts.start;
  const m = /^node((?: --\S+)*) packages\/cli\/bin\/palisade\.js serve\b/.exec(start);
  if (!m) throw new Error(`the start script is not "node [flags] packages/cli/bin/palisade.js serve": ${start}`);
  return { built: true, nodeFlags: m[1].trim().split(' ').filter(Boolean) };
}

export async function stopServe(s) {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** utime + stime of a process, in ms (its CPU, whatever the load on the machine). */
export function cpuMsOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** VmRSS and VmHWM of a process, in MB. */
export function rssOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** The JSON of an answer that must be 2xx. */
export async function json(res) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** A signed-in answer's cookies, as a Cookie header and the CSRF token. */
export function cookiesOf(res) {
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => /csrf=/.test(c))?.split('=')[1];
  return { cookie: cookies.join('; '), csrf };
}

/** A new agent key, made by a signed-in owner. */
export async function agentKey(base, session, name) {
  const r = await fetch(`${base}/api/v1/agent-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf },
    body: JSON.stringify({ name }),
  });
  return (await json(r)).key;
}

/** A fresh backend set up (its first organisation and owner) with one agent key; resolves with the key. */
export async function setupWithKey(base, { orgName = 'Bench', email = 'bench@bench.test', keyName = 'bench' } = {}) {
  const setup = await fetch(`${base}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ setupToken: SETUP, orgName, email, password: PASSWORD }),
  });
  return agentKey(base, cookiesOf(setup), keyName);
}

/** One job of bench/ingest/load.mjs in a process of its own; resolves with its JSON result. */
export function runLoad(job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repo, 'bench/ingest/load.mjs'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) reject(new Error(`load generator (${job.mode}) exited ${code}: ${out}`));
      else resolve(JSON.parse(line));
    });
  });
}

/** bench/ingest/bare.mjs (the bare-route baseline) in its own process; resolves { child, url }. */
export async function startBare() {
  const child = spawn(process.execPath, [path.join(repo, 'bench/ingest/bare.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
  return { child, url };
}
