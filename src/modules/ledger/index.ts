import type { ModuleRegistration } from '../index.js';
import { registerLedgerRoutes } from './routes.js';

export { createLedgerService, type Ledger } from './service.js';

/**
 * The ledger's admin API (verify, trial balance, account statements) and its lifecycle: the
 * writer starts when the app is ready (restoring its snapshot and tail in the background, so a
 * process that waits for the lease still starts), and the hold-expiry schedule with it.
 */
export const ledgerModule: ModuleRegistration = {
  name: 'ledger',
  async plugin(app, { services }) {
    const { ledger } = services;
    registerLedgerRoutes(app, ledger, services.runtime.database.db);
    app.addHook('onReady', async () => {
      void ledger.writer
        .start()
        .catch((error: unknown) => app.log.warn({ err: error }, 'ledger writer not started yet'));
      ledger.startSchedules();
    });
  },
};
