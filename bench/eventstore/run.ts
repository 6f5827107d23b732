import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { createProjectionRunner } from '../../projections/runner.js';
import type { ProjectionDefinition } from '../../projections/types.js';
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import type { EventStore } from '../../src/eventstore/index.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';

/**
 * Event store throughput and latency, each beside the raw PostgreSQL figure for the same work
 * measured in the same run on the same database (plain INSERTs of the same payload from Node).
 *   npx tsx bench/eventstore/run.ts            (BENCH_SECONDS=5, BENCH_REBUILD_EVENTS=1000000)
 */
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const REBUILD_EVENTS = Number(process.env.BENCH_REBUILD_EVENTS ?? 1_000_000);
const REBUILD_STREAMS = 10_000;
/** Comma-separated phases to run (default all): single,hundred,latency,rebuild. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'single,hundred,latency,rebuild').split(','));

const payload = () => ({
  orderId: randomUUID(),
  amountMinor: 12_500,
  currency: 'XAF',
  items: [{ sku: 'ndole-1', quantity: 2 }],
});
const metadata = { correlationId: randomUUID(), actorId: 'bench', actorRole: 'customer', schemaVersion: 1 };

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `work` on `concurrency` loops for `seconds`; returns operations/s and latency. */
async function closedLoop(
  concurrency: number,
  seconds: number,
  work: (worker: number, iteration: number) => Promise<void>,
  offset = 0,
) {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let iteration = offset; performance.now() < deadline; iteration += 1) {
        const begin = performance.now();
        await work(worker, iteration);
        latencies.push(performance.now() - begin);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  return { latencies, elapsedS };
}

type LoopResult = Awaited<ReturnType<typeof closedLoop>>;
const summary = (slices: LoopResult[]) => {
  const latencies = slices.flatMap((slice) => slice.latencies);
  const elapsedS = slices.reduce((total, slice) => total + slice.elapsedS, 0);
  return {
    operations: latencies.length,
    perSecond: latencies.length / elapsedS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
};

/**
 * Raw and event store work in alternating one-second slices (raw first, then store first, …), so
 * both see the same machine: on shared cores the load changes within seconds.
 */
async function interleaved(
  concurrency: number,
  seconds: number,
  raw: (worker: number, iteration: number) => Promise<void>,
  store: (worker: number, iteration: number) => Promise<void>,
) {
  const rawSlices: LoopResult[] = [];
  const storeSlices: LoopResult[] = [];
  for (let slice = 0; slice < seconds; slice += 1) {
    const offset = slice * 1_000_000;
    const order = slice % 2 === 0 ? (['raw', 'store'] as const) : (['store', 'raw'] as const);
    for (const which of order) {
      if (which === 'raw') rawSlices.push(await closedLoop(concurrency, 1, raw, offset));
      else storeSlices.push(await closedLoop(concurrency, 1, store, offset));
    }
  }
  return { raw: summary(rawSlices), store: summary(storeSlices) };
}

async function createBenchDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `bench_es_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

function storeOn(handle: DatabaseHandle, url: string): EventStore {
  return createEventStore({
    adapter: createPostgresAdapter({ pool: handle.pool, connectionString: url }),
    vault: createPersonalDataVault({ db: handle.db, masterKey: randomBytes(32) }),
  });
}

async function singleEventAppends(handle: DatabaseHandle, store: EventStore) {
  const run = randomUUID().slice(0, 8);
  await closedLoop(32, 1, (worker, i) =>
    store
      .append(`warm-${run}-${worker}-${i}`, [{ type: 'OrderPlaced', data: payload(), metadata }])
      .then(() => undefined),
  );
  const { raw, store: store32 } = await interleaved(
    32,
    SECONDS,
    async (worker, i) => {
      await handle.pool.query({
        name: 'raw_insert_one',
        text: 'INSERT INTO bench_raw (stream, data, metadata) VALUES ($1, $2, $3)',
        values: [`raw-${worker}-${i}`, JSON.stringify(payload()), JSON.stringify(metadata)],
      });
    },
    async (worker, i) => {
      await store.append(
        `order-${run}-${worker}-${i}`,
        [{ type: 'OrderPlaced', data: payload(), metadata }],
        { expectedRevision: 'no_stream' },
      );
    },
  );
  return {
    work: 'single-event appends to distinct streams (expected no_stream), 32 concurrent writers; raw and store in alternating 1 s slices',
    eventStore: {
      eventsPerSecond: Math.round(store32.perSecond),
      p50Ms: round(store32.p50Ms),
      p99Ms: round(store32.p99Ms),
    },
    rawPostgres: {
      rowsPerSecond: Math.round(raw.perSecond),
      p50Ms: round(raw.p50Ms),
      p99Ms: round(raw.p99Ms),
      work: 'single-row INSERT of the same payload, 32 connections',
    },
    ratio: round(store32.perSecond / raw.perSecond, 3),
    goal: 'ratio >= 0.50',
    met: store32.perSecond / raw.perSecond >= 0.5,
  };
}

async function hundredEventAppends(handle: DatabaseHandle, store: EventStore) {
  const run = randomUUID().slice(0, 8);
  const { raw, store: batch } = await interleaved(
    8,
    SECONDS,
    async (worker, i) => {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let n = 0; n < 100; n += 1) {
        values.push(`rawbatch-${worker}-${i}`, JSON.stringify(payload()), JSON.stringify(metadata));
        rows.push(`($${n * 3 + 1}, $${n * 3 + 2}, $${n * 3 + 3})`);
      }
      await handle.pool.query({
        name: 'raw_insert_100',
        text: `INSERT INTO bench_raw (stream, data, metadata) VALUES ${rows.join(',')}`,
        values,
      });
    },
    async (worker, i) => {
      const events = Array.from({ length: 100 }, () => ({ type: 'OrderLine', data: payload(), metadata }));
      await store.append(`batch-${run}-${worker}-${i}`, events, { expectedRevision: 'no_stream' });
    },
  );
  return {
    work: '100-event appends, 8 concurrent writers; raw and store in alternating 1 s slices',
    eventStore: { eventsPerSecond: Math.round(batch.perSecond * 100), p99Ms: round(batch.p99Ms) },
    rawPostgres: {
      rowsPerSecond: Math.round(raw.perSecond * 100),
      p99Ms: round(raw.p99Ms),
      work: '100-row INSERT of the same payload, 8 connections',
    },
    ratio: round(batch.perSecond / raw.perSecond, 3),
    goal: 'ratio >= 0.30',
    met: batch.perSecond / raw.perSecond >= 0.3,
  };
}

/** Subscriber latency at a fixed append rate: woken in-process, and in another "process" (own pool, NOTIFY only). */
async function subscriptionLatency(
  handle: DatabaseHandle,
  store: EventStore,
  other: EventStore,
  url: string,
) {
  const ratePerSecond = 1_000;
  const sentAt = new Map<string, number>();
  const committedAt = new Map<string, number>();
  const appendLatencies: number[] = [];
  const commitToHandler: number[] = [];
  const same: number[] = [];
  const remote: number[] = [];
  const prefix = `lat${randomUUID().slice(0, 8)}`;
  const subscribe = (target: EventStore, into: number[]) =>
    target.subscribeToAll({
      from: 'end',
      filter: { streamPrefixes: [prefix] },
      onEvent: (event) => {
        const now = performance.now();
        const at = sentAt.get(event.id);
        if (at !== undefined) into.push(now - at);
        const committed = committedAt.get(event.id);
        if (into === same && committed !== undefined) commitToHandler.push(now - committed);
      },
    });
  const local = subscribe(store, same);
  const distant = subscribe(other, remote);
  await Promise.all([local.caughtUp, distant.caughtUp]);
  // Raw: INSERT + NOTIFY in one statement's transaction, a LISTEN client measuring arrival.
  const listener = new pg.Client({ connectionString: url });
  await listener.connect();
  const rawLatencies: number[] = [];
  const rawSent = new Map<string, number>();
  listener.on('notification', (message) => {
    const at = rawSent.get(message.payload ?? '');
    if (at !== undefined) rawLatencies.push(performance.now() - at);
  });
  await listener.query('LISTEN bench_raw');
  const storeSlice = (slice: number) =>
    paced(ratePerSecond, 1, async (n) => {
      const i = slice * ratePerSecond + n;
      const id = randomUUID();
      const begin = performance.now();
      sentAt.set(id, begin);
      await store.append(`${prefix}-${i % 100}`, [{ id, type: 'Tick', data: payload(), metadata }]);
      committedAt.set(id, performance.now());
      appendLatencies.push(performance.now() - begin);
    });
  const rawSlice = (slice: number) =>
    paced(ratePerSecond, 1, async (n) => {
      const key = String(slice * ratePerSecond + n);
      rawSent.set(key, performance.now());
      await handle.pool.query({
        name: 'raw_insert_notify',
        text: "WITH i AS (INSERT INTO bench_raw (stream, data, metadata) VALUES ($1, $2, $3)) SELECT pg_notify('bench_raw', $4)",
        values: [`rawlat-${key}`, JSON.stringify(payload()), JSON.stringify(metadata), key],
      });
    });
  // Alternating one-second slices, so both paths see the same machine.
  for (let slice = 0; slice < SECONDS; slice += 1) {
    if (slice % 2 === 0) {
      await storeSlice(slice);
      await rawSlice(slice);
    } else {
      await rawSlice(slice);
      await storeSlice(slice);
    }
  }
  const total = sentAt.size;
  const deadline = performance.now() + 10_000;
  while (
    (same.length < total || remote.length < total || rawLatencies.length < rawSent.size) &&
    performance.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await Promise.all([local.stop(), distant.stop()]);
  await listener.end();
  const figures = (values: number[]) => ({
    received: values.length,
    p50Ms: round(percentile(values, 50)),
    p99Ms: round(percentile(values, 99)),
    maxMs: round(Math.max(0, ...values)),
  });
  const sameFigures = figures(same);
  const remoteFigures = figures(remote);
  return {
    work: `append → subscriber handler at ${ratePerSecond} events/s for ${SECONDS} s, raw and store in alternating 1 s slices`,
    sent: total,
    eventStore: {
      sameProcess: sameFigures,
      otherProcessViaNotify: remoteFigures,
      breakdown: {
        appendCommitMs: {
          p50: round(percentile(appendLatencies, 50)),
          p99: round(percentile(appendLatencies, 99)),
        },
        commitToHandlerMs: {
          p50: round(percentile(commitToHandler, 50)),
          p99: round(percentile(commitToHandler, 99)),
        },
      },
    },
    rawPostgres: {
      ...figures(rawLatencies),
      work: 'INSERT + pg_notify in one statement, LISTEN client on its own connection',
    },
    goal: 'p99 <= 50 ms',
    met:
      sameFigures.p99Ms <= 50 &&
      remoteFigures.p99Ms <= 50 &&
      sameFigures.received === total &&
      remoteFigures.received === total,
  };
}

/** Issues `ratePerSecond` operations per second (open loop, at most 256 in flight). */
async function paced(ratePerSecond: number, seconds: number, work: (i: number) => Promise<void>) {
  const started = performance.now();
  const total = ratePerSecond * seconds;
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= 256) await Promise.race(inFlight);
    const promise = work(i).finally(() => inFlight.delete(promise));
    inFlight.add(promise);
  }
  await Promise.all(inFlight);
}

const totals: ProjectionDefinition = {
  name: 'bench_totals',
  version: 1,
  tables: ['bench_totals'],
  filter: { eventTypes: ['Priced'] },
  async setup({ db, schema }) {
    await sql`CREATE TABLE ${sql.id(schema, 'bench_totals')} (stream text PRIMARY KEY, events int NOT NULL, total_minor bigint NOT NULL)`.execute(
      db,
    );
  },
  async handleBatch(events, { db, schema }) {
    const byStream = new Map<string, { events: number; total: number }>();
    for (const event of events) {
      const entry = byStream.get(event.stream) ?? { events: 0, total: 0 };
      entry.events += 1;
      entry.total += (event.data as { amountMinor: number }).amountMinor;
      byStream.set(event.stream, entry);
    }
    const table = sql.id(schema, 'bench_totals');
    await sql`INSERT INTO ${table} AS t (stream, events, total_minor)
              SELECT * FROM unnest(${[...byStream.keys()]}::text[], ${[...byStream.values()].map((v) => v.events)}::int[], ${[...byStream.values()].map((v) => v.total)}::bigint[])
              ON CONFLICT (stream) DO UPDATE SET events = t.events + excluded.events, total_minor = t.total_minor + excluded.total_minor`.execute(
      db,
    );
  },
};

async function projectionRebuild(handle: DatabaseHandle, store: EventStore) {
  // Seeding is not measured: rows written in bulk in the event store's own format.
  console.log(`seeding ${REBUILD_EVENTS} events in ${REBUILD_STREAMS} streams…`);
  const chunk = 100_000;
  for (let offset = 0; offset < REBUILD_EVENTS; offset += chunk) {
    await handle.pool.query(
      `INSERT INTO eventstore_events (stream_id, revision, event_id, type, data, metadata)
       SELECT 'priced-' || (n % $3), n / $3, gen_random_uuid(), 'Priced',
              jsonb_build_object('amountMinor', 100 + n % 900, 'currency', 'XAF', 'orderId', gen_random_uuid()),
              '{"schemaVersion":1,"actorId":"bench"}'::jsonb
         FROM generate_series($1::bigint, $2::bigint) AS n`,
      [offset, Math.min(offset + chunk, REBUILD_EVENTS) - 1, REBUILD_STREAMS],
    );
  }
  await handle.pool.query('VACUUM ANALYZE eventstore_events');
  const runner = createProjectionRunner({ db: handle.db, store, projections: [totals], batchSize: 1_000 });
  const started = performance.now();
  await runner.rebuild('bench_totals');
  const elapsedS = (performance.now() - started) / 1000;
  const check = await handle.pool.query<{ events: string }>(
    'SELECT sum(events)::text AS events FROM bench_totals',
  );
  await runner.stop();

  // Raw: the same fold in plain SQL pages from Node (keyset reads, one upsert per page, no checkpoint).
  await handle.pool.query(
    'CREATE TABLE bench_raw_totals (stream text PRIMARY KEY, events int NOT NULL, total_minor bigint NOT NULL)',
  );
  const rawStarted = performance.now();
  let last = 0n;
  let lastTransaction = '0';
  let read = 0;
  for (;;) {
    const page = await handle.pool.query<{
      txid: string;
      global_position: bigint;
      stream_id: string;
      data: { amountMinor: number };
    }>({
      name: 'raw_page',
      text: `SELECT transaction_id::text AS txid, global_position, stream_id, data FROM eventstore_events
              WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint) AND type = 'Priced'
              ORDER BY transaction_id, global_position LIMIT 1000`,
      values: [lastTransaction, last.toString()],
    });
    if (page.rows.length === 0) break;
    read += page.rows.length;
    last = page.rows.at(-1)!.global_position;
    lastTransaction = page.rows.at(-1)!.txid;
    const byStream = new Map<string, { events: number; total: number }>();
    for (const row of page.rows) {
      const entry = byStream.get(row.stream_id) ?? { events: 0, total: 0 };
      entry.events += 1;
      entry.total += row.data.amountMinor;
      byStream.set(row.stream_id, entry);
    }
    await handle.pool.query(
      `INSERT INTO bench_raw_totals AS t SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
       ON CONFLICT (stream) DO UPDATE SET events = t.events + excluded.events, total_minor = t.total_minor + excluded.total_minor`,
      [
        [...byStream.keys()],
        [...byStream.values()].map((v) => v.events),
        [...byStream.values()].map((v) => v.total),
      ],
    );
  }
  const rawS = (performance.now() - rawStarted) / 1000;
  const perSecond = REBUILD_EVENTS / elapsedS;
  return {
    work: `rebuild of a simple projection (count and sum per stream: one upsert per page of 1,000 events, up to 5,000 events per transaction) from ${REBUILD_EVENTS} events`,
    eventStore: {
      eventsPerSecond: Math.round(perSecond),
      seconds: round(elapsedS),
      applied: Number(check.rows[0]?.events ?? 0),
    },
    rawPostgres: {
      rowsPerSecond: Math.round(read / rawS),
      seconds: round(rawS),
      work: 'the same fold from plain keyset pages, no checkpoint, no guard, no swap',
    },
    ratio: round(perSecond / (read / rawS), 3),
    goal: '>= 25,000 events/s',
    met: perSecond >= 25_000,
  };
}

const database = await createBenchDatabase();
const handle = createDatabase({ connectionString: database.url, max: 40 });
const otherHandle = createDatabase({ connectionString: database.url, max: 4 });
try {
  await migrateToLatest(handle.db);
  const store = storeOn(handle, database.url);
  const other = storeOn(otherHandle, database.url);
  const loadBefore = os.loadavg().map((value) => round(value, 2));
  const machine = await describeMachine(
    async () =>
      (await handle.pool.query<{ server_version: string }>('show server_version')).rows[0]!.server_version,
  );
  await handle.pool.query(
    'CREATE TABLE bench_raw (id bigserial PRIMARY KEY, stream text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)',
  );
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (!ONLY.has(name)) return undefined;
    console.log(`${name}…`);
    const result = await run();
    console.log(JSON.stringify(result));
    return result;
  };
  const single = await phase('single', () => singleEventAppends(handle, store));
  const hundred = await phase('hundred', () => hundredEventAppends(handle, store));
  const latency = await phase('latency', () => subscriptionLatency(handle, store, other, database.url));
  const rebuild = await phase('rebuild', () => projectionRebuild(handle, store));
  const loadAverage = os.loadavg().map((value) => round(value, 2));
  if (ONLY.size < 4) {
    console.log('a partial run (BENCH_ONLY) is not written to bench/results');
    process.exit(0);
  }
  const file = writeResult('eventstore', {
    loadAverageBeforeRun: loadBefore,
    benchmark: 'eventstore',
    revision: gitRevision(),
    machine,
    loadAverageAfterRun: loadAverage,
    note: 'the 2 cores are shared with PostgreSQL and with whatever else runs; compare by ratio within one run',
    secondsPerPhase: SECONDS,
    results: {
      singleEventAppends: single!,
      hundredEventAppends: hundred!,
      projectionRebuild: rebuild!,
      subscriptionLatency: latency!,
    },
    peer: {
      source: 'docs/benchmarks.md, peer figures (same kind of machine, PostgreSQL 15)',
      emmett: {
        singleEventAppends32: { eventsPerSecond: 3_100, p99Ms: 22, ratioToRaw: 0.25 },
        hundredEventAppends8: { eventsPerSecond: 47_800, p99Ms: 36, ratioToRaw: 0.36 },
      },
      rawFromNode: { singleRowInsert32: 12_500, hundredRowInsert8RowsPerSecond: 133_000 },
    },
  });
  console.table({
    'single-event appends (32 writers)': {
      eventStore: `${single!.eventStore.eventsPerSecond}/s p99 ${single!.eventStore.p99Ms} ms`,
      raw: `${single!.rawPostgres.rowsPerSecond}/s p99 ${single!.rawPostgres.p99Ms} ms`,
      ratio: single!.ratio,
      goal: single!.goal,
      met: single!.met,
    },
    '100-event appends (8 writers)': {
      eventStore: `${hundred!.eventStore.eventsPerSecond} ev/s`,
      raw: `${hundred!.rawPostgres.rowsPerSecond} rows/s`,
      ratio: hundred!.ratio,
      goal: hundred!.goal,
      met: hundred!.met,
    },
    'projection rebuild': {
      eventStore: `${rebuild!.eventStore.eventsPerSecond} ev/s`,
      raw: `${rebuild!.rawPostgres.rowsPerSecond} rows/s`,
      ratio: rebuild!.ratio,
      goal: rebuild!.goal,
      met: rebuild!.met,
    },
    'subscriber latency @1000/s': {
      eventStore: `p99 ${latency!.eventStore.sameProcess.p99Ms} ms (other process ${latency!.eventStore.otherProcessViaNotify.p99Ms} ms)`,
      raw: `p99 ${latency!.rawPostgres.p99Ms} ms`,
      ratio: '-',
      goal: latency!.goal,
      met: latency!.met,
    },
  });
  console.log(`written to ${file}`);
  await store.close();
  await other.close();
} finally {
  await handle.close();
  await otherHandle.close();
  await database.drop();
}
