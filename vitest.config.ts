import { defineConfig } from 'vitest/config';

// Integration suites talk to the real PostgreSQL and Redis; each suite creates its own
// database (tests/helpers/database.ts), so files may run in parallel on the 2 cores.
export default defineConfig({
  test: {
    include: [
      'src/**/*.test.ts',
      'ledger/**/*.test.ts',
      'projections/**/*.test.ts',
      'ml/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    globalSetup: ['tests/helpers/global-setup.mjs'],
    testTimeout: 30_000,
    // On CI (a slower, shared machine running Node 20 and 22), a failed test runs once more; .ci/run
    // lists every test that passed only on its second run as FLAKY with its first failure, so a
    // race is reported and fixed, not hidden. A test that fails twice fails the run. Locally: none.
    retry: process.env.CI ? 1 : 0,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
    reporters: ['default'],
    // Test files are imported by Node itself with tsx's loader (as `npm start` runs the service),
    // not through Vite's module runner: importing the app took 7.8 s per file through the runner and
    // 2.2 s natively, for 339 files. No suite uses vi.mock (which needs the runner), and the global
    // setup is plain JavaScript because it runs in Vitest's own process, where no loader is registered.
    execArgv: ['--import', 'tsx'],
    experimental: { viteModuleRunner: false, nodeLoader: false },
  },
});
