import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectionRunner } from '../../projections/runner.js';
import type { ProjectionDefinition } from '../../projections/types.js';
import {
  createUpcasterRegistry,
  PERSONAL_DATA_ERASED,
  REDACTED,
  type EventStore,
  type RecordedEvent,
} from '../../src/eventstore/index.js';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
let store: EventStore & { upcasters: ReturnType<typeof createUpcasterRegistry> };

beforeAll(async () => {
  database = await createTestDatabase();
  const adapter = createPostgresAdapter({
    pool: database.pool,
    connectionString: database.url,
    pollIntervalMs: 100,
  });
  store = createEventStore({
    adapter,
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
});
afterAll(async () => {
  await store?.close();
  await database?.drop();
});

const NAME = 'Ngo Bassa Marie-Claire';
const PHONE = '+237670001234';

/** Every stored byte of the event tables and the key table, as text. */
async function storedBytes(): Promise<string> {
  const result = await sql<{ dump: string }>`
    SELECT coalesce(string_agg(e::text, '|'), '') || (SELECT coalesce(string_agg(k::text, '|'), '') FROM eventstore_data_keys k) AS dump
      FROM eventstore_events e`.execute(database.db);
  return result.rows[0]!.dump;
}

async function placeOrder(subjectId: string) {
  const stream = `order-${randomUUID()}`;
  await store.append(stream, [
    {
      type: 'OrderPlaced',
      data: { customerName: NAME, phone: PHONE, amountMinor: 5000, currency: 'XAF' },
      personalData: { subjectId, fields: ['customerName', 'phone'] },
    },
  ]);
  return stream;
}

/** readAll shows what is below the cluster's xmin horizon: wait while another suite's transaction holds it. */
async function readAllOf(prefix: string, count: number): Promise<RecordedEvent[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const page = await store.readAll('start', { limit: 1000, filter: { streamPrefixes: [prefix] } });
    if (page.events.length >= count || Date.now() > deadline) return page.events;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function readEverywhere(stream: string): Promise<RecordedEvent[]> {
  const [fromStream] = await store.readStream(stream);
  const page = { events: await readAllOf(stream, 1) };
  const fromSubscription: RecordedEvent[] = [];
  const subscription = store.subscribeToAll({
    from: 'start',
    filter: { streamPrefixes: [stream] },
    onEvent: (event) => void fromSubscription.push(event),
  });
  await subscription.caughtUp;
  await subscription.stop();
  return [fromStream!, page.events[0]!, fromSubscription[0]!];
}

describe('crypto-shredding of personal data (docs/architecture.md, decision 8)', () => {
  it('stores personal fields encrypted: the plaintext is not in the stored bytes; amounts stay readable', async () => {
    const stream = await placeOrder(`user-${randomUUID()}`);
    const dump = await storedBytes();
    expect(dump).not.toContain(NAME);
    expect(dump).not.toContain('Ngo Bassa');
    expect(dump).not.toContain('670001234');
    expect(dump).toMatch(/amountMinor""?: 5000/);
    for (const event of await readEverywhere(stream)) {
      expect(event.data).toEqual({ customerName: NAME, phone: PHONE, amountMinor: 5000, currency: 'XAF' });
    }
  });

  it('binds the ciphertext to its event: moved into another event, it does not open', async () => {
    const subject = `user-${randomUUID()}`;
    const source = await placeOrder(subject);
    const target = await placeOrder(subject);
    const original = await sql<{
      data: unknown;
    }>`SELECT data FROM eventstore_events WHERE stream_id = ${target}`.execute(database.db);
    await sql`UPDATE eventstore_events SET data = (SELECT data FROM eventstore_events WHERE stream_id = ${source})
               WHERE stream_id = ${target}`.execute(database.db);
    await expect(store.readStream(target)).rejects.toThrow(/authenticate/);
    // Put it back, so the other tests' projections do not stop on the tampered event.
    await sql`UPDATE eventstore_events SET data = ${JSON.stringify(original.rows[0]!.data)}::jsonb WHERE stream_id = ${target}`.execute(
      database.db,
    );
    expect((await store.readStream(source))[0]!.data).toMatchObject({ customerName: NAME });
  });

  it('erases a person: the key is deleted, an erasure event is appended, every read path shows [redacted]', async () => {
    const subject = `user-${randomUUID()}`;
    const other = `user-${randomUUID()}`;
    const stream = await placeOrder(subject);
    const kept = await placeOrder(other);
    await store.erasePersonalData(subject, { actorId: 'admin-1', actorRole: 'admin' });

    for (const event of await readEverywhere(stream)) {
      expect(event.data).toEqual({
        customerName: REDACTED,
        phone: REDACTED,
        amountMinor: 5000,
        currency: 'XAF',
      });
    }
    expect((await store.readStream(kept))[0]!.data).toMatchObject({ customerName: NAME, phone: PHONE });
    const keys = await database.db
      .selectFrom('eventstore_data_keys')
      .select('subject_id')
      .where('subject_id', '=', subject)
      .execute();
    expect(keys).toEqual([]);
    const [erasure] = await store.readStream(`personal-data-${subject}`);
    expect(erasure).toMatchObject({
      type: PERSONAL_DATA_ERASED,
      data: { subjectId: subject },
      metadata: { actorId: 'admin-1' },
    });
    expect(await storedBytes()).not.toContain('670001234');
    // An erased person's data is never written again under a fresh key.
    await expect(placeOrder(subject)).rejects.toThrow(/erased/);
  });

  it('has projections drop what they derived, and a rebuild after erasure never brings it back', async () => {
    const subject = `user-${randomUUID()}`;
    const directory: ProjectionDefinition = {
      name: 'customer_directory',
      version: 1,
      tables: ['customer_directory'],
      filter: { eventTypes: ['OrderPlaced', PERSONAL_DATA_ERASED] },
      async setup({ db, schema }) {
        await sql`CREATE TABLE ${sql.id(schema, 'customer_directory')} (stream text PRIMARY KEY, subject text NOT NULL, name text, phone text)`.execute(
          db,
        );
      },
      async handle(event, { db, schema }) {
        const table = sql.id(schema, 'customer_directory');
        if (event.type === PERSONAL_DATA_ERASED) {
          const { subjectId } = event.data as { subjectId: string };
          await sql`UPDATE ${table} SET name = NULL, phone = NULL WHERE subject = ${subjectId}`.execute(db);
          return;
        }
        const data = event.data as { customerName: string; phone: string; $personal?: unknown };
        const owner = (event.metadata as { subject?: string }).subject ?? 'unknown';
        await sql`INSERT INTO ${table} VALUES (${event.stream}, ${owner}, ${data.customerName}, ${data.phone})`.execute(
          db,
        );
      },
    };
    const stream = `order-${randomUUID()}`;
    await store.append(stream, [
      {
        type: 'OrderPlaced',
        data: { customerName: NAME, phone: PHONE, amountMinor: 700 },
        metadata: { subject },
        personalData: { subjectId: subject, fields: ['customerName', 'phone'] },
      },
    ]);
    const runner = createProjectionRunner({ db: database.db, store, projections: [directory] });
    await runner.start();
    await runner.waitUntilCaughtUp('customer_directory');
    const row = () =>
      sql<{
        name: string | null;
        phone: string | null;
      }>`SELECT name, phone FROM customer_directory WHERE stream = ${stream}`.execute(database.db);
    expect((await row()).rows).toEqual([{ name: NAME, phone: PHONE }]);

    await store.erasePersonalData(subject);
    await runner.waitUntilCaughtUp('customer_directory');
    expect((await row()).rows).toEqual([{ name: null, phone: null }]);

    await runner.rebuild('customer_directory');
    expect((await row()).rows).toEqual([{ name: null, phone: null }]);
    await runner.stop();
  });
});

describe('upcasting by schemaVersion on every read path', () => {
  it('turns stored v1 events into the current shape, stored bytes untouched', async () => {
    const stream = `menu-${randomUUID()}`;
    await store.append(stream, [{ type: 'PriceSet', data: { price: 1500 } }]);
    await store.append(stream, [
      { type: 'PriceSet', data: { amountMinor: 2000, currency: 'XAF' }, metadata: { schemaVersion: 2 } },
    ]);
    store.upcasters.register('PriceSet', 1, (data) => ({
      amountMinor: (data as { price: number }).price,
      currency: 'XAF',
    }));
    const expected = [
      { data: { amountMinor: 1500, currency: 'XAF' }, schemaVersion: 2 },
      { data: { amountMinor: 2000, currency: 'XAF' }, schemaVersion: 2 },
    ];
    const shape = (events: RecordedEvent[]) =>
      events.map((event) => ({ data: event.data, schemaVersion: event.metadata.schemaVersion }));
    expect(shape(await store.readStream(stream))).toEqual(expected);
    expect(shape(await readAllOf(stream, 2))).toEqual(expected);
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({
      from: 'start',
      filter: { streamPrefixes: [stream] },
      onEvent: (event) => void seen.push(event),
    });
    await subscription.caughtUp;
    await subscription.stop();
    expect(shape(seen)).toEqual(expected);
    const stored = await sql<{
      data: unknown;
    }>`SELECT data FROM eventstore_events WHERE stream_id = ${stream} ORDER BY revision`.execute(database.db);
    expect(stored.rows[0]!.data).toEqual({ price: 1500 });
  });
});
