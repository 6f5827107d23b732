import { ledgerProjection } from '../../../ledger/projections/index.js';
import type { LedgerTables } from '../../../ledger/writer/tables.js';
import { defineContext, tablesOf } from '../../platform/context.js';
import { registerLedgerMetrics } from './metrics.js';
import { registerLedgerRelayMetrics } from './relay-metrics.js';
import { registerLedgerRoutes } from './routes.js';
import { ledgerSeedStep } from './seed.js';
import { createLedgerService } from './service.js';

export { createLedgerService, type Ledger } from './service.js';

/**
 * The double-entry ledger (ledger/: rules, writer, read models) as a context: the admin API
 * (verify, trial balance, account statements), its read model, and its lifecycle: the writer
 * starts when the app is ready (restoring its snapshot and tail in the background, so a process
 * that waits for the lease still starts), and the hold-expiry schedule with it.
 */
const VERIFY_QUEUE = 'ledger-verify';

export const ledgerContext = defineContext({
  name: 'ledger',
  needs: {},
  projections: [ledgerProjection],
  tables: tablesOf<LedgerTables>(),
  create({ runtime, eventStore, jobs }) {
    const ledger = createLedgerService(runtime, eventStore);
    return {
      service: ledger,
      routes(app) {
        registerLedgerRoutes(app, ledger, runtime.database.db);
        registerLedgerMetrics(app.metricsRegistry, runtime.database.db, ledger);
        registerLedgerRelayMetrics(app.metricsRegistry, ledger.relay);
      },
      jobs: [
        {
          queue: VERIFY_QUEUE,
          concurrency: 1,
          attempts: 1,
          async handler() {
            const report = await ledger.verify({ source: 'schedule' });
            if (!report.ok)
              runtime.logger.error(
                { mismatches: report.mismatches.length, finalHash: report.finalHash },
                'nightly ledger verification FAILED: run npm run ledger -- verify',
              );
          },
        },
      ],
      // Nightly, before the business day (Douala time); one run per day whatever the instances.
      schedules: [
        {
          name: 'ledger-verify-nightly',
          cron: '15 3 * * *',
          run: async (at) =>
            void (await jobs.queue.enqueue(
              VERIFY_QUEUE,
              {},
              { jobId: `ledger-verify-${Math.floor(at.getTime() / 86_400_000)}` },
            )),
        },
      ],
      reactors: [
        {
          name: 'ledger writer',
          async start() {
            // The writer's loop takes the lease when it is free; until then calls go to the holder.
            await ledger.relay.start();
            ledger.startSchedules();
          },
        },
      ],
      // Ready when this instance gets a ledger answer: it holds the lease, or the holder answered a
      // ping through the relay in time. A writer stopped on a broken invariant is never ready.
      health: [
        {
          name: 'ledger',
          check: async () => {
            await ledger.relay.ping(1_500);
          },
        },
      ],
      seed: { run: () => ledgerSeedStep.run({ ledger }) },
    };
  },
});
