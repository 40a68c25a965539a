// Builds the npm package `palisade-mcp` (the binary stays `palisade` once installed): a
// staging folder with the bundle (cli, agent, mcp and core code and their libraries in one
// file, with its V8 code cache), the bin, the curated advisories and a package.json that
// declares no dependencies, then `npm pack` of it. The backend (`palisade serve`) and the
// gateway are not in the package: they need native database modules and run from a checkout
// of the repository; the packed CLI says so when asked for them.
//   node packages/cli/scripts/pack.mjs [--out DIR]   (DIR defaults to packages/cli)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'palisade-mcp';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = path.dirname(cliDir);
const outArg = process.argv.indexOf('--out');
const outDir = path.resolve(outArg > 0 ? process.argv[outArg + 1] : cliDir);
const cli = JSON.parse(readFileSync(path.join(cliDir, 'package.json'), 'utf8'));
const agent = JSON.parse(readFileSync(path.join(packagesDir, 'agent', 'package.json'), 'utf8'));

const stage = path.join(os.tmpdir(), `palisade-pack-${process.pid}`);
rmSync(stage, { recursive: true, force: true });
try {
  mkdirSync(path.join(stage, 'bin'), { recursive: true });
  copyFileSync(path.join(cliDir, 'bin', 'palisade.js'), path.join(stage, 'bin', 'palisade.js'));
  copyFileSync(path.join(cliDir, 'bin', 'package.json'), path.join(stage, 'bin', 'package.json'));
  // what bundled modules find next to themselves (see keep-import-meta-url in bundle.mjs)
  const lib = path.join(stage, 'lib');
  mkdirSync(path.join(lib, 'core', 'advisories'), { recursive: true });
  for (const f of readdirSync(path.join(packagesDir, 'core', 'advisories'))) if (f.endsWith('.json')) copyFileSync(path.join(packagesDir, 'core', 'advisories', f), path.join(lib, 'core', 'advisories', f));
  mkdirSync(path.join(lib, 'agent'), { recursive: true });
  writeFileSync(path.join(lib, 'agent', 'package.json'), JSON.stringify({ name: '@palisade/agent', version: agent.version, private: true }, null, 2) + '\n');

  const r = spawnSync(process.execPath, [path.join(cliDir, 'scripts', 'bundle.mjs')], {
    env: { ...process.env, PALISADE_BUNDLE_DIR: path.join(stage, 'dist'), PALISADE_BUNDLE_BIN: path.join(stage, 'bin', 'palisade.js'), PALISADE_BUNDLE_LIB_DIR: lib },
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`the bundle could not be built (exit ${r.status})`);

  const manifest = {
    name: PACKAGE_NAME,
    version: cli.version,
    description: 'Palisade: find every MCP server your AI clients (Claude, Cursor, VS Code, Codex, Gemini CLI, ...) are wired to and score its risk.',
    license: cli.license ?? 'MIT',
    keywords: ['mcp', 'model-context-protocol', 'security', 'scanner', 'ai'],
    bin: { palisade: 'bin/palisade.js' },
    files: ['bin', 'dist', 'lib'],
    engines: { node: '>=20' },
    // everything is in the bundle: nothing to fetch at install time
    dependencies: {},
  };
  writeFileSync(path.join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(
    path.join(stage, 'README.md'),
    `# ${PACKAGE_NAME}\n\nThe Palisade agent: \`npx ${PACKAGE_NAME} scan\` finds the MCP servers configured in your AI clients and scores their risk. Installed, the command is \`palisade\`.\n\n\`palisade serve\` (the backend and dashboard) is not part of this package; run it from the Palisade repository.\n`,
  );
  mkdirSync(outDir, { recursive: true });
  const p = spawnSync('npm', ['pack', '--pack-destination', outDir, '--json'], { cwd: stage, encoding: 'utf8', env: { ...process.env, npm_config_ignore_scripts: 'true' } });
  if (p.status !== 0) throw new Error(`npm pack failed: ${p.stderr}`);
  const [info] = JSON.parse(p.stdout);
  process.stdout.write(`${path.join(outDir, info.filename)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
