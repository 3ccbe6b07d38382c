import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Tests that spawn bin/keyrite.mjs run the compiled CLI: rebuilt from the sources first.
    globalSetup: ['test/setup/build-cli.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // SoftHSM tokens and Chromium are real; two cores in CI.
    maxWorkers: 2,
  },
});
