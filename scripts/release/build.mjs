#!/usr/bin/env node
// `npm run release [-- --targets linux-x64,win-x64] [--out DIR]`: the `palisade` agent as one
// file per platform (Node.js single-executable applications):
//   1. esbuild bundles the CLI (agent, mcp, core and every dependency) into one CommonJS file;
//      the backend (`serve`, `advisories` import into a database) and the gateway are not in
//      it: they need native modules, and are run from the container image or the npm package;
//      the curated advisories ride along as SEA assets;
//   2. the pinned Node.js runtime of each target comes from the npm registry
//      (node-<os>-<arch>@NODE_VERSION, integrity-checked, cached: scripts/release/lib.mjs);
//   3. `node --experimental-sea-config` makes the preparation blob (with the host target's
//      downloaded runtime, so the blob matches the runtime version it goes into), and postject
//      (pinned) injects it into a copy of each runtime;
//   4. each binary is checked (format, architecture, fuse, blob), SHA256SUMS and a CycloneDX
//      SBOM are written beside them.
// macOS and Windows binaries come out unsigned (the runtime's own signature no longer
// matches): sign them on a Mac (`codesign --sign "Developer ID Application: ..." --options
// runtime`, then notarize; at least `codesign --sign -` for arm64) and with signtool, before
// they are distributed (docs/deployment.md).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { NODE_VERSION, POSTJECT, SEA_FUSE, SEA_RESOURCE, TARGETS, checkExecutable, nodeBinary, sha256 } from './lib.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (m) => process.stderr.write(`release: ${m}\n`);

function parseArgs(argv) {
  const o = { targets: Object.keys(TARGETS), out: path.join(root, 'dist', 'release'), sbom: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--targets')
      o.targets = argv[++i]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--out') o.out = path.resolve(argv[++i]);
    else if (a === '--no-sbom') o.sbom = false;
    else throw new Error(`unknown argument ${a}; use --targets LIST, --out DIR, --no-sbom`);
  }
  for (const t of o.targets) if (!TARGETS[t]) throw new Error(`unknown target ${t}; use ${Object.keys(TARGETS).join(', ')}`);
  return o;
}

function hostTarget() {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  return `${os}-${process.arch}`;
}

const NOT_IN_BINARY = ['@palisade/server', '@palisade/gateway', 'better-sqlite3', 'bcrypt', 'pg', 'pg-native', 'fsevents'];

/** esbuild: one CommonJS file for the SEA, with the few file lookups turned into embedded data. */
async function bundle(workDir, advisoryFiles) {
  const version = JSON.parse(readFileSync(path.join(root, 'packages/agent/package.json'), 'utf8')).version;
  const seaPlugin = {
    name: 'palisade-sea',
    setup(b) {
      const filter = new RegExp(`^(?:${NOT_IN_BINARY.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})(?:/.*)?$`);
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'not-in-binary' }));
      b.onLoad({ filter: /.*/, namespace: 'not-in-binary' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path.startsWith('@palisade/gateway') ? 'the gateway' : 'the backend'} is not part of the single executable: run it from the container image or the npm package (docs/deployment.md)`)});`,
        loader: 'js',
      }));
      // the agent's version: its package.json, read at build time
      b.onLoad({ filter: /[\\/]packages[\\/]agent[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `export const AGENT_NAME = 'palisade';\nexport const AGENT_VERSION: string = ${JSON.stringify(version)};\n`,
        loader: 'ts',
      }));
      // the curated advisories: SEA assets, copied into a fresh private folder on first use
      b.onLoad({ filter: /[\\/]packages[\\/]core[\\/]src[\\/]advisories[\\/]bundled\.ts$/ }, () => ({
        contents: `
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const NAMES: string[] = ${JSON.stringify(advisoryFiles)};
let dir: string | undefined;
export function bundledAdvisoriesDir(): string {
  if (dir) return dir;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sea = require('node:sea');
  dir = mkdtempSync(path.join(os.tmpdir(), 'palisade-advisories-'));
  for (const n of NAMES) writeFileSync(path.join(dir, n), Buffer.from(sea.getAsset('advisories/' + n)), { mode: 0o600 });
  const made = dir;
  process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  return made;
}
`,
        loader: 'ts',
      }));
    },
  };
  const outfile = path.join(workDir, 'palisade-sea.cjs');
  const result = await build({
    entryPoints: [path.join(root, 'packages/cli/src/main.ts')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node22',
    conditions: ['source'],
    mainFields: ['module', 'main'],
    plugins: [seaPlugin],
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
    metafile: true,
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs).length };
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error || r.status !== 0)
    throw new Error(
      `${path.basename(cmd)} ${args.slice(0, 3).join(' ')} failed: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`,
    );
  return r;
}

export async function release(argv = process.argv.slice(2)) {
  const o = parseArgs(argv);
  const version = JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8')).version;
  const work = path.join(o.out, 'work');
  rmSync(o.out, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const advisoriesDir = path.join(root, 'packages/core/advisories');
  const advisoryFiles = readdirSync(advisoriesDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const { outfile, inputs } = await bundle(work, advisoryFiles);
  log(`bundled ${inputs} modules into ${path.relative(root, outfile)}`);

  // the blob is made by the same Node.js version it is injected into: the host's downloaded runtime
  const host = hostTarget();
  if (!TARGETS[host]) throw new Error(`cannot make the blob on ${host}: run the release on ${Object.keys(TARGETS).join(', ')}`);
  const hostNode = nodeBinary(host, log);
  const blob = path.join(work, 'sea-prep.blob');
  const config = {
    main: outfile,
    output: blob,
    disableExperimentalSEAWarning: true,
    // code caches and snapshots are specific to a platform: off, the same blob serves all five
    useCodeCache: false,
    useSnapshot: false,
    assets: Object.fromEntries(advisoryFiles.map((f) => [`advisories/${f}`, path.join(advisoriesDir, f)])),
  };
  writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
  run(hostNode, ['--experimental-sea-config', path.join(work, 'sea-config.json')]);
  log(`blob ${path.relative(root, blob)} made with node ${NODE_VERSION} (${host})`);

  const made = [];
  for (const target of o.targets) {
    const t = TARGETS[target];
    const src = nodeBinary(target, log);
    const name = `palisade-${version}-${target}${t.format === 'pe' ? '.exe' : ''}`;
    const file = path.join(o.out, name);
    copyFileSync(src, file);
    chmodSync(file, 0o755);
    const args = [
      '--yes',
      POSTJECT,
      file,
      SEA_RESOURCE,
      blob,
      '--sentinel-fuse',
      SEA_FUSE,
      ...(t.format === 'macho' ? ['--macho-segment-name', 'NODE_SEA'] : []),
    ];
    run('npx', args, { env: { ...process.env, npm_config_update_notifier: 'false' } });
    const check = checkExecutable(file, target, blob);
    if (check.problems.length) throw new Error(`${name}: ${check.problems.join('; ')}`);
    made.push({ target, file: name, size: check.size, sha256: sha256(file), node: `${t.pkg}@${NODE_VERSION}`, signed: false });
    log(`${name}: ${(check.size / 1048576).toFixed(1)} MiB, ${t.format}, blob injected`);
  }

  writeFileSync(path.join(o.out, 'SHA256SUMS'), made.map((m) => `${m.sha256}  ${m.file}\n`).join(''));
  if (o.sbom) {
    run(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(root, 'scripts/security/sbom.ts'), path.join(work, 'sbom')], { cwd: root });
    // the binaries hold the CLI's production dependencies and a Node.js runtime
    const bom = JSON.parse(readFileSync(path.join(work, 'sbom', 'palisade-cli.cdx.json'), 'utf8'));
    bom.metadata.component = { ...bom.metadata.component, type: 'application', name: 'palisade', version, description: 'palisade single executables' };
    for (const m of made) {
      const t = TARGETS[m.target];
      bom.components.push({
        type: 'platform',
        name: t.pkg,
        version: NODE_VERSION,
        purl: `pkg:npm/${t.pkg}@${NODE_VERSION}`,
        description: `Node.js runtime of ${m.file}`,
        hashes: [{ alg: 'SHA-512', content: Buffer.from(t.integrity.slice(7), 'base64').toString('hex') }],
      });
    }
    writeFileSync(path.join(o.out, `palisade-${version}.cdx.json`), JSON.stringify(bom, null, 2) + '\n');
  }
  writeFileSync(path.join(o.out, 'release.json'), JSON.stringify({ version, node: NODE_VERSION, postject: POSTJECT, binaries: made }, null, 2) + '\n');
  log(`done: ${made.length} binaries, SHA256SUMS${o.sbom ? ', SBOM' : ''} in ${path.relative(root, o.out) || o.out}`);
  return { out: o.out, work, blob, binaries: made };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  release().catch((err) => {
    process.stderr.write(`release: ${err.message}\n`);
    process.exit(1);
  });
}
