// Bundles the CLI into one CommonJS file, dist/palisade.cjs, plus a V8 code cache for it
// (dist/palisade.cjs.cache), and what only other commands need into dist/palisade-lazy.cjs,
// required on first use (see LAZY_MODULES below). Startup was dominated by resolving and compiling hundreds of
// modules (zod alone is ~100 files); one file whose compiled code comes from the cache
// starts in a fraction of that. Run by the root `build` script after `tsc -b`.
// bin/palisade.js runs the bundle while it is at least as new as the tsc output and falls back
// to dist/main.js otherwise; a cache made by another Node version is simply rejected by V8.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { SHAPES, serverSpec, writeEveryClientHome } from './every-client-home.mjs';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
// PALISADE_BUNDLE_DIR and PALISADE_BUNDLE_BIN let a test build into a temp copy instead of dist/
const distDir = process.env.PALISADE_BUNDLE_DIR ? path.resolve(process.env.PALISADE_BUNDLE_DIR) : path.join(cliDir, 'dist');
const packagesDir = path.dirname(cliDir);
const bundleFile = path.join(distDir, 'palisade.cjs');
const libDir = process.env.PALISADE_BUNDLE_LIB_DIR ? path.resolve(process.env.PALISADE_BUNDLE_LIB_DIR) : undefined;

mkdirSync(distDir, { recursive: true });
// outputs of earlier bundler layouts would otherwise linger
for (const f of readdirSync(distDir, { withFileTypes: true })) {
  if (f.isFile() && /^(?:main\.bundle|chunk\.|palisade[.-])/.test(f.name)) rmSync(path.join(distDir, f.name));
}

// Code that finds files next to itself (import.meta.url) must keep finding them once it is
// moved into the bundle: point it at where tsc puts that module (packages/<pkg>/dist/<same>.js),
// relative to the bundle file so the layout also holds once installed under node_modules.
const keepImportMetaUrl = {
  name: 'keep-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]src[\\/].*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const [pkg, , ...rest] = path.relative(packagesDir, args.path).split(path.sep);
      // PALISADE_BUNDLE_LIB_DIR (the npm package, scripts/pack.mjs): the files these modules
      // look for are copied under that folder in the same layout, <lib>/<pkg>/dist/...
      const original = path.join(libDir ?? packagesDir, pkg, 'dist', ...rest).replace(/\.ts$/, '.js');
      const fromBundle = path.relative(distDir, original).split(path.sep).join('/');
      const replacement = `new URL(${JSON.stringify(fromBundle)}, __palisadeBundleUrl).href`;
      return { contents: source.replaceAll('import.meta.url', replacement), loader: 'ts' };
    });
  },
};

// commander loads node:child_process (and with it net, dgram, streams) when it is required,
// only to spawn executable subcommands, which Palisade has none of: load it on first use
// instead, which takes ~10 ms off every start.
const lazyCommanderChildProcess = {
  name: 'lazy-commander-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      // a commander release that no longer has the line is bundled as it is
      if (!source.includes(eager)) return undefined;
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: source.replace(eager, lazy), loader: 'js' };
    });
  },
};

// jsonc-parser's entry module loads its formatter and editor too, and the formatter builds
// ~1,200 indentation strings (~250 KB) as it loads; the agent uses only the parser (parse,
// visit). In the bundle, the package's name resolves to its parser module alone. (An import
// of anything else from it then fails the build, by name.)
const jsoncParserOnly = {
  name: 'jsonc-parser-only',
  setup(b) {
    b.onResolve({ filter: /^jsonc-parser$/ }, async (args) => {
      if (args.pluginData?.jsoncProbe) return undefined;
      const entry = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { jsoncProbe: true } });
      if (entry.errors.length > 0) return undefined;
      return { path: path.join(path.dirname(entry.path), 'impl', 'parser.js') };
    });
  },
};

// Modules that only other commands (report, the agent service, advisories import/sync) or
// `scan --probe` need: the MCP SDK, undici, the uploader and their libraries, more than half of
// everything bundled. They go into a second file, dist/palisade-lazy.cjs, that the main bundle
// requires the first time one of them is imported, so a plain scan neither reads nor compiles
// them. (Paths relative to packages/, as the dynamic import() in the sources resolves them.)
const LAZY_MODULES = new Set([
  'agent/src/probe/index.ts',
  'agent/src/upload/index.ts',
  'agent/src/service/index.ts',
  'agent/src/advisories/index.ts',
  'cli/src/commands/advisories-run.ts',
  'cli/src/commands/check-backend.ts',
]);
const LAZY_FILE = 'palisade-lazy.cjs';
// Packages in files of their own, required on first use: zod (45% of what a scan would
// otherwise read, used only to build the model's schemas, when a scan parses imported advisory
// records or other commands validate) and yaml (a scan reads the plain YAML of config files
// with agent/src/formats/yaml-subset.ts; the full parser only for anything else).
const LAZY_PACKAGES = { zod: 'palisade-zod.cjs', yaml: 'palisade-yaml.cjs' };
const lazyKey = (file) => path.relative(packagesDir, file).split(path.sep).join('/');

// In the main bundle, `await import('<lazy module>')` becomes a require of the lazy bundle
// (a plain require: the code-cached main script cannot use import()); it loads, and each
// module in it initialises, on first use only.
const lazyModulesOut = {
  name: 'lazy-modules-out',
  setup(b) {
    // the require('zod') / require('yaml') that lazy-packages leaves in the sources
    b.onResolve({ filter: /^(?:zod|yaml)$/ }, (args) => (args.kind === 'require-call' ? { path: args.path, namespace: 'palisade-lazy-package' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'palisade-lazy-package' }, (args) => ({
      contents: `module.exports = require(require('node:path').join(__dirname, ${JSON.stringify(LAZY_PACKAGES[args.path])}));`,
      loader: 'js',
    }));
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData?.lazyProbe) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { lazyProbe: true } });
      if (r.errors.length > 0 || r.external || !LAZY_MODULES.has(lazyKey(r.path))) return undefined;
      return { path: lazyKey(r.path), namespace: 'palisade-lazy' };
    });
    b.onLoad({ filter: /.*/, namespace: 'palisade-lazy' }, (args) => ({
      contents: `module.exports = require(require('node:path').join(__dirname, ${JSON.stringify(LAZY_FILE)}))[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
  },
};

// zod builds the scan model's schemas, which a scan never uses (they are built on first use,
// see core/src/model.ts), yet importing it initialises ~80 modules. In the bundle the two core
// modules that import it get it on first touch of `z` instead, from dist/palisade-zod.cjs.
// The agent's format readers call yaml's parse only for YAML the small reader leaves to it: in
// the bundle that call requires dist/palisade-yaml.cjs first.
const VERSIONS_TS = /[\\/]packages[\\/]core[\\/]src[\\/]packages[\\/]versions\.ts$/;
const MATCH_TS = /[\\/]packages[\\/]core[\\/]src[\\/]advisories[\\/]match\.ts$/;
const LAZY_IMPORTS = [
  {
    file: /[\\/]packages[\\/]core[\\/]src[\\/](?:model|advisories[\\/]osv)\.ts$/,
    eager: "import { z } from 'zod';",
    lazy: "let zodLoaded: any; const z: any = new Proxy({}, { get: (_t, p) => (zodLoaded ??= require('zod').z)[p] });",
  },
  // The version libraries build their patterns as they load (semver ~40 regular expressions,
  // PEP 440's a few): required on first use instead. Plain MAJOR.MINOR.PATCH versions are read
  // and ordered without semver (core/src/packages/versions.ts), and npm ranges are matched
  // against advisories only for packages an advisory names: most scans never load it.
  ...[
    [VERSIONS_TS, 'semverCompare', 'semver/functions/compare.js'],
    [VERSIONS_TS, 'semverParse', 'semver/functions/parse.js'],
    [MATCH_TS, 'semverIntersects', 'semver/ranges/intersects.js'],
    [MATCH_TS, 'semverValidRange', 'semver/ranges/valid.js'],
    [MATCH_TS, 'semverSatisfies', 'semver/functions/satisfies.js'],
    [MATCH_TS, 'semverValid', 'semver/functions/valid.js'],
  ].map(([file, name, mod]) => ({ file, eager: `import ${name} from '${mod}';`, lazy: `const ${name} = (...a: any[]) => require('${mod}')(...a);` })),
  {
    file: VERSIONS_TS,
    eager: "import * as pep440 from '@renovatebot/pep440';",
    lazy: "let pep440Loaded: any; const pep440: any = new Proxy({}, { get: (_t, p) => (pep440Loaded ??= require('@renovatebot/pep440'))[p] });",
  },
  {
    file: /[\\/]packages[\\/]agent[\\/]src[\\/]formats[\\/]index\.ts$/,
    eager: "import { parse as parseYamlText } from 'yaml';",
    lazy: "const parseYamlText: typeof import('yaml').parse = (...a: any[]) => (require('yaml').parse as any)(...a);",
  },
];
// The agent's version comes from its package.json: in the bundle it is written in at build
// time (the bundle is made from these sources, at this version), instead of loading the file
// through Node's module loader at every start.
const agentVersion = JSON.parse(readFileSync(path.join(packagesDir, 'agent', 'package.json'), 'utf8')).version;
const inlineAgentVersion = {
  name: 'inline-agent-version',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/]agent[\\/]src[\\/]version\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const lines = ["import { createRequire } from 'node:module';", 'const require = createRequire(import.meta.url);', "(require('../package.json') as { version: string }).version"];
      // a source that no longer has these lines is bundled as it is
      if (!lines.every((l) => source.includes(l))) return undefined;
      const contents = source.replace(lines[0], '').replace(lines[1], '').replace(lines[2], JSON.stringify(agentVersion));
      return { contents, loader: 'ts' };
    });
  },
};

const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    // one loader per file pattern, making every replacement listed for it
    const byFile = new Map();
    for (const entry of LAZY_IMPORTS) byFile.set(entry.file.source, [...(byFile.get(entry.file.source) ?? []), entry]);
    for (const entries of byFile.values()) {
      b.onLoad({ filter: entries[0].file }, (args) => {
        let source = readFileSync(args.path, 'utf8');
        // a line the source no longer has is left out (the import stays as it is)
        const present = entries.filter(({ eager }) => source.includes(eager));
        if (present.length === 0) return undefined;
        for (const { eager, lazy } of present) source = source.replace(eager, lazy);
        return { contents: source, loader: 'ts' };
      });
    }
  },
};

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // the sources, not a possibly stale dist, are what gets bundled
  conditions: ['source'],
  // prefer ES module builds (jsonc-parser's UMD build loads files by computed paths)
  mainFields: ['module', 'main'],
  // native addons and the backend stay ordinary imports, resolved from node_modules at run time
  external: ['@palisade/server', '@palisade/gateway', 'better-sqlite3', 'bcrypt', '@node-rs/*', 'pg', 'pg-native', 'fsevents'],
  // taken once at the top, where `require` is still Node's own (a module may shadow it)
  banner: { js: 'var __palisadeBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  minify: process.env.PALISADE_BUNDLE_MINIFY !== '0',
  // PALISADE_BUNDLE_SOURCEMAP=1 writes palisade.cjs.map, to read a CPU profile of the bundle
  sourcemap: process.env.PALISADE_BUNDLE_SOURCEMAP === '1' ? 'external' : false,
  legalComments: 'none',
  logLevel: 'warning',
  // PALISADE_BUNDLE_METAFILE=1 writes palisade.cjs.meta.json (what each file holds: esbuild's metafile)
  metafile: process.env.PALISADE_BUNDLE_METAFILE === '1',
};

const main = await build({
  ...common,
  entryPoints: [path.join(cliDir, 'src', 'main.ts')],
  outfile: bundleFile,
  plugins: [lazyModulesOut, lazyPackages, inlineAgentVersion, keepImportMetaUrl, lazyCommanderChildProcess, jsoncParserOnly],
});

// The lazy bundle: one object whose getters initialise a module on first access.
const lazyEntry = [...LAZY_MODULES].map((key) => `Object.defineProperty(exports, ${JSON.stringify(key)}, { enumerable: true, get: () => require(${JSON.stringify(path.join(packagesDir, ...key.split('/')))}) });`).join('\n');
const lazy = await build({
  ...common,
  stdin: { contents: lazyEntry, resolveDir: cliDir, sourcefile: 'palisade-lazy-entry.js', loader: 'js' },
  outfile: path.join(distDir, LAZY_FILE),
  plugins: [keepImportMetaUrl],
});
for (const [pkg, file] of Object.entries(LAZY_PACKAGES)) {
  await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: cliDir, sourcefile: `palisade-${pkg}-entry.js`, loader: 'js' },
    outfile: path.join(distDir, file),
  });
}
if (common.metafile) {
  writeFileSync(`${bundleFile}.meta.json`, JSON.stringify(main.metafile));
  writeFileSync(path.join(distDir, `${LAZY_FILE}.meta.json`), JSON.stringify(lazy.metafile));
}

// Fill the code cache by running a small scan through the bundle: what that run compiled
// (startup, discovery, rules, JSON output) is what the cache holds. A function the warm-up
// never ran is compiled again at every start, so the warm-up home has every known client's
// config (every-client-home.mjs), each config format (JSON, JSONC, YAML, TOML) and the usual
// server shapes (npx, uvx, docker, remote, shell). Measured: ~8M fewer instructions per
// 500-server scan (callgrind, 4 runs each) than with five clients' files.
// Test fixture values only: the token below is made up and merely shaped like a real one.
const WARMUP_TOKEN = 'ghp_WarmupFixtureNotARealToken0123456789';
const warmupServers = Array.from({ length: 6 }, (_, i) => serverSpec(i, WARMUP_TOKEN));
// JSONC, which no client's own shape in every-client-home.mjs produces: a comment and a
// trailing comma send it through the tolerant parser
const jsoncFile = ['.config/Code/User/settings.json', `{\n  // test fixture\n  "mcp": { "servers": { "w": { "type": "stdio", "command": "npx", "args": ["-y", "mcp-remote@latest"], }, } },\n}\n`];
// without the agent's built code (which says where each client keeps its config) only these
// four files, one per config format
const fallbackFiles = [
  ['.config/Claude/claude_desktop_config.json', SHAPES.mcpServers(warmupServers)],
  ['.codex/config.toml', SHAPES.codexToml(warmupServers)],
  ['.continue/config.yaml', SHAPES.continueYaml(warmupServers)],
  ['.config/goose/config.yaml', SHAPES.gooseYaml(warmupServers)],
];
const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-bundle-warmup-'));
try {
  // a config for every known client (their parsers, from the agent's built code), then the
  // JSONC file over VS Code's settings: a function the warm-up never runs is compiled at every start
  const files = [jsoncFile];
  try {
    await writeEveryClientHome(home, { perFile: warmupServers.length, token: WARMUP_TOKEN, platform: 'linux' });
  } catch (err) {
    process.stderr.write(`note: the warm-up covers a few clients only (${err instanceof Error ? err.message : String(err)}); build the agent first (\`npm run build\`)\n`);
    files.unshift(...fallbackFiles);
  }
  for (const [rel, text] of files) {
    const file = path.join(home, ...rel.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const bin = process.env.PALISADE_BUNDLE_BIN ? path.resolve(process.env.PALISADE_BUNDLE_BIN) : path.join(cliDir, 'bin', 'palisade.js');
  const r = spawnSync(process.execPath, [bin, 'scan', '--json', '--home', home, '--platform', 'linux'], { env: { ...process.env, PALISADE_WRITE_CODE_CACHE: '1' }, encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`note: the code cache was not written (warm-up scan exited ${r.status}): ${r.stderr}\n`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
