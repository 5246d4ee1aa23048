import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const miniapp = path.resolve(import.meta.dirname, 'miniapp');

export default defineConfig({
  test: {
    // Most test time waits on Postgres, child processes and timers, not on this process's CPU: vitest's default
    // (cores - 1) would run the files one by one on a 2-core CI machine.
    maxWorkers: Math.max(3, os.availableParallelism() - 1),
    projects: [
      {
        // API and unit tests on a real Postgres (one embedded cluster for the run, a database per file).
        test: {
          name: 'api',
          include: [
            'shared/src/**/*.test.ts',
            'server/src/**/*.test.ts',
            'scripts/src/**/*.test.ts',
            'tests/api/**/*.test.ts',
          ],
          globalSetup: ['tests/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        // Mini-program page and service tests: jsdom, Taro mocked, no database.
        resolve: {
          alias: [
            { find: /^@tarojs\/components$/, replacement: path.join(miniapp, 'test/taro-components.tsx') },
          ],
        },
        test: {
          name: 'miniapp',
          root: miniapp,
          include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          setupFiles: ['test/setup.ts'],
          testTimeout: 10_000,
        },
      },
      {
        // Console page tests: jsdom, the SDK client replaced by a fake object (console/test/fake-api.ts).
        test: {
          name: 'console',
          root: path.resolve(import.meta.dirname, 'console'),
          include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          setupFiles: ['test/setup.ts'],
          // AntD's pickers and tables are slow to drive in jsdom.
          testTimeout: 60_000,
        },
      },
      {
        // Builds (weapp size, h5) and the browser end-to-end run against the real server. After the others:
        // the h5 build and chromium would compete with the API tests for the two cores.
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          pool: 'forks',
          // One Taro build at a time: two builds of the same app in parallel spoil each other's output.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
