import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import { createTestDatabase } from '../helpers/database.js';
import { describeEventStoreContract } from './contract.js';

describeEventStoreContract('PostgreSQL', async () => {
  const database = await createTestDatabase();
  const adapter = createPostgresAdapter({ pool: database.pool, connectionString: database.url });
  const store = createEventStore({
    adapter,
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
  return {
    store,
    // Inserts through the same SQL function as append, then keeps the transaction open.
    async holdAppend(stream, events) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      await client.query('BEGIN');
      const json = JSON.stringify(events.map((item) => ({ ...item, metadata: { schemaVersion: 1 } })));
      await client.query('SELECT * FROM eventstore_append($1, 0::smallint, NULL, $2::jsonb)', [stream, json]);
      return {
        async commit() {
          await client.query('COMMIT');
          await client.end();
        },
      };
    },
    async close() {
      await store.close();
      await database.drop();
    },
  };
});
