// Whole-process time of `palisade scan --json --home DIR` over a home where every known client
// is configured, 500 servers in all, beside the time of a bare `node -e 0`: the ratio is what
// a user feels as startup plus scan cost. Aim: at most 2x. The npm peer `mcp-scan` (pinned as
// a dev dependency) scans the same home in the same interleaved runs, for comparison.
//
// The clients are read from the built agent at run time (its discoverer registry), so a newly
// added client is covered without touching this file: for each of its config locations under
// the home, the first config shape that the client's own parser reads back in full is used.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TOTAL_SERVERS = 500;
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS) || 11);
const cli = path.join(root, 'packages/cli/bin/palisade.js');

function buildCli() {
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/core', 'packages/mcp', 'packages/agent', 'packages/cli'], { cwd: root, encoding: 'utf8' });
  if (tsc.status !== 0) process.stdout.write('note: tsc reported errors (see `npm run typecheck`); measuring what was emitted.\n');
  const bundle = spawnSync(process.execPath, [path.join(root, 'packages/cli/scripts/bundle.mjs')], { cwd: root, encoding: 'utf8' });
  if (bundle.status !== 0) process.stdout.write(`note: the bundle could not be built, measuring the unbundled CLI:\n${bundle.stderr}\n`);
}

// ---- what one server looks like (a mix of the shapes people really configure) ----
// Test fixture values only: the token below is made up and only shaped like a real one.
const FAKE_TOKEN = 'ghp_BenchFixtureNotARealToken0123456789ab';

function serverSpec(i) {
  const name = `srv-${i}`;
  switch (i % 6) {
    case 0:
      return { name, command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', `/home/user/projects/p${i}`] };
    case 1:
      return { name, command: 'npx', args: ['-y', `@acme/mcp-tool-${i}@1.2.3`], env: { API_KEY: '${API_KEY}', LOG_LEVEL: 'info' } };
    case 2:
      return { name, command: 'uvx', args: ['mcp-server-fetch'] };
    case 3:
      return { name, command: 'docker', args: ['run', '-i', '--rm', '-e', 'GITHUB_TOKEN', 'ghcr.io/github/github-mcp-server'], env: { GITHUB_TOKEN: FAKE_TOKEN } };
    case 4:
      return { name, url: `https://mcp.example.com/${i}/mcp`, headers: { Authorization: 'Bearer ${TOKEN}' } };
    default:
      return { name, command: 'bash', args: ['-c', `node /opt/mcp/server-${i}.js`] };
  }
}

// ---- config shapes, one function each: servers -> file text ----
const entry = (s, extra = {}) => {
  const e = { ...extra };
  if (s.command) Object.assign(e, { command: s.command, args: s.args });
  if (s.url) Object.assign(e, { url: s.url });
  if (s.env) e.env = s.env;
  if (s.headers) e.headers = s.headers;
  return e;
};
const byName = (servers, fn) => Object.fromEntries(servers.map((s) => [s.name, fn(s)]));
const q = (v) => JSON.stringify(v);
const yamlMap = (m, indent) => Object.entries(m).map(([k, v]) => `${indent}${k}: ${q(v)}`).join('\n');

const SHAPES = {
  mcpServers: (servers) => JSON.stringify({ mcpServers: byName(servers, (s) => entry(s)) }, null, 2),
  mcpServersServerUrl: (servers) => JSON.stringify({ mcpServers: byName(servers, (s) => (s.url ? { serverUrl: s.url, headers: s.headers } : entry(s))) }, null, 2),
  vscodeServers: (servers) => JSON.stringify({ servers: byName(servers, (s) => entry(s, { type: s.url ? 'http' : 'stdio' })) }, null, 2),
  vscodeSettings: (servers) => JSON.stringify({ 'editor.fontSize': 14, mcp: { servers: byName(servers, (s) => entry(s, { type: s.url ? 'http' : 'stdio' })) } }, null, 2),
  zed: (servers) => JSON.stringify({ theme: 'One Dark', context_servers: byName(servers, (s) => (s.url ? { url: s.url, headers: s.headers } : { source: 'custom', command: s.command, args: s.args, env: s.env ?? {} })) }, null, 2),
  zedLegacy: (servers) => JSON.stringify({ context_servers: byName(servers, (s) => (s.url ? { url: s.url } : { command: { path: s.command, args: s.args, env: s.env ?? {} } })) }, null, 2),
  opencode: (servers) => JSON.stringify({ $schema: 'https://opencode.ai/config.json', mcp: byName(servers, (s) => (s.url ? { type: 'remote', url: s.url, headers: s.headers } : { type: 'local', command: [s.command, ...s.args], environment: s.env ?? {} })) }, null, 2),
  continueJson: (servers) => JSON.stringify({ experimental: { modelContextProtocolServers: servers.map((s) => ({ name: s.name, transport: s.url ? { type: 'streamable-http', url: s.url } : { type: 'stdio', command: s.command, args: s.args, env: s.env } })) } }, null, 2),
  codexToml: (servers) =>
    servers
      .map((s) => {
        const lines = [`[mcp_servers.${s.name}]`];
        if (s.command) lines.push(`command = ${q(s.command)}`, `args = [${s.args.map(q).join(', ')}]`);
        if (s.url) lines.push(`url = ${q(s.url)}`);
        if (s.env) lines.push(`env = { ${Object.entries(s.env).map(([k, v]) => `${k} = ${q(v)}`).join(', ')} }`);
        return lines.join('\n');
      })
      .join('\n\n') + '\n',
  continueYaml: (servers) =>
    'name: bench\nversion: 1.0.0\nschema: v1\nmcpServers:\n' +
    servers
      .map((s) => {
        const lines = [`  - name: ${q(s.name)}`];
        if (s.command) lines.push(`    command: ${q(s.command)}`, `    args: [${s.args.map(q).join(', ')}]`);
        if (s.url) lines.push(`    type: streamable-http`, `    url: ${q(s.url)}`);
        if (s.env) lines.push('    env:', yamlMap(s.env, '      '));
        return lines.join('\n');
      })
      .join('\n') +
    '\n',
  gooseYaml: (servers) =>
    'extensions:\n' +
    servers
      .map((s) => {
        const lines = [`  ${s.name}:`, `    name: ${q(s.name)}`, '    enabled: true', '    timeout: 300'];
        if (s.command) lines.push('    type: stdio', `    cmd: ${q(s.command)}`, `    args: [${s.args.map(q).join(', ')}]`);
        if (s.url) lines.push('    type: streamable_http', `    uri: ${q(s.url)}`);
        if (s.env) lines.push('    envs:', yamlMap(s.env, '      '));
        return lines.join('\n');
      })
      .join('\n') +
    '\n',
};

/** The first shape this client's own parser reads back completely, or undefined. */
function shapeFor(discoverer, location, loc) {
  const probe = [serverSpec(0), serverSpec(3), serverSpec(4)];
  for (const [shapeName, shape] of Object.entries(SHAPES)) {
    try {
      const raws = discoverer.parse(shape(probe), { path: location.path, scope: location.scope, loc, ...(location.kind ? { kind: location.kind } : {}) });
      const names = new Set(raws.map((r) => r.name));
      if (raws.length === probe.length && probe.every((s) => names.has(s.name))) return shapeName;
    } catch {
      // not this client's shape
    }
  }
  return undefined;
}

/** The file to write for a location: itself, or one file inside a listed folder. */
function fileIn(location) {
  if (!location.list) return location.path;
  if (location.list.childFile) return path.join(location.path, 'bench', location.list.childFile);
  return path.join(location.path, `bench${location.list.suffixes?.[0] ?? '.json'}`);
}

async function makeHome(home) {
  const agent = await import('@palisade/agent');
  const loc = agent.locationContext({ home });
  const targets = [];
  const seen = new Set();
  const missing = [];
  for (const d of agent.discoverers) {
    let found = false;
    for (const listed of d.locations(loc)) {
      // index files (they name other files) are skipped; a listed folder gets one file in it
      if (listed.index) continue;
      const location = { ...listed, path: fileIn(listed) };
      // only files under the fake home: managed/system locations (/etc, /Library) are left alone
      if (!location.path.startsWith(home + path.sep) || seen.has(location.path)) continue;
      const shape = shapeFor(d, location, loc);
      if (!shape) continue;
      seen.add(location.path);
      targets.push({ client: d.id, path: location.path, shape });
      found = true;
    }
    if (!found) missing.push(d.id);
  }
  let next = 0;
  targets.forEach((t, i) => {
    const count = Math.floor(TOTAL_SERVERS / targets.length) + (i < TOTAL_SERVERS % targets.length ? 1 : 0);
    const servers = Array.from({ length: count }, () => serverSpec(next++));
    mkdirSync(path.dirname(t.path), { recursive: true });
    writeFileSync(t.path, SHAPES[t.shape](servers));
    t.count = count;
  });
  return { targets, missing, clients: agent.discoverers.length };
}

// CPU time (user + sys) of the child, from GNU time when the machine has it: on a busy
// machine wall time swings with the load, CPU time much less.
const GNU_TIME = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%U %S', 'true'], { encoding: 'utf8' }).status === 0 ? '/usr/bin/time' : undefined;
const timeFile = path.join(os.tmpdir(), `palisade-bench-time-${process.pid}`);

const bundled = existsSync(path.join(root, 'packages/cli/dist/palisade.cjs'));
// measure the bundle just built, even if someone's `tsc -b` makes it look stale meanwhile
process.env.PALISADE_BUNDLE = '1';

function timeOnce(args, env = process.env) {
  const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', timeFile, process.execPath, ...args]] : [process.execPath, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  let cpu;
  if (GNU_TIME) {
    const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
    cpu = (user + sys) * 1000;
  }
  return { wall, cpu };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function cpuLines(bareTimes, scanTimes) {
  const b = median(bareTimes.map((t) => t.cpu));
  const s = median(scanTimes.map((t) => t.cpu));
  return [`  cpu time (user+sys): node -e 0 ${b.toFixed(0)} ms, scan ${s.toFixed(0)} ms, ratio ${(s / b).toFixed(2)}x`];
}

/** The npm peer `mcp-scan` on the same home, when installed: its command and how many servers it found. */
function peerScan(home, env) {
  const bin = path.join(root, 'node_modules/mcp-scan/dist/index.js');
  if (!existsSync(bin)) return undefined;
  const args = [bin, 'scan', '--json', '--offline'];
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  let found = '?';
  try {
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    found = String(out.totalScanned ?? out.results?.length ?? '?');
  } catch {
    // its output format is its own business: the time still counts
  }
  const version = JSON.parse(readFileSync(path.join(root, 'node_modules/mcp-scan/package.json'), 'utf8')).version;
  return { args, found, version };
}

buildCli();
// BENCH_HOME=DIR writes the home there and keeps it afterwards (to profile a scan of it)
const keepHome = process.env.BENCH_HOME;
const home = keepHome ? (mkdirSync(keepHome, { recursive: true }), keepHome) : mkdtempSync(path.join(os.tmpdir(), 'palisade-bench-home-'));
try {
  const { targets, missing, clients } = await makeHome(home);
  const out = execFileSync(process.execPath, [cli, 'scan', '--json', '--home', home], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const report = JSON.parse(out);
  const scanArgs = [cli, 'scan', '--json', '--home', home];
  const bare = ['-e', '0'];
  // the peer reads the real home folder: give it this one (and nothing of the user's)
  const peerEnv = { ...process.env, HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: path.join(home, '.config'), APPDATA: path.join(home, '.config') };
  const peer = peerScan(home, peerEnv);
  timeOnce(bare);
  timeOnce(scanArgs);
  if (peer) timeOnce(peer.args, peerEnv);
  const bareTimes = [];
  const scanTimes = [];
  const peerTimes = [];
  // interleaved, so a busy moment on the machine hits every side alike
  // the order turns every round, so each process follows each other one equally often (a
  // process run right after the peer's exit starts measurably slower on this VM: with a fixed
  // order that was always the bare start, which flattered the ratio)
  // NODE_EXTRA_CA_CERTS makes every Node process read and parse that certificate file at start,
  // before any of its own code runs (here tens of ms of CPU, in `node -e 0` as in the scan): it
  // raises the bare start more than it raises the scan, so the ratio is also measured without it
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  const noCaEnv = { ...process.env };
  delete noCaEnv.NODE_EXTRA_CA_CERTS;
  const bareNoCa = [];
  const scanNoCa = [];
  const steps = [
    () => bareTimes.push(timeOnce(bare)),
    () => scanTimes.push(timeOnce(scanArgs)),
    ...(peer ? [() => peerTimes.push(timeOnce(peer.args, peerEnv))] : []),
    ...(extraCa ? [() => bareNoCa.push(timeOnce(bare, noCaEnv)), () => scanNoCa.push(timeOnce(scanArgs, noCaEnv))] : []),
  ];
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < steps.length; k++) steps[(i + k) % steps.length]();
  }
  const b = median(bareTimes.map((t) => t.wall));
  const s = median(scanTimes.map((t) => t.wall));
  const ratio = s / b;
  const range = (ts) => `min ${Math.min(...ts.map((t) => t.wall)).toFixed(1)}, max ${Math.max(...ts.map((t) => t.wall)).toFixed(1)}`;
  const clientsWritten = new Set(targets.map((t) => t.client)).size;
  const lines = [`scan: ${report.servers.length} servers found of ${TOTAL_SERVERS} written, in ${targets.length} config files of ${clientsWritten}/${clients} known clients (${process.platform} layout), ${report.summary.findings} findings`];
  if (missing.length) lines.push(`  (no config shape the bench can write under a home for: ${missing.join(', ')})`);
  process.stdout.write(
    [
      ...lines,
      `  node -e 0                               median ${b.toFixed(1).padStart(7)} ms   (${range(bareTimes)}; ${RUNS} runs)`,
      `  palisade scan --json --home DIR         median ${s.toFixed(1).padStart(7)} ms   (${range(scanTimes)}; ${bundled ? 'bundled CLI' : 'unbundled: the bundle failed to build'})`,
      `  ratio                                   ${ratio.toFixed(2).padStart(7)}x     (aim: at most 2x)`,
      ...(peer
        ? [
            `  peer: mcp-scan ${peer.version} scan --json --offline   median ${median(peerTimes.map((t) => t.wall)).toFixed(1).padStart(7)} ms   (${range(peerTimes)}), found ${peer.found} servers`,
            `  peer / palisade                         ${(median(peerTimes.map((t) => t.wall)) / s).toFixed(2).padStart(7)}x`,
          ]
        : ['  peer: mcp-scan is not installed (npm install at the root brings it); not compared']),
      ...(GNU_TIME ? cpuLines(bareTimes, scanTimes) : []),
      ...(extraCa
        ? [
            `  without NODE_EXTRA_CA_CERTS (set here to ${extraCa}; Node parses that file at every start):`,
            `    node -e 0                             median ${median(bareNoCa.map((t) => t.wall)).toFixed(1).padStart(7)} ms   (${range(bareNoCa)})`,
            `    palisade scan --json --home DIR       median ${median(scanNoCa.map((t) => t.wall)).toFixed(1).padStart(7)} ms   (${range(scanNoCa)})`,
            `    ratio                                 ${(median(scanNoCa.map((t) => t.wall)) / median(bareNoCa.map((t) => t.wall))).toFixed(2).padStart(7)}x`,
            ...(GNU_TIME ? cpuLines(bareNoCa, scanNoCa).map((l) => `  ${l}`) : []),
          ]
        : []),
      `  (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs; wall time grows with load)`,
      '',
    ].join('\n'),
  );
} finally {
  if (!keepHome) rmSync(home, { recursive: true, force: true });
  rmSync(timeFile, { force: true });
}
