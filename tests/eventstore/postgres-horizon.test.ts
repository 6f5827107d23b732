import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import type { EventStore, RecordedEvent } from '../../src/eventstore/index.js';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
const stores: EventStore[] = [];
function storeWith(horizon: 'database' | 'cluster') {
  const store = createEventStore({
    adapter: createPostgresAdapter({ pool: database.pool, connectionString: database.url, horizon }),
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
  stores.push(store);
  return store;
}

/** A transaction that took an id (it wrote) and stays open until released. */
async function openWriter(url: string, statement: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(statement);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const store of stores) await store.close();
  await database?.drop();
});

async function seenWithin(store: EventStore, prefix: string, ms: number): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  const subscription = store.subscribeToAll({
    from: 'start',
    filter: { streamPrefixes: [prefix] },
    onEvent: (event) => void seen.push(event),
  });
  await subscription.caughtUp;
  await store.append(`${prefix}-1`, [{ type: 'Tick', data: {} }]);
  const deadline = Date.now() + ms;
  while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  await subscription.stop();
  return seen;
}

describe('PostgreSQL read horizon', () => {
  it('database (default): an open write transaction that is not an append does not hold subscribers back', async () => {
    const releaseHere = await openWriter(
      database.url,
      `INSERT INTO system_state (key, value) VALUES ('horizon-test', '1')`,
    );
    const releaseElsewhere = await openWriter(ADMIN_DATABASE_URL, 'SELECT pg_current_xact_id()');
    try {
      const seen = await seenWithin(storeWith('database'), `db${randomUUID().slice(0, 8)}`, 2_000);
      expect(seen.map((event) => event.type)).toEqual(['Tick']);
    } finally {
      await releaseHere();
      await releaseElsewhere();
    }
  });

  it('cluster: the same open transaction holds subscribers back until it ends (the documented trade-off)', async () => {
    const release = await openWriter(ADMIN_DATABASE_URL, 'SELECT pg_current_xact_id()');
    try {
      const seen = await seenWithin(storeWith('cluster'), `cl${randomUUID().slice(0, 8)}`, 300);
      expect(seen).toEqual([]);
    } finally {
      await release();
    }
  });

  it('refuses an append inside a transaction that already wrote (its id would predate the lock)', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO system_state (key, value) VALUES ('append-after-write', '1')`);
      const events = JSON.stringify([
        { id: randomUUID(), type: 'T', data: {}, metadata: { schemaVersion: 1 } },
      ]);
      await expect(
        client.query('SELECT * FROM eventstore_append($1, 0::smallint, NULL, $2::jsonb)', ['late-1', events]),
      ).rejects.toThrow(/must run before anything else/);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
  });
});
