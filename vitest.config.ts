import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    pool: 'forks',
    // One temp folder per run, removed at its end (test/harness/global-tmp.ts).
    globalSetup: ['test/harness/global-tmp.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end tests start real processes; two cores are shared by everything.
    maxWorkers: 2,
  },
});
