import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Reliability tests (`pnpm test:reliability`): the real server as a child process on its own embedded Postgres,
 * killed, starved of its database and overloaded. Not part of `pnpm test`; no global Postgres: each test starts
 * what it needs. One file at a time: each one loads both cores on purpose.
 */
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    name: 'reliability',
    include: ['tests/reliability/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
