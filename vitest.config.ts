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
    // expect.poll waits on real screens over real IPC and a real token: on two loaded cores a share
    // check can take longer than vitest's 1 s default, which is a slow machine, not a failure.
    expect: { poll: { timeout: 15_000 } },
  },
});
