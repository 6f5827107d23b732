import { ledgerProjection } from '../../../ledger/projections/index.js';
import type { LedgerTables } from '../../../ledger/writer/tables.js';
import { defineContext, tablesOf } from '../../platform/context.js';
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
export const ledgerContext = defineContext({
  name: 'ledger',
  needs: {},
  projections: [ledgerProjection],
  tables: tablesOf<LedgerTables>(),
  create({ runtime, eventStore }) {
    const ledger = createLedgerService(runtime, eventStore);
    return {
      service: ledger,
      routes(app) {
        registerLedgerRoutes(app, ledger, runtime.database.db);
      },
      reactors: [
        {
          name: 'ledger writer',
          async start() {
            void ledger.writer
              .start()
              .catch((error: unknown) =>
                runtime.logger.warn({ err: error }, 'ledger writer not started yet'),
              );
            ledger.startSchedules();
          },
        },
      ],
      // Ready unless the writer stopped on a broken invariant; a standby without the lease is healthy.
      health: [
        {
          name: 'ledger',
          check: async () => {
            const failure = ledger.writer.failure();
            if (failure !== null) throw failure;
          },
        },
      ],
      seed: { run: () => ledgerSeedStep.run({ ledger }) },
    };
  },
});
