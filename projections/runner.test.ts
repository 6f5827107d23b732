import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersonalDataVault } from '../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../src/eventstore/store.js';
import type { EventStore, RecordedEvent } from '../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/database.js';
import { createProjectionRunner, type ProjectionRunner } from './runner.js';
import type { ProjectionDefinition } from './types.js';

let database: TestDatabase;
let store: EventStore;

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

/** Counts events per stream: any event applied twice or skipped shows in the count. */
function counter(name: string, prefix: string, options: { throwOn?: string } = {}): ProjectionDefinition {
  return {
    name,
    version: 1,
    tables: [`${name}_counts`],
    filter: { streamPrefixes: [prefix] },
    async setup({ db, schema }) {
      await sql`CREATE TABLE ${sql.id(schema, `${name}_counts`)} (stream text PRIMARY KEY, events int NOT NULL, last_revision bigint NOT NULL)`.execute(
        db,
      );
    },
    async handle(event, { db, schema }) {
      if (event.type === options.throwOn) throw new Error(`cannot handle ${event.type}`);
      await sql`INSERT INTO ${sql.id(schema, `${name}_counts`)} AS c VALUES (${event.stream}, 1, ${String(event.revision)})
                ON CONFLICT (stream) DO UPDATE SET events = c.events + 1, last_revision = excluded.last_revision`.execute(
        db,
      );
    },
  };
}

async function counts(table: string): Promise<Record<string, number>> {
  const result = await sql<{
    stream: string;
    events: number;
  }>`SELECT stream, events FROM ${sql.id(table)} ORDER BY stream`.execute(database.db);
  return Object.fromEntries(result.rows.map((row) => [row.stream, row.events]));
}

async function appendMany(prefix: string, streams: number, perStream: number, type = 'Tick'): Promise<void> {
  for (let index = 0; index < streams; index += 1) {
    await store.append(
      `${prefix}-${index}`,
      Array.from({ length: perStream }, (_, n) => ({ type, data: { n } })),
    );
  }
}

describe('projections runner', () => {
  it('catches up, then follows live, storing the checkpoint with the effect', async () => {
    const prefix = `live${randomUUID().slice(0, 8)}`;
    await appendMany(prefix, 3, 4);
    const runner = createProjectionRunner({
      db: database.db,
      store,
      projections: [counter('live_a', prefix)],
    });
    await runner.start();
    await runner.waitUntilCaughtUp('live_a');
    expect(await counts('live_a_counts')).toEqual({
      [`${prefix}-0`]: 4,
      [`${prefix}-1`]: 4,
      [`${prefix}-2`]: 4,
    });
    await store.append(`${prefix}-0`, [{ type: 'Tick', data: {} }]);
    await runner.waitUntilCaughtUp('live_a');
    expect((await counts('live_a_counts'))[`${prefix}-0`]).toBe(5);
    const [status] = (await runner.status()).filter((item) => item.name === 'live_a');
    expect(status).toMatchObject({
      status: 'active',
      generation: 1,
      eventsProcessed: 13,
      lagEvents: 0,
      lagSeconds: 0,
      failed: null,
    });
    await runner.stop();
  });

  it('is idempotent by (stream, revision): a lost checkpoint never applies an event twice', async () => {
    const prefix = `idem${randomUUID().slice(0, 8)}`;
    await appendMany(prefix, 2, 3);
    const definition = counter('idem_a', prefix);
    const first = createProjectionRunner({ db: database.db, store, projections: [definition] });
    await first.start();
    await first.waitUntilCaughtUp('idem_a');
    await first.stop();
    // As if the checkpoint were lost: every event is delivered again.
    await database.db
      .updateTable('projection_generations')
      .set({ position: null })
      .where('name', '=', 'idem_a')
      .execute();
    await store.append(`${prefix}-1`, [{ type: 'Tick', data: {} }]);
    const second = createProjectionRunner({ db: database.db, store, projections: [definition] });
    await second.start();
    await second.waitUntilCaughtUp('idem_a');
    expect(await counts('idem_a_counts')).toEqual({ [`${prefix}-0`]: 3, [`${prefix}-1`]: 4 });
    await second.stop();
  });

  it('stops only the projection whose handler throws, marks it failed with the event, and skips nothing', async () => {
    const prefix = `fail${randomUUID().slice(0, 8)}`;
    await appendMany(prefix, 1, 2);
    await store.append(`${prefix}-0`, [{ type: 'Poison', data: {} }]);
    await appendMany(prefix, 1, 2);
    const fragile = counter('fragile', prefix, { throwOn: 'Poison' });
    const sturdy = counter('sturdy', prefix);
    const runner = createProjectionRunner({ db: database.db, store, projections: [fragile, sturdy] });
    await runner.start();
    await runner.waitUntilCaughtUp('sturdy');
    const deadline = Date.now() + 10_000;
    let failed = (await runner.status()).find((item) => item.name === 'fragile');
    while (failed?.failed === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      failed = (await runner.status()).find((item) => item.name === 'fragile');
    }
    expect(failed?.failed?.event).toMatchObject({ stream: `${prefix}-0`, revision: '2', type: 'Poison' });
    expect(failed?.failed?.error).toMatch(/cannot handle Poison/);
    expect(failed?.running).toBe(false);
    expect(await counts('fragile_counts')).toEqual({ [`${prefix}-0`]: 2 });
    expect(await counts('sturdy_counts')).toEqual({ [`${prefix}-0`]: 5 });
    // Others continue live.
    await store.append(`${prefix}-0`, [{ type: 'Tick', data: {} }]);
    await runner.waitUntilCaughtUp('sturdy');
    expect(await counts('sturdy_counts')).toEqual({ [`${prefix}-0`]: 6 });
    await runner.stop();
    // The fixed handler resumes at the poison event: nothing was skipped.
    const fixed = createProjectionRunner({
      db: database.db,
      store,
      projections: [counter('fragile', prefix)],
    });
    await fixed.start();
    await fixed.waitUntilCaughtUp('fragile');
    expect(await counts('fragile_counts')).toEqual({ [`${prefix}-0`]: 6 });
    await fixed.stop();
  });

  it('pauses through a PostgreSQL outage and resumes from its checkpoint: not marked failed, nothing skipped or doubled', async () => {
    const prefix = `outage${randomUUID().slice(0, 8)}`;
    const outage = { on: false, hits: 0 };
    const base = counter('outage_counts_p', prefix);
    const flaky: ProjectionDefinition = {
      ...base,
      async handle(event, context) {
        if (outage.on) {
          outage.hits += 1;
          // What pg throws when pg_terminate_backend cuts the connection under a statement.
          throw Object.assign(new Error('terminating connection due to administrator command'), {
            code: '57P01',
          });
        }
        await base.handle!(event, context);
      },
    };
    const runner = createProjectionRunner({ db: database.db, store, projections: [flaky] });
    await runner.start();
    await appendMany(prefix, 2, 2);
    await runner.waitUntilCaughtUp('outage_counts_p');
    outage.on = true;
    await appendMany(prefix, 2, 3);
    const deadline = Date.now() + 10_000;
    while (outage.hits < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(outage.hits).toBeGreaterThanOrEqual(2); // failed once, and again after its first resume
    const during = (await runner.status()).find((item) => item.name === 'outage_counts_p');
    expect(during?.failed ?? null).toBeNull();
    outage.on = false;
    await runner.waitUntilCaughtUp('outage_counts_p', 20_000);
    expect(await counts('outage_counts_p_counts')).toEqual({ [`${prefix}-0`]: 5, [`${prefix}-1`]: 5 });
    await runner.stop();
  });
});

/** Items built from two events each: a half-built row has a name but no price. */
function items(prefix: string, version: number, sleepEveryBatchMs = 0): ProjectionDefinition {
  return {
    name: 'items',
    version,
    tables: ['test_items'],
    filter: { streamPrefixes: [prefix] },
    async setup({ db, schema }) {
      const extra = version > 1 ? sql`, label text NOT NULL` : sql``;
      await sql`CREATE TABLE ${sql.id(schema, 'test_items')} (id text PRIMARY KEY, name text NOT NULL, price int ${extra})`.execute(
        db,
      );
    },
    async handleBatch(events: RecordedEvent[], { db, schema }) {
      const table = sql.id(schema, 'test_items');
      for (const event of events) {
        const data = event.data as { name?: string; price?: number };
        if (event.type === 'ItemAdded') {
          const label = version > 1 ? sql`, ${`v${version}`}` : sql``;
          await sql`INSERT INTO ${table} VALUES (${event.stream}, ${data.name!}, NULL ${label})`.execute(db);
        } else if (event.type === 'ItemPriced') {
          await sql`UPDATE ${table} SET price = ${data.price!} WHERE id = ${event.stream}`.execute(db);
        }
      }
      if (sleepEveryBatchMs > 0) await new Promise((resolve) => setTimeout(resolve, sleepEveryBatchMs));
    },
  };
}

describe('projection rebuild with no downtime', () => {
  const prefix = `item${randomUUID().slice(0, 8)}`;
  const itemCount = 200;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    for (let index = 0; index < itemCount; index += 1) {
      await store.append(`${prefix}-${String(index).padStart(4, '0')}`, [
        { type: 'ItemAdded', data: { name: `item ${index}` } },
        { type: 'ItemPriced', data: { price: index * 10 } },
      ]);
    }
  });
  afterAll(async () => runner?.stop());

  /** Reads the view in a loop until stopped; every read must hold every complete row. */
  function readContinuously(expectedCount: number) {
    let stop = false;
    let reads = 0;
    const problems: string[] = [];
    const done = (async () => {
      while (!stop) {
        const result = await sql<{ rows: string; priced: string; total: string | null }>`
          SELECT count(*) AS rows, count(price) AS priced, sum(price) AS total FROM test_items`.execute(
          database.db,
        );
        const row = result.rows[0]!;
        reads += 1;
        if (Number(row.rows) < expectedCount) problems.push(`read ${reads}: ${row.rows} rows`);
        if (row.rows !== row.priced)
          problems.push(`read ${reads}: ${Number(row.rows) - Number(row.priced)} half-built rows`);
      }
    })();
    return {
      async finish() {
        stop = true;
        await done;
        return { reads, problems };
      },
    };
  }

  it('builds version n+1 into new tables while n serves, swaps atomically, drops the old tables', async () => {
    runner = createProjectionRunner({
      db: database.db,
      store,
      projections: [items(prefix, 1)],
      batchSize: 20,
    });
    await runner.start();
    await runner.waitUntilCaughtUp('items');
    const reader = readContinuously(itemCount);
    const slow = createProjectionRunner({
      db: database.db,
      store,
      projections: [items(prefix, 1, 5)],
      batchSize: 20,
    });
    const rebuilt = await slow.rebuild('items');
    const { reads, problems } = await reader.finish();
    expect(rebuilt.generation).toBe(2);
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    const schemas = await sql<{
      nspname: string;
    }>`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj_items_%'`.execute(database.db);
    expect(schemas.rows.map((row) => row.nspname)).toEqual(['proj_items_g2']);
    const statuses = (await runner.status()).filter((item) => item.name === 'items');
    expect(statuses).toMatchObject([{ generation: 2, status: 'active' }]);
    // The first runner followed the swap: live events reach generation 2.
    await store.append(`${prefix}-9999`, [
      { type: 'ItemAdded', data: { name: 'late' } },
      { type: 'ItemPriced', data: { price: 1 } },
    ]);
    await runner.waitUntilCaughtUp('items');
    const late = await sql<{
      price: number;
    }>`SELECT price FROM test_items WHERE id = ${`${prefix}-9999`}`.execute(database.db);
    expect(late.rows).toEqual([{ price: 1 }]);
    await slow.stop();
  });

  it('rebuilds on a version change: the old version serves until the new one swaps in', async () => {
    await runner.stop();
    const reader = readContinuously(itemCount + 1);
    runner = createProjectionRunner({
      db: database.db,
      store,
      projections: [items(prefix, 2, 5)],
      batchSize: 20,
    });
    await runner.start();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const active = (await runner.status()).find(
        (item) => item.name === 'items' && item.status === 'active',
      );
      if (active?.version === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { problems } = await reader.finish();
    expect(problems).toEqual([]);
    const labels = await sql<{ label: string }>`SELECT DISTINCT label FROM test_items`.execute(database.db);
    expect(labels.rows).toEqual([{ label: 'v2' }]);
  });
});
