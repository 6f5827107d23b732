import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppendBatcher, type AppendRow } from '../../src/eventstore/postgres/append-batcher.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createEventStore } from '../../src/eventstore/store.js';
import { WrongExpectedVersion, type EventStore } from '../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * Group commit: appends that arrive while the append slots are busy share one transaction. Each
 * must still get exactly its own outcome, and nothing one append does may fail another.
 */
let database: TestDatabase;
let store: EventStore;
const calls = { single: 0, batch: 0 };
beforeAll(async () => {
  database = await createTestDatabase();
  const query = database.pool.query.bind(database.pool) as (...args: unknown[]) => unknown;
  const counting = new Proxy(database.pool, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver) as unknown;
      return (...args: unknown[]) => {
        const name = (args[0] as { name?: string }).name;
        if (name === 'es_append') calls.single += 1;
        if (name === 'es_append_batch') calls.batch += 1;
        return query(...args);
      };
    },
  });
  // One slot: every append that arrives while another runs is batched.
  const adapter = createPostgresAdapter({
    pool: counting,
    connectionString: database.url,
    appendsInFlight: 1,
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

const run = () => `b${randomBytes(4).toString('hex')}`;
const statements = async () =>
  Number(
    (
      await database.pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()',
      )
    ).rows[0]!.n,
  );

describe('grouped appends (PostgreSQL)', () => {
  it('gives each append in a batch its own outcome: a wrong expected revision fails only that one', async () => {
    const prefix = run();
    await store.append(`${prefix}-x`, [{ type: 'Opened', data: {} }]);
    calls.single = 0;
    calls.batch = 0;
    const results = await Promise.allSettled([
      store.append(`${prefix}-a`, [{ type: 'A', data: { n: 1 } }], { expectedRevision: 'no_stream' }),
      store.append(`${prefix}-x`, [{ type: 'X', data: {} }], { expectedRevision: 5n }), // actual is 0
      store.append(`${prefix}-b`, [
        { type: 'B', data: {} },
        { type: 'B', data: {} },
      ]),
      store.append(`${prefix}-x`, [{ type: 'X', data: { ok: true } }], { expectedRevision: 0n }),
      store.append(`${prefix}-a`, [{ type: 'A', data: { n: 2 } }], { expectedRevision: 0n }),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(calls).toEqual({ single: 1, batch: 1 }); // the first alone, the four that waited together
    const refused = (results[1] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(WrongExpectedVersion);
    expect(refused.actual).toBe(0n);
    expect((results[2] as PromiseFulfilledResult<{ nextRevision: bigint }>).value.nextRevision).toBe(1n);
    expect((results[3] as PromiseFulfilledResult<{ nextRevision: bigint }>).value.nextRevision).toBe(1n);
    expect((await store.readStream(`${prefix}-a`)).map((event) => event.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await store.readStream(`${prefix}-x`)).map((event) => event.type)).toEqual(['Opened', 'X']);
  });

  it('answers a retry inside the same batch with the first append, writing nothing twice', async () => {
    const stream = `${run()}-r`;
    const id = randomUUID();
    const [first, second] = await Promise.all([
      store.append(stream, [{ id, type: 'Paid', data: { amount: 5 } }]),
      store.append(stream, [{ id, type: 'Paid', data: { amount: 5 } }]),
    ]);
    expect(second).toEqual(first);
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('keeps arrival order within a stream and global order across 200 concurrent appends', async () => {
    const prefix = run();
    const appends = Array.from({ length: 200 }, (_, index) =>
      store.append(`${prefix}-${index % 7}`, [{ type: 'N', data: { index } }]),
    );
    const results = await Promise.all(appends);
    for (let stream = 0; stream < 7; stream += 1) {
      const indexes = (await store.readStream(`${prefix}-${stream}`)).map(
        (event) => (event.data as { index: number }).index,
      );
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    }
    const all = await store.readAll('start', { limit: 1000, filter: { streamPrefixes: [prefix] } });
    expect(all.events).toHaveLength(200);
    const positions = results.map((result) => result.position);
    expect(new Set(positions).size).toBe(200);
    expect(await statements()).toBeLessThanOrEqual(11); // the pool's connections plus this one: no leak
  });

  it('appends each item alone when the batch call fails, so only the bad append fails', async () => {
    const prefix = run();
    const single = async (request: {
      stream: string;
      json: string;
      kind: number;
      revision: string | null;
    }): Promise<AppendRow> => {
      const result = await database.pool.query<AppendRow>(
        'SELECT outcome, next_revision, txid, last_position, actual FROM eventstore_append($1, $2::smallint, $3::bigint, $4::jsonb)',
        [request.stream, request.kind, request.revision, request.json],
      );
      return result.rows[0]!;
    };
    const batcher = createAppendBatcher({ pool: database.pool, single, maxInFlight: 1 });
    const event = (id: string) =>
      JSON.stringify([{ id, type: 'T', data: {}, metadata: { schemaVersion: 1 } }]);
    const blocker = batcher.append({
      stream: `${prefix}-0`,
      json: event(randomUUID()),
      kind: 0,
      revision: null,
    });
    const batch = [
      batcher.append({ stream: `${prefix}-1`, json: event(randomUUID()), kind: 0, revision: null }),
      batcher.append({ stream: `${prefix}-2`, json: event('not-a-uuid'), kind: 0, revision: null }), // raises in SQL
      batcher.append({ stream: `${prefix}-3`, json: event(randomUUID()), kind: 0, revision: null }),
    ];
    expect(batcher.waiting()).toBe(3);
    await blocker;
    const settled = await Promise.allSettled(batch);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[0] as PromiseFulfilledResult<AppendRow>).value.outcome).toBe('ok');
    const stored = await database.pool.query<{ stream_id: string }>(
      'SELECT stream_id FROM eventstore_events WHERE stream_id LIKE $1 ORDER BY stream_id',
      [`${prefix}-%`],
    );
    expect(stored.rows.map((row) => row.stream_id)).toEqual([`${prefix}-0`, `${prefix}-1`, `${prefix}-3`]);
  });
});
