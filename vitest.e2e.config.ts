import { defineConfig } from 'vitest/config';

/** Browser tests: a real server and Debian's Chromium driven by playwright-core. Run after the web build. */
export default defineConfig({
  test: {
    include: ['apps/web/e2e/**/*.e2e.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A UI waits on the network; the 1 s default of expect.poll is too tight on a busy CI machine.
    expect: { poll: { timeout: 10_000, interval: 100 } },
  },
});
