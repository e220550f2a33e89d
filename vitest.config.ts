import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser tests need the built console.
    globalSetup: ['test/console/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests share one PostgreSQL server; each file uses its own schema-isolated database.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
})
