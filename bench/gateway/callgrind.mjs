// Instructions per tools/call of a `palisade gateway` process (stdio echo upstream, the bench's
// policy), counted by valgrind's callgrind: the evidence for a change to the gateway's call path
// that wall-clock figures on a shared machine cannot give. The gateway runs under callgrind with
// collection off; the load generator (bench/gateway/load.mjs, a process of its own, not counted)
// sends WARMUP calls, instrumentation is switched on for CALLS calls and off again, and the counts of
// each thread are printed per call (main thread, then all threads: V8's compiler and GC helpers).
//
// node bench/gateway/callgrind.mjs [--cli PATH/packages/cli/bin/palisade.js]... [--calls 2000]
//   [--warmup 300] [--concurrency 32] [--rate R] [--keep DIR]
// Several --cli run one after the other, in the order given (a before/after in one command).
// Needs valgrind (callgrind_control) on the PATH; Linux only.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './ports.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const clis = argv.flatMap((a, i) => (a === '--cli' ? [path.resolve(argv[i + 1])] : []));
if (clis.length === 0) clis.push(path.join(root, 'packages/cli/bin/palisade.js'));
const CALLS = Number(opt('calls', 2000));
const WARMUP = Number(opt('warmup', 300));
const CONCURRENCY = Number(opt('concurrency', 32));
// --rate R: the measured calls arrive at R a second (open loop) instead of CONCURRENCY in flight
const RATE = Number(opt('rate', 0));
const keep = opt('keep');
const echo = path.join(root, 'bench/gateway/echo-server.mjs');
const load = path.join(root, 'bench/gateway/load.mjs');
const policy = 'policy: { blockLevel: high, pinning: true, stripHiddenText: true, redactSecretsInResults: false }\nlimits: { callsPerMinute: 10000000 }\n';

function runLoad(url, calls, rate = 0) {
  const r = spawnSync(
    process.execPath,
    [
      load,
      '--tool',
      'bench__echo',
      '--calls',
      String(calls),
      '--concurrency',
      String(CONCURRENCY),
      ...(rate > 0 ? ['--rate', String(rate)] : []),
      '--url',
      url,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 900_000,
    },
  );
  if (r.status !== 0) throw new Error(`load failed: ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  if (out.errors) throw new Error(`load: ${out.errors} errors`);
  return out;
}

const control = (pid, ...args) => {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr}`);
};

/** Instructions of each thread's dump file (cg.PID-NN), in thread order. */
function totals(dir) {
  return readdirSync(dir)
    .filter((f) => /^cg\.\d+-\d+$/.test(f))
    .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]))
    .map((f) => {
      const text = readFileSync(path.join(dir, f), 'utf8');
      const m = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
      return m ? Number(m[1]) : 0;
    });
}

for (const cli of clis) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-callgrind-'));
  try {
    const port = await freePort();
    const config = path.join(tmp, 'gateway.yaml');
    writeFileSync(
      config,
      `listen: { host: 127.0.0.1, port: ${port} }\nstore: ${JSON.stringify(path.join(tmp, 'store'))}\nupstreams:\n  bench:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(echo)}]\n${policy}`,
    );
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--instr-atstart=no',
        '--separate-threads=yes',
        `--callgrind-out-file=${path.join(tmp, 'cg.%p')}`,
        process.execPath,
        cli,
        'gateway',
        '--config',
        config,
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
    );
    let err = '';
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // under valgrind the gateway takes minutes to start
      await waitForPort(port, child, 'the gateway', 300_000, 250);
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`${e.message}\n${err}`);
    }
    const url = `http://127.0.0.1:${port}/mcp`;
    runLoad(url, WARMUP);
    control(child.pid, '-i', 'on');
    const measured = runLoad(url, CALLS, RATE);
    control(child.pid, '-i', 'off');
    child.kill('SIGTERM');
    await exited;
    const t = totals(tmp);
    const all = t.reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${cli}\n  ${CALLS} calls ${RATE > 0 ? `at ${RATE}/s` : `at ${CONCURRENCY} in flight`} after ${WARMUP}: main thread ${Math.round(t[0] / CALLS).toLocaleString('en')} instructions per call, all threads ${Math.round(all / CALLS).toLocaleString('en')} (${t.map((n) => Math.round(n / CALLS).toLocaleString('en')).join(' / ')}); load: ${Math.round(measured.callsPerSecond)} calls/s, p50 ${measured.p50.toFixed(2)} ms\n`,
    );
    if (keep) spawnSync('cp', ['-r', tmp, path.join(keep, `cg-${path.basename(path.resolve(cli, '../../../..'))}-${Date.now()}`)]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
