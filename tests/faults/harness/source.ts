import { createDatabase } from '../../../src/db/database.js';
import { createEventStoreForRuntime } from '../../../src/eventstore/index.js';
import type { RunningSimulators } from '../../../src/modules/payments/simulators/index.js';
import type { InvariantSource, ProviderRecord } from '../invariants.js';

export const CHECKER_CONNECTION_NAME = 'faults-checker';

/** What the checker reads: the database (on connections of its own name) and the simulators. */
export function invariantSource(options: {
  databaseUrl: string;
  encryptionKey: string;
  simulators: RunningSimulators;
  leaseMs: number;
}): InvariantSource & { close(): Promise<void> } {
  const url = new URL(options.databaseUrl);
  url.searchParams.set('application_name', CHECKER_CONNECTION_NAME);
  const database = createDatabase({ connectionString: url.toString(), max: 4 });
  const store = createEventStoreForRuntime({
    config: { EVENTSTORE_URL: undefined, ENCRYPTION_KEY: options.encryptionKey },
    database,
  });
  const { simulators } = options;
  return {
    db: database.db,
    store,
    leaseMs: options.leaseMs,
    providerRecords: (): ProviderRecord[] => [
      ...simulators.campay.engine.list().map((transaction) => ({ provider: 'campay' as const, transaction })),
      ...simulators.mtn.engine.list().map((transaction) => ({ provider: 'mtn_momo' as const, transaction })),
    ],
    async close() {
      await store.close();
      await database.close();
    },
  };
}
