import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectionRunner } from '../../projections/runner.js';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testEnvironment } from '../helpers/app.js';

const run = promisify(execFile);

/**
 * `npm run projections -- …` is `tsx src/cli/projections.ts …`; run it against a test database
 * (node with tsx's loader directly: npx added seconds per call on a loaded CI machine).
 */
async function cli(database: TestDatabase, ...args: string[]) {
  return tool(database, 'projections', ...args);
}

async function tool(database: TestDatabase, name: string, ...args: string[]) {
  const environment = {
    ...process.env,
    ...testEnvironment({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' }),
  };
  return run(process.execPath, ['--import', 'tsx', `src/cli/${name}.ts`, ...args], {
    env: environment,
    timeout: 90_000,
  }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

describe('npm run projections', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    const store = createEventStore({
      adapter: createPostgresAdapter({ pool: database.pool, connectionString: database.url }),
      vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
    });
    await store.append('cli-1', [{ type: 'Counted', data: {} }]);
    const runner = createProjectionRunner({
      db: database.db,
      store,
      projections: [
        {
          name: 'cli_counts',
          version: 1,
          tables: ['cli_counts'],
          setup: async ({ db, schema }) =>
            void (await sql`CREATE TABLE ${sql.id(schema, 'cli_counts')} (n int)`.execute(db)),
          handle: async (_event, { db, schema }) =>
            void (await sql`INSERT INTO ${sql.id(schema, 'cli_counts')} VALUES (1)`.execute(db)),
        },
      ],
    });
    await runner.start();
    await runner.waitUntilCaughtUp('cli_counts');
    await runner.stop();
    await store.close();
  });
  afterAll(async () => database?.drop());

  // Each test starts the CLI as a process of its own: seconds each, many more on a loaded machine.
  it(
    'status prints each projection with its generation and lag, against DATABASE_URL',
    { timeout: 120_000 },
    async () => {
      const result = await cli(database, 'status');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/cli_counts/);
      expect(result.stdout).toMatch(/active/);
    },
  );

  it(
    'rebuild prints one summary line with the events applied and the rate when not on a terminal',
    { timeout: 180_000 },
    async () => {
      const result = await cli(database, 'rebuild', 'ledger');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^rebuild ledger: \d[\d,]* events in \d+\.\d s \(\d[\d,]* events\/s\)$/m);
      expect(result.stdout).toMatch(/rebuilt ledger: generation \d+ is active/);
      // No live line (carriage returns, escape codes) in a log.
      expect(result.stderr).not.toContain('\r');
      expect(result.stderr).not.toContain('\u001b[');
    },
  );

  it(
    'ledger verify prints one summary line with the events read and the rate when not on a terminal',
    { timeout: 180_000 },
    async () => {
      const result = await tool(database, 'ledger', 'verify', '--no-projections');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^verify: read: \d[\d,]* events in \d+\.\d s \(\d[\d,]* events\/s\)$/m);
      expect(result.stdout).toMatch(/^verify: OK$/m);
      expect(result.stderr).not.toContain('\r');
      expect(result.stderr).not.toContain('\u001b[');
    },
  );

  it(
    'rebuild of an unknown projection fails with a message naming it; no command is a usage error',
    { timeout: 180_000 },
    async () => {
      const unknown = await cli(database, 'rebuild', 'nope');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no projection named nope/);
      const usage = await cli(database);
      expect(usage.code).toBe(64);
      expect(usage.stderr).toMatch(/no command given\n\nusage: npm run projections -- <command>/);
    },
  );
});
