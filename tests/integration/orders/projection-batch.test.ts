/**
 * The orders projection's `handleBatch` must leave the four tables exactly as `handle` applied
 * event by event does, for any batch split: a property test over random event sequences (valid
 * lifecycles and nonsense alike: events before or without OrderCreated, repeated creations, two
 * spellings of one uuid, items renamed between orders), and a count of the statements a big batch
 * costs.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/services.js';
import type { Position, RecordedEvent } from '../../../src/eventstore/index.js';
import {
  ORDER_EVENT_TYPES,
  orderStream,
  type OrderEvent,
  type OrderLine,
} from '../../../src/modules/orders/events.js';
import { createdData } from '../../../src/modules/orders/fixtures.js';
import { ordersProjection } from '../../../src/modules/orders/projection.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const SEQUENTIAL = 'orders_one_by_one';
const BATCHED = 'orders_batched';
const TABLES = {
  orders_view: 'order_id',
  order_restaurant_daily: 'restaurant_id, day',
  order_restaurant_hours: 'restaurant_id, hour',
  order_item_sales: 'restaurant_id, item_id',
  order_zone_daily: 'city_id, zone_id, day',
} as const;

const ORDERS = Array.from({ length: 8 }, (_, index) => `a0000000-0000-4000-8000-00000000000${index}`);
const RESTAURANTS = [
  'b0000000-0000-4000-8000-000000000001',
  'b0000000-0000-4000-8000-000000000002',
  'b0000000-0000-4000-8000-000000000003',
];
const DRIVERS = ['driver-1', 'driver-2'];
const ITEMS = ['i1', 'i2', 'i3'];
const NAMES = ['Ndolé', 'Ndolé maison', 'Poulet DG'];
/** 20:00 UTC: the three days straddle local (UTC+1) midnights. */
const T0 = Date.parse('2026-11-24T20:00:00.000Z');

/** Cases per run (the examples below included); ORDERS_BATCH_RUNS=2000 for a deeper search. */
const RUNS = Number(process.env.ORDERS_BATCH_RUNS ?? 150);

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  for (const schema of [SEQUENTIAL, BATCHED]) {
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(database.db);
    await database.db.transaction().execute((trx) => ordersProjection.setup({ db: trx, schema }));
  }
});
afterAll(async () => database?.drop());
beforeEach(async () => truncate());

async function truncate(): Promise<void> {
  const tables = [SEQUENTIAL, BATCHED].flatMap((schema) =>
    Object.keys(TABLES).map((table) => sql.id(schema, table)),
  );
  await sql`TRUNCATE ${sql.join(tables)}`.execute(database.db);
}

async function applyOneByOne(events: RecordedEvent[]): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    for (const event of events) await ordersProjection.handle!(event, { db: trx, schema: SEQUENTIAL });
  });
}

async function applyInBatches(events: RecordedEvent[], sizes: number[], db: Kysely<Database> = database.db) {
  let start = 0;
  for (let index = 0; start < events.length; index += 1) {
    const batch = events.slice(start, start + (sizes[index % sizes.length] ?? events.length));
    start += batch.length;
    await db
      .transaction()
      .execute((trx) => ordersProjection.handleBatch!(batch, { db: trx, schema: BATCHED }));
  }
}

async function rows(schema: string, table: keyof typeof TABLES): Promise<unknown[]> {
  const result = await sql`SELECT * FROM ${sql.id(schema, table)} ORDER BY ${sql.raw(TABLES[table])}`.execute(
    database.db,
  );
  return result.rows;
}

async function expectSameTables(): Promise<void> {
  for (const table of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
    expect(await rows(BATCHED, table), table).toEqual(await rows(SEQUENTIAL, table));
  }
}

// ---------------------------------------------------------------------------------------------
// Random event sequences

interface EventSpec {
  order: number;
  type: OrderEvent['type'] | 'OrderNoteAdded';
  minute: number;
  /** Spell the stream's order id (or the creation's data.orderId) in upper case. */
  upper: boolean;
  /** OrderCreated only: data.orderId names another order of the pool than the stream. */
  otherOrder: boolean;
  restaurant: number;
  driver: number;
  lines: { item: number; name: number; quantity: number; total: number }[];
  subtotal: number;
  discount: number;
}

const TYPE_WEIGHTS: [EventSpec['type'], number][] = [
  ...ORDER_EVENT_TYPES.map((type): [EventSpec['type'], number] => [type, 2]),
  ['OrderCreated', 4],
  ['OrderPaymentCaptured', 6],
  ['OrderDelivered', 6],
  ['OrderDriverClaimed', 3],
  ['OrderDisputeResolved', 3],
  ['OrderNoteAdded', 1],
];

const specArbitrary = (orders: number) =>
  fc.record<EventSpec>({
    order: fc.integer({ min: 0, max: orders - 1 }),
    type: fc.oneof(...TYPE_WEIGHTS.map(([type, weight]) => ({ arbitrary: fc.constant(type), weight }))),
    minute: fc.integer({ min: 0, max: 3 * 1_440 }),
    upper: fc.integer({ min: 0, max: 9 }).map((value) => value === 0),
    otherOrder: fc.integer({ min: 0, max: 19 }).map((value) => value === 0),
    restaurant: fc.integer({ min: 0, max: RESTAURANTS.length - 1 }),
    driver: fc.integer({ min: 0, max: DRIVERS.length - 1 }),
    lines: fc.array(
      fc.record({
        item: fc.integer({ min: 0, max: ITEMS.length - 1 }),
        name: fc.integer({ min: 0, max: NAMES.length - 1 }),
        quantity: fc.integer({ min: 1, max: 4 }),
        total: fc.integer({ min: 0, max: 20_000 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    subtotal: fc.integer({ min: 0, max: 50_000 }),
    discount: fc.integer({ min: 0, max: 5_000 }),
  });

const scenarioArbitrary = fc.integer({ min: 1, max: ORDERS.length }).chain((orders) =>
  fc.record({
    specs: fc.array(specArbitrary(orders), { minLength: 1, maxLength: 60 }),
    /** Most orders start with their creation, as in the store; the others exercise missing rows. */
    createdFirst: fc.array(
      fc.integer({ min: 0, max: 9 }).map((value) => value > 1),
      {
        minLength: orders,
        maxLength: orders,
      },
    ),
    sizes: fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 6 }),
  }),
);

const spec = (order: number, type: EventSpec['type'], overrides: Partial<EventSpec> = {}): EventSpec => ({
  order,
  type,
  minute: order * 60,
  upper: false,
  otherOrder: false,
  restaurant: 0,
  driver: 0,
  lines: [{ item: 0, name: order % NAMES.length, quantity: 2, total: 5_000 }],
  subtotal: 5_000,
  discount: 500,
  ...overrides,
});
type Scenario = { specs: EventSpec[]; createdFirst: boolean[]; sizes: number[] };
/** The rare paths, run every time (random cases reach them only now and then). */
const EXAMPLES: [Scenario][] = [
  // Refunds decided in disputes: in the batch that created the row, in a later one, on two days.
  [
    {
      specs: [
        spec(0, 'OrderCreated'),
        spec(0, 'OrderPaymentCaptured'),
        spec(0, 'OrderDelivered'),
        spec(0, 'OrderDisputeResolved', { discount: 1_200 }),
        spec(1, 'OrderCreated', { restaurant: 1 }),
        spec(1, 'OrderDelivered', { restaurant: 1 }),
        spec(1, 'OrderDisputeResolved', { minute: 2_000, discount: 3_000 }),
        spec(1, 'OrderDisputeResolved', { minute: 2_100, discount: 0 }),
      ],
      createdFirst: [true, true],
      sizes: [4, 2, 1],
    },
  ],
  // A repeated OrderCreated, the row already there: the INSERT conflicts, the events after it update.
  [
    {
      specs: [
        spec(0, 'OrderCreated'),
        spec(0, 'OrderCreated', { restaurant: 1 }),
        spec(0, 'OrderPaymentCaptured'),
        spec(0, 'OrderDelivered'),
      ],
      createdFirst: [true],
      sizes: [1, 3],
    },
  ],
  // Events before the creation in the same batch do nothing; those after it count.
  [
    {
      specs: [
        spec(0, 'OrderPaymentCaptured'),
        spec(0, 'OrderCreated'),
        spec(0, 'OrderDriverClaimed'),
        spec(0, 'OrderDelivered'),
      ],
      createdFirst: [false],
      sizes: [4],
    },
  ],
  // One item renamed between two orders: the last delivery names it, whichever batch created the order.
  [
    {
      specs: [
        spec(0, 'OrderCreated'),
        spec(1, 'OrderCreated'),
        spec(1, 'OrderDelivered'),
        spec(0, 'OrderDelivered'),
      ],
      createdFirst: [true, true],
      sizes: [1, 3],
    },
  ],
  // The same order spelled in upper case by later events, and by the restaurant id.
  [
    {
      specs: [
        spec(0, 'OrderCreated', { upper: true }),
        spec(0, 'OrderPaymentCaptured', { upper: true }),
        spec(0, 'OrderDelivered'),
        spec(1, 'OrderCreated'),
        spec(1, 'OrderPaymentCaptured', { upper: true }),
      ],
      createdFirst: [true, true],
      sizes: [2, 3],
    },
  ],
];

function eventData(spec: EventSpec, orderId: string, at: string): unknown {
  const by = { role: 'system', id: 'system' };
  switch (spec.type) {
    case 'OrderCreated': {
      const lines: OrderLine[] = spec.lines.map((line) => ({
        itemId: ITEMS[line.item]!,
        name: NAMES[line.name]!,
        quantity: line.quantity,
        unitPriceMinor: 0,
        modifiers: [],
        lineTotalMinor: line.total,
      }));
      const restaurantId = RESTAURANTS[spec.restaurant]!;
      const base = createdData();
      return createdData({
        orderId,
        restaurantId: spec.upper ? restaurantId.toUpperCase() : restaurantId,
        lines,
        pricing: {
          ...base.pricing,
          subtotalMinor: spec.subtotal,
          discountMinor: spec.discount,
          deliveryFeeMinor: spec.subtotal % 1_000,
        },
        scheduledFor: spec.driver === 1 ? new Date(Date.parse(at) + 90 * 60_000).toISOString() : null,
        // Zones (issue #26), drawn from the spec: restaurant 0 an order from before zones were
        // recorded, 1 a city without a zone there, 2 one of two zones with or without a surge.
        ...(spec.restaurant === 0
          ? {}
          : {
              zone: {
                cityId: 'douala',
                zoneId: spec.restaurant === 1 ? null : ['akwa', 'bonapriso'][spec.lines.length % 2]!,
                surgeXaf: spec.restaurant === 1 || spec.discount % 3 === 0 ? 0 : 150,
              },
            }),
        at,
      });
    }
    case 'OrderDriverClaimed':
    case 'OrderPickedUp':
    case 'OrderDelivered':
      return { driverId: DRIVERS[spec.driver], at };
    case 'OrderDisputeResolved':
      // Zero in about a tenth of the cases (spec.discount starts at 0): no refund, no counter.
      return { by, refundMinor: spec.discount < 500 ? 0 : spec.discount, note: 'n', at };
    case 'OrderRemedyRecorded': {
      // Support's remedy: a refund whose restaurant share counts (none in about a tenth of the
      // cases), or a goodwill credit, which counts nothing.
      const share = spec.discount < 500 ? 0 : spec.discount;
      return {
        remedyId: `remedy-${spec.minute}`,
        ticketId: 'ticket',
        kind: spec.lines.length % 3 === 0 ? 'goodwill_credit' : 'refund',
        amountMinor: share + 100,
        shares: { restaurantMinor: share, driverMinor: 0, platformMinor: 100 },
        refundTo: 'wallet',
        by,
        at,
      };
    }
    default:
      return { by, reason: 'r', at };
  }
}

function recordedEvents(specs: EventSpec[], createdFirst: boolean[]): RecordedEvent[] {
  const seen = new Set<number>();
  const revisions = new Map<string, bigint>();
  return specs.map((original, index) => {
    const first = !seen.has(original.order);
    seen.add(original.order);
    const spec: EventSpec =
      first && createdFirst[original.order] ? { ...original, type: 'OrderCreated' } : original;
    const id = ORDERS[original.order]!;
    const stream = orderStream(spec.upper && spec.type !== 'OrderCreated' ? id.toUpperCase() : id);
    const revision = revisions.get(stream) ?? 0n;
    revisions.set(stream, revision + 1n);
    const dataOrder = spec.otherOrder ? ORDERS[(original.order + 1) % ORDERS.length]! : id;
    const at = new Date(T0 + spec.minute * 60_000).toISOString();
    return {
      id: randomUUID(),
      type: spec.type,
      data: eventData(spec, spec.upper ? dataOrder.toUpperCase() : dataOrder, at),
      metadata: { schemaVersion: 1 },
      stream,
      revision,
      position: String(index).padStart(12, '0') as Position,
      createdAt: new Date(at),
    } as RecordedEvent;
  });
}

describe('orders projection: handleBatch equals handle applied event by event', () => {
  it(
    'leaves the five tables identical for random event sequences split into random batches',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArbitrary, async ({ specs, createdFirst, sizes }) => {
          await truncate();
          const events = recordedEvents(specs, createdFirst);
          await applyOneByOne(events);
          await applyInBatches(events, sizes);
          await expectSameTables();
        }),
        { numRuns: RUNS, examples: EXAMPLES },
      );
    },
    60_000 + RUNS * 500,
  );

  it('projects 200 orders created and paid in one batch with 3 statements, and their deliveries with 3', async () => {
    const statements: string[] = [];
    const counting = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: database.pool }),
      log: (event) => void (event.level === 'query' && statements.push(event.query.sql)),
    });
    const written = () => statements.filter((text) => !/^(begin|commit|rollback)/i.test(text));
    let position = 0;
    const recorded = (id: string, revision: number, event: OrderEvent): RecordedEvent =>
      ({
        id: randomUUID(),
        ...event,
        metadata: { schemaVersion: 1 },
        stream: orderStream(id),
        revision: BigInt(revision),
        position: String((position += 1)).padStart(12, '0') as Position,
        createdAt: new Date(),
      }) as RecordedEvent;
    const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
    const placed: RecordedEvent[] = [];
    const delivered: RecordedEvent[] = [];
    for (let order = 0; order < 200; order += 1) {
      const orderId = randomUUID();
      const data = createdData({
        orderId,
        restaurantId: RESTAURANTS[order % RESTAURANTS.length]!,
        at: at(order * 7),
      });
      const by = { role: 'restaurant', id: data.restaurantOwnerId } as const;
      const driverId = DRIVERS[order % DRIVERS.length]!;
      placed.push(
        recorded(orderId, 0, { type: 'OrderCreated', data }),
        recorded(orderId, 1, {
          type: 'OrderPaymentCaptured',
          data: { paymentId: `p${order}`, amountMinor: 7_000, at: at(order * 7 + 1) },
        }),
      );
      delivered.push(
        recorded(orderId, 2, {
          type: 'OrderAccepted',
          data: { by, preparationMinutes: 15, at: at(order * 7 + 2) },
        }),
        recorded(orderId, 3, { type: 'OrderPreparationStarted', data: { by, at: at(order * 7 + 3) } }),
        recorded(orderId, 4, { type: 'OrderReadyForPickup', data: { by, at: at(order * 7 + 4) } }),
        recorded(orderId, 5, { type: 'OrderDriverClaimed', data: { driverId, at: at(order * 7 + 5) } }),
        recorded(orderId, 6, { type: 'OrderPickedUp', data: { driverId, at: at(order * 7 + 6) } }),
        recorded(orderId, 7, { type: 'OrderDelivered', data: { driverId, at: at(order * 7 + 7) } }),
      );
    }

    await applyOneByOne([...placed, ...delivered]);
    await applyInBatches(placed, [placed.length], counting);
    expect(written(), written().join('\n')).toHaveLength(3); // orders_view, daily, hours
    statements.length = 0;
    await applyInBatches(delivered, [delivered.length], counting);
    expect(written(), written().join('\n')).toHaveLength(3); // orders_view, daily, item sales
    await expectSameTables();
    const views = (await rows(BATCHED, 'orders_view')) as { status: string; driver_id: string | null }[];
    expect(views).toHaveLength(200);
    expect(views.every((view) => view.status === 'DELIVERED' && view.driver_id !== null)).toBe(true);
  });
});
