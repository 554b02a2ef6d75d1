import { defineConfig } from 'vitest/config';

/*
 * One suite for both databases: the global setup starts one embedded PostgreSQL for the run (or
 * uses DATABASE_URL), migrates a template database once, and each test file clones it with
 * CREATE DATABASE … TEMPLATE, which is cheap (a file copy) and isolates files from each other.
 */
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/server/src/**/*.test.ts', 'apps/web/src/**/*.test.ts'],
    globalSetup: ['apps/server/src/test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
