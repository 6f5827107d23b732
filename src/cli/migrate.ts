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
