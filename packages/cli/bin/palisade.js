#!/usr/bin/env node
// The `palisade` executable. Runs the bundled CLI (dist/palisade.cjs, made by `npm run build`)
// with its V8 code cache, so it starts without compiling ~1 MB of JavaScript; falls back to the
// plain tsc output (dist/main.js) when there is no bundle or `tsc -b` ran after it was made,
// so stale code never runs.
// CommonJS (bin/package.json says so): a CommonJS entry starts without setting up Node's
// ES module loader, a few ms of every run. The tsc fallback below is still loaded with import().
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
const { closeSync, fstatSync, openSync, readSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const here = (rel) => path.join(__dirname, rel);
const mtime = (file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

/** Reads up to `size` bytes of an open file into buf at `at`; returns how many it read. */
function readInto(fd, buf, at, size) {
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, at + got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

const bundle = here('../dist/palisade.cjs');
const bundleTime = mtime(bundle);
// the bundle holds the cli, agent, mcp and core code: newer tsc output of any of them makes it stale
const compiledTime = Math.max(...['..', '../../agent', '../../mcp', '../../core'].map((dir) => mtime(here(`${dir}/dist/.tsbuildinfo`)) ?? 0));

// PALISADE_BUNDLE=1 skips the staleness check (the bench sets it: in a tree where others run
// `tsc -b` all the time the check would otherwise measure the fallback)
const forceBundle = process.env.PALISADE_BUNDLE === '1' && bundleTime !== undefined;

// Only the commands whose start-up time matters run from the bundle. The others (serve,
// report, advisories ...) load modules left outside the bundle (the backend, native addons),
// and V8 loses the dynamic import() hook of a script compiled from a code cache.
const BUNDLED_COMMANDS = new Set(['scan', 'rules', 'pins', undefined, '-h', '--help', '-V', '--version', 'help']);
const useBundle = BUNDLED_COMMANDS.has(process.argv[2]);

// The npm package (palisade-mcp) carries only the bundle: every command runs from it, the
// ones outside BUNDLED_COMMANDS without the code cache (they may import() what stays outside).
const packed = bundleTime !== undefined && mtime(here('../dist/main.js')) === undefined;

if (packed && !useBundle) {
  require(bundle);
} else if (!useBundle || (!forceBundle && (bundleTime === undefined || bundleTime < compiledTime))) {
  if (mtime(here('../dist/main.js')) === undefined) {
    process.stderr.write('palisade: the CLI has not been built yet. Run `npm install` (or `npm run build`) at the root of the checkout, then try again.\n');
    process.exit(2);
  }
  import('../dist/main.js');
} else {
  // A scan is a short burst of work: TurboFan's optimising compiles (threads beside the scan)
  // cost more CPU than the optimised code saves before exit; regular expressions compile once,
  // straight to machine code, instead of first to bytecode and again when they turn hot; the
  // young generation keeps its first size instead of doubling, so collections reuse pages the
  // process has already touched (each new page is a page fault: ~1,500 fewer in a 500-server
  // scan, ~10% of its wall time in a VM); young-generation collections run on the main thread
  // alone (handing one this small to helper threads and waiting for them cost more than they
  // saved: ~4 ms of a 500-server scan's wall time, 31 interleaved runs on a quiet 2-core VM;
  // --single-threaded-gc would do the same but cannot be switched on once the heap runs: V8
  // aborts when a concurrent marking it started finishes). Flags are part of what a code cache is checked
  // against: the build's warm-up runs through this same line, so the cache it writes matches.
  // That check also applies to Node's own modules, whose embedded code cache was made with the
  // default flags: one first required after the flags change is compiled from source instead.
  // So the ones every bundled command loads anyway (the bundle's core hashes with node:crypto,
  // the scan reads node:os, output goes to process.stdout) are loaded before: 20 fewer modules
  // compiled, ~11M fewer instructions per scan (callgrind).
  require('node:crypto');
  require('node:os');
  void process.stdout;
  require('node:v8').setFlagsFromString('--no-opt --no-regexp-tier-up --semi-space-growth-factor=1 --no-parallel-scavenge');
  const cacheFile = `${bundle}.cache`;
  // The bundle's text and its code cache are read through ONE buffer: the text first (with the
  // same wrapper Node gives a CommonJS module around it, decoded once: joining the wrapper on
  // afterwards would make V8 copy it twice more), then, once the text is a string, the cache
  // over the same bytes. Every page of a new buffer is a page fault, and faults are costly here
  // (a VM): one buffer instead of two is ~90 fewer per scan.
  const head = Buffer.from('(function (exports, require, module, __filename, __dirname) {');
  const tail = Buffer.from('\n})');
  const fd = openSync(bundle, 'r');
  let cacheFd;
  try {
    cacheFd = openSync(cacheFile, 'r');
  } catch {
    // no cache: V8 compiles as usual
  }
  let source;
  let cachedData;
  try {
    const size = fstatSync(fd).size;
    const cacheSize = cacheFd === undefined ? 0 : fstatSync(cacheFd).size;
    const buf = Buffer.allocUnsafe(Math.max(head.length + size + tail.length, cacheSize));
    head.copy(buf, 0);
    const got = readInto(fd, buf, head.length, size);
    tail.copy(buf, head.length + got);
    source = buf.toString('utf8', 0, head.length + got + tail.length);
    // the text is a string of its own now (a copy): the buffer is free for the cache
    if (cacheFd !== undefined) cachedData = buf.subarray(0, readInto(cacheFd, buf, 0, cacheSize));
  } finally {
    closeSync(fd);
    if (cacheFd !== undefined) closeSync(cacheFd);
  }
  const options = { filename: bundle, cachedData };
  const script = new vm.Script(source, options);
  if (process.env.PALISADE_WRITE_CODE_CACHE === '1') {
    // only the build asks for this: what ran by exit is what the cache will hold
    process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  }
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
}
