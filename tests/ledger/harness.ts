import { randomBytes } from 'node:crypto';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import type { EventStore } from '../../src/eventstore/index.js';
import {
  createLedgerWriter,
  type LedgerWriter,
  type LedgerWriterOptions,
} from '../../ledger/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * A real ledger writer over a fresh migrated database and the PostgreSQL event store, for the
 * ledger's integration and property tests. `writer()` builds another writer on the same stream
 * (a restart, or a rival process).
 */
export interface LedgerHarness {
  database: TestDatabase;
  store: EventStore;
  writer(overrides?: Partial<Omit<LedgerWriterOptions, 'db'>>): LedgerWriter;
  close(): Promise<void>;
}

export async function createLedgerHarness(): Promise<LedgerHarness> {
  const database = await createTestDatabase();
  const adapter = createPostgresAdapter({ pool: database.pool, connectionString: database.url });
  const store = createEventStore({
    adapter,
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
  const writers: LedgerWriter[] = [];
  return {
    database,
    store,
    writer(overrides = {}) {
      const writer = createLedgerWriter({
        store,
        db: database.db,
        leaseConnectionString: database.url,
        ...overrides,
      });
      writers.push(writer);
      return writer;
    },
    async close() {
      await Promise.allSettled(writers.map((writer) => writer.close()));
      await store.close();
      await database.drop();
    },
  };
}
