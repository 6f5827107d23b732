import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pgModule from 'pg';
import type pg from 'pg';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import type { EventFilter, EventStore, RecordedEvent } from '../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The shared live tail: every live subscription of a process is served from one reader of the
 * log. What matters is that it changes nothing a subscriber sees (every matching event once, in
 * order, even when a slow subscriber falls behind the tail's memory) and that it does remove the
 * per-subscription reads it exists for.
 */
let database: TestDatabase;
const stores: EventStore[] = [];
let readAllQueries = 0;

function countingPool(pool: pg.Pool): pg.Pool {
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver) as unknown;
      return (...args: unknown[]) => {
        const config = args[0] as { name?: string } | string;
        if (typeof config === 'object' && config.name?.startsWith('es_read_all') === true)
          readAllQueries += 1;
        return query(...args);
      };
    },
  });
}

function newStore(liveTailEvents?: number, pollIntervalMs = 200, liveTailBytes?: number): EventStore {
  const store = createEventStore({
    adapter: createPostgresAdapter({
      pool: countingPool(database.pool),
      connectionString: database.url,
      pollIntervalMs,
      ...(liveTailEvents === undefined ? {} : { liveTailEvents }),
      ...(liveTailBytes === undefined ? {} : { liveTailBytes }),
    }),
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const store of stores) await store.close();
  await database?.drop();
});

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('shared live tail (PostgreSQL)', () => {
  it.each([
    ['20 events', () => newStore(20)],
    ['a few kilobytes', () => newStore(undefined, 200, 6_000)],
  ])(
    'gives every live subscription each matching event once and in order, a slow one included, past a memory of %s',
    async (_name, make) => {
      const store = make();
      const run = `lt${Date.now().toString(36)}`;
      const filters: (EventFilter | undefined)[] = [
        undefined,
        { streamPrefixes: [`${run}-a`] },
        { streamPrefixes: [`${run}-b`] },
        { eventTypes: ['Even'] },
        { streamPrefixes: [`${run}-a`], eventTypes: ['Odd'] },
      ];
      const seen = filters.map(() => [] as RecordedEvent[]);
      const subscriptions = filters.map((filter, index) =>
        store.subscribeToAll({
          from: 'end',
          ...(filter === undefined ? {} : { filter }),
          batchSize: 7,
          // The last one is slow: the tail's 20 events run past it and it must read the store itself.
          onEvent: async (event) => {
            if (event.stream.startsWith(run)) seen[index]!.push(event);
            if (index === filters.length - 1) await sleep(3);
          },
        }),
      );
      await Promise.all(subscriptions.map((subscription) => subscription.caughtUp));

      const writers = ['a', 'b', 'a'].map(async (letter, writer) => {
        for (let index = 0; index < 60; index += 1) {
          await store.append(`${run}-${letter}${writer}`, [
            { type: index % 2 === 0 ? 'Even' : 'Odd', data: { writer, index } },
            { type: 'Odd', data: { writer, index, second: true } },
          ]);
        }
      });
      await Promise.all(writers);
      const written = await store.readAll('start', { limit: 1000, filter: { streamPrefixes: [run] } });
      expect(written.events).toHaveLength(360);

      const expected = filters.map((filter) =>
        written.events.filter(
          (event) =>
            (filter?.streamPrefixes === undefined ||
              filter.streamPrefixes.some((prefix) => event.stream.startsWith(prefix))) &&
            (filter?.eventTypes === undefined || filter.eventTypes.includes(event.type)),
        ),
      );
      await waitFor(() => seen.every((events, index) => events.length >= expected[index]!.length), 15_000);
      await sleep(300); // anything delivered twice would arrive by now
      for (const [index, events] of seen.entries()) {
        expect(
          events.map((event) => event.id),
          `subscription ${index}`,
        ).toEqual(expected[index]!.map((event) => event.id));
      }
      for (const subscription of subscriptions) await subscription.stop();
    },
  );

  it('reads the log once per wake-up for all live subscriptions, not once per subscription', async () => {
    const store = newStore();
    const run = `lq${Date.now().toString(36)}`;
    const count = 12;
    const seen = Array.from({ length: count }, () => 0);
    const subscriptions = Array.from({ length: count }, (_, index) =>
      store.subscribeToAll({
        from: 'end',
        filter: { streamPrefixes: [run] },
        onEvent: () => void (seen[index]! += 1),
      }),
    );
    await Promise.all(subscriptions.map((subscription) => subscription.caughtUp));
    readAllQueries = 0;
    const appends = 40;
    for (let index = 0; index < appends; index += 1) {
      await store.append(`${run}-${index}`, [{ type: 'Tick', data: { index } }]);
      await waitFor(() => seen.every((value) => value === index + 1), 2_000);
    }
    expect(seen).toEqual(Array.from({ length: count }, () => appends));
    // Each append wakes the tail, which reads once (twice when a wake-up lands mid-read, plus the
    // polling interval); one read per subscription per append would be count × appends.
    expect(readAllQueries).toBeLessThan(appends * 9);
    expect(readAllQueries).toBeLessThan(count * appends);
    for (const subscription of subscriptions) await subscription.stop();
  });

  it('falls back to reading the store when the tail stops, and resumes after subscriptions come back', async () => {
    const store = newStore();
    const run = `lr${Date.now().toString(36)}`;
    const first: RecordedEvent[] = [];
    const one = store.subscribeToAll({
      from: 'end',
      filter: { streamPrefixes: [run] },
      onEvent: (event) => void first.push(event),
    });
    await one.caughtUp;
    await store.append(`${run}-1`, [{ type: 'Tick', data: {} }]);
    await waitFor(() => first.length === 1, 3_000);
    await one.stop(); // the last subscription detaches: the tail stops and forgets its memory
    await store.append(`${run}-2`, [{ type: 'Tick', data: {} }]);
    const second: RecordedEvent[] = [];
    const two = store.subscribeToAll({
      from: 'start',
      filter: { streamPrefixes: [run] },
      onEvent: (event) => void second.push(event),
    });
    await two.caughtUp;
    await store.append(`${run}-3`, [{ type: 'Tick', data: {} }]);
    await waitFor(() => second.length === 3, 3_000);
    expect(second.map((event) => event.stream)).toEqual([`${run}-1`, `${run}-2`, `${run}-3`]);
    expect(first).toHaveLength(1);
    await two.stop();
  });

  it('delivers the first events after a subscription catches up without waiting for the polling interval', async () => {
    const store = newStore(undefined, 5_000);
    const run = `lf${Date.now().toString(36)}`;
    const seen: number[] = [];
    const subscription = store.subscribeToAll({
      from: 'end',
      filter: { streamPrefixes: [run] },
      onEvent: () => void seen.push(Date.now()),
    });
    await subscription.caughtUp;
    const sentAt = Date.now();
    await store.append(`${run}-1`, [{ type: 'Tick', data: {} }]);
    await waitFor(() => seen.length === 1, 6_000);
    expect(seen).toHaveLength(1);
    expect(seen[0]! - sentAt).toBeLessThan(1_000); // the polling interval is 5 s
    await subscription.stop();
  });

  it('wakes a subscriber in another process through NOTIFY, well inside its polling interval', async () => {
    const listening = newStore(undefined, 5_000);
    const otherPool = new pgModule.Pool({ connectionString: database.url, max: 2 });
    const writer = createEventStore({
      adapter: createPostgresAdapter({
        pool: otherPool,
        connectionString: database.url,
        pollIntervalMs: 5_000,
      }),
      vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
    });
    const run = `ln${Date.now().toString(36)}`;
    const seen: number[] = [];
    const subscription = listening.subscribeToAll({
      from: 'end',
      filter: { streamPrefixes: [run] },
      onEvent: () => void seen.push(Date.now()),
    });
    await subscription.caughtUp;
    // Past the joining period (a new listener wakes itself for 1.25 s until appenders see it):
    // from here on only a NOTIFY can explain a delivery well inside the 5 s polling interval.
    await sleep(1_500);
    for (let index = 0; index < 3; index += 1) {
      const sentAt = Date.now();
      await writer.append(`${run}-${index}`, [{ type: 'Tick', data: {} }]);
      await waitFor(() => seen.length === index + 1, 6_000);
      expect(seen[index]! - sentAt).toBeLessThan(1_000);
    }
    await subscription.stop();
    await writer.close();
    await otherPool.end();
  });
});
