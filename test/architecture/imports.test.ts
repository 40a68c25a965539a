// The house's walls: which package may import which. Arrows point one way,
// cli -> agent / server / gateway -> mcp -> core, and the dashboard reaches the backend over
// HTTP only. A wrong-way import, an import of another package's files by path, or an
// import of a @palisade package that package.json does not declare fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const packagesDir = path.join(root, 'packages');

/** What each package may import of ours. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  mcp: ['core'],
  agent: ['core', 'mcp'],
  server: ['core'],
  gateway: ['core', 'mcp'],
  cli: ['core', 'agent', 'server', 'gateway'],
  web: [],
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(?:ts|tsx|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// static imports, re-exports and dynamic import() of a string literal
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => m[1]!);
}

const packages = readdirSync(packagesDir).filter((p) => statSync(path.join(packagesDir, p, 'package.json'), { throwIfNoEntry: false }));

describe('package boundaries', () => {
  it('knows every package in packages/', () => {
    expect(packages.filter((p) => !(p in ALLOWED))).toEqual([]);
  });

  for (const pkg of packages) {
    it(`${pkg} imports only ${ALLOWED[pkg]?.join(', ') || 'nothing of ours'}, through package entries declared in its package.json`, () => {
      const manifest = JSON.parse(readFileSync(path.join(packagesDir, pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }));
      const problems: string[] = [];
      const srcDir = path.join(packagesDir, pkg, 'src');
      for (const file of sourceFiles(path.join(packagesDir, pkg))) {
        const rel = path.relative(root, file);
        const inSrc = file.startsWith(srcDir + path.sep);
        for (const spec of importsOf(file)) {
          const ours = /^@palisade\/([a-z-]+)/.exec(spec)?.[1];
          if (ours && ours !== pkg) {
            // Sources follow the arrows. Tests may also use any lower package to set things
            // up, and an end-to-end test may drive another package it declares as a dev
            // dependency (the backend's redaction tests scan with the agent), never one its
            // own sources could not reach otherwise without saying so.
            const allowed = inSrc ? ALLOWED[pkg]! : [...ALLOWED[pkg]!, ...lowerThan(pkg), ...devOnly(manifest)];
            if (!allowed.includes(ours)) problems.push(`${rel} imports @palisade/${ours}`);
            else if (inSrc && !declared.has(`@palisade/${ours}`)) problems.push(`${rel} imports @palisade/${ours}, which packages/${pkg}/package.json does not declare`);
          }
          if (spec.startsWith('.') && inSrc) {
            const target = path.resolve(path.dirname(file), spec);
            if (!target.startsWith(srcDir + path.sep)) problems.push(`${rel} reaches outside its package by path: ${spec}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

/** The @palisade packages a package.json lists as dev dependencies only (for its tests). */
function devOnly(manifest: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }): string[] {
  return Object.keys(manifest.devDependencies ?? {})
    .filter((d) => d.startsWith('@palisade/') && !(d in (manifest.dependencies ?? {})))
    .map((d) => d.slice('@palisade/'.length));
}

/** Every package below `pkg` in the arrows, transitively. */
function lowerThan(pkg: string): string[] {
  const seen = new Set<string>();
  const walk = (p: string) => {
    for (const q of ALLOWED[p] ?? []) {
      if (seen.has(q)) continue;
      seen.add(q);
      walk(q);
    }
  };
  walk(pkg);
  return [...seen];
}

describe('folders inside core', () => {
  it('import each other without a loop (rules may use advisories, never the reverse)', () => {
    const coreSrc = path.join(packagesDir, 'core', 'src');
    const folderOf = (file: string): string => path.relative(coreSrc, path.dirname(file)).split(path.sep)[0] || '.';
    const edges = new Map<string, Set<string>>();
    for (const file of sourceFiles(coreSrc)) {
      const from = folderOf(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const to = folderOf(path.resolve(path.dirname(file), spec));
        // the top folder holds the shared leaves (model, hash, order): everything may use them
        if (to === from || to === '.') continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    const loops: string[] = [];
    for (const [a, tos] of edges) for (const b of tos) if (edges.get(b)?.has(a)) loops.push(`${a} <-> ${b}`);
    expect(loops).toEqual([]);
  });
});
