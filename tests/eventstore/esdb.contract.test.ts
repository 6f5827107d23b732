import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { createEsdbAdapter } from '../../src/eventstore/esdb/adapter.js';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createEventStore } from '../../src/eventstore/store.js';
import { createTestDatabase } from '../helpers/database.js';
import { describeEventStoreContract } from './contract.js';

// The same contract against EventStoreDB, whenever one is given (README: docker compose up eventstore).
const url = process.env.EVENTSTORE_URL;

if (url === undefined) {
  process.stderr.write(
    '\n[eventstore] EventStoreDB contract suite NOT RUN: EVENTSTORE_URL is not set.\n' +
      '             Run it with: docker compose up -d eventstore && EVENTSTORE_URL="esdb://localhost:2113?tls=false" npx vitest run tests/eventstore\n\n',
  );
  describe('event store contract: EventStoreDB', () => {
    it.skip('NOT RUN: set EVENTSTORE_URL=esdb://localhost:2113?tls=false to run the contract against EventStoreDB', () => {});
  });
} else {
  describeEventStoreContract('EventStoreDB', async () => {
    // Data keys live in PostgreSQL whatever the event store is (outside the streams).
    const database = await createTestDatabase();
    const adapter = createEsdbAdapter({ connectionString: url });
    const store = createEventStore({
      adapter,
      vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
    });
    return {
      store,
      async close() {
        await store.close();
        await database.drop();
      },
    };
  });
}
