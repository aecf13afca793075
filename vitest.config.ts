import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{native,server,harness,scripts,test}/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Load tests need both cores to themselves: one test file at a time.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
