/**
 * The `orders` projection (projections/ runner): one row per order for the lists (customer
 * history, restaurant live queue, admin live list, drivers' open orders, the sweeper, reviews'
 * CompletedOrderLookup) and per-restaurant figures:
 *   - orders per day and per local hour (Africa/Douala, UTC+1 all year) count paid orders (PLACED);
 *   - revenue (food: subtotal − discount) and best sellers count delivered orders;
 *   - refunds decided in disputes (OrderDisputeResolved.refundMinor) count on the day of the
 *     decision (`refunded_minor`), so that revenue − refunds is what the restaurant kept; so does
 *     the restaurant's share of a refund support decided (OrderRemedyRecorded, `restaurantMinor`:
 *     the driver's and the platform's shares are not the restaurant's money).
 * Events are applied once per (stream, revision) by the runner.
 *
 * Two handlers with one meaning. `handle` (one event: one to four statements) states it plainly and
 * is the reference the batch is tested against (tests/integration/orders/projection-batch.test.ts).
 * The runner calls `handleBatch`: under load, 2–4 round trips per event fell far behind the orders
 * placed, so a batch folds each order's events in memory and writes at most five multi-row
 * statements (rows updated, rows inserted, daily, hourly, item counters), whatever its size; a sixth
 * only if an OrderCreated repeats for a row already there (never, with the store's revisions).
 */
import { sql, type Transaction } from 'kysely';
import type { OrderTables } from './tables.js';
import type { ProjectionContext, ProjectionDefinition } from '../../../projections/types.js';
import type { RecordedEvent } from '../../eventstore/index.js';
import {
  ORDER_STREAM_PREFIX,
  type OrderCreatedData,
  type OrderEvent,
  type OrderLine,
  type OrderStatus,
} from './events.js';

export const ORDERS_PROJECTION = 'orders';
const DOUALA_OFFSET_MS = 3_600_000;

const STATUS_OF_EVENT: Partial<Record<OrderEvent['type'], OrderStatus>> = {
  OrderPaymentFailed: 'PAYMENT_FAILED',
  OrderPaymentExpired: 'PAYMENT_EXPIRED',
  OrderAccepted: 'ACCEPTED',
  OrderRejected: 'REJECTED',
  OrderCancelled: 'CANCELLED',
  OrderPreparationStarted: 'PREPARING',
  OrderReadyForPickup: 'READY_FOR_PICKUP',
  OrderPickedUp: 'PICKED_UP',
  OrderDeliveryFailed: 'DELIVERY_FAILED',
  OrderDisputeOpened: 'DISPUTED',
  OrderDisputeResolved: 'RESOLVED',
  OrderCompleted: 'COMPLETED',
};

async function setup({ db, schema }: ProjectionContext): Promise<void> {
  const table = (name: string) => sql.id(schema, name);
  await sql`CREATE TABLE ${table('orders_view')} (
    order_id uuid PRIMARY KEY, customer_id text NOT NULL, customer_kind text NOT NULL,
    restaurant_id uuid NOT NULL, restaurant_owner_id text NOT NULL, restaurant_name text NOT NULL,
    driver_id text, status text NOT NULL, total_minor int8 NOT NULL, subtotal_minor int8 NOT NULL,
    discount_minor int8 NOT NULL, item_count int NOT NULL, lines jsonb NOT NULL,
    created_at timestamptz NOT NULL, placed_at timestamptz, delivered_at timestamptz,
    updated_at timestamptz NOT NULL, last_revision int8 NOT NULL, scheduled_for timestamptz,
    city_id text, zone_id text, delivery_fee_minor int8, surge_minor int8)`.execute(db);
  await sql`CREATE INDEX ON ${table('orders_view')} (customer_id, created_at DESC, order_id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX ON ${table('orders_view')} (restaurant_id, status, created_at)`.execute(db);
  await sql`CREATE INDEX ON ${table('orders_view')} (status, updated_at)`.execute(db);
  await sql`CREATE INDEX ON ${table('orders_view')} (created_at DESC, order_id DESC)`.execute(db);
  // Delivery times and drivers per zone (issue #26): the delivered orders of a zone by placement,
  // read by the zone statistics and dispatch's `zoneDeliveryMinutes` without a scan of every order.
  await sql`CREATE INDEX ON ${table('orders_view')} (city_id, zone_id, placed_at)
    WHERE delivered_at IS NOT NULL AND zone_id IS NOT NULL`.execute(db);
  // A driver's deliveries of a period (`deliveredBy`: dispatch's performance figures, issue #20), and
  // the driver's carried orders by the same prefix. Named: migration 2026-12-07T0640 adds it to a
  // generation built before, so the version stays (no rebuild for an index).
  await sql`CREATE INDEX orders_view_driver_delivered_idx ON ${table('orders_view')} (driver_id, delivered_at)`.execute(
    db,
  );
  await sql`CREATE TABLE ${table('order_restaurant_daily')} (restaurant_id uuid NOT NULL, day date NOT NULL,
    orders int NOT NULL DEFAULT 0, delivered int NOT NULL DEFAULT 0, revenue_minor int8 NOT NULL DEFAULT 0,
    refunded_minor int8 NOT NULL DEFAULT 0, PRIMARY KEY (restaurant_id, day))`.execute(db);
  await sql`CREATE TABLE ${table('order_restaurant_hours')} (restaurant_id uuid NOT NULL, hour smallint NOT NULL,
    orders int NOT NULL DEFAULT 0, PRIMARY KEY (restaurant_id, hour))`.execute(db);
  // Zone statistics (issue #26): paid orders per zone and local day, with their delivery fees and
  // the surges in them. Only orders placed in a zone (cities without zones have none).
  await sql`CREATE TABLE ${table('order_zone_daily')} (city_id text NOT NULL, zone_id text NOT NULL,
    day date NOT NULL, orders int NOT NULL DEFAULT 0, delivery_fee_minor int8 NOT NULL DEFAULT 0,
    surge_minor int8 NOT NULL DEFAULT 0, surged_orders int NOT NULL DEFAULT 0,
    PRIMARY KEY (city_id, zone_id, day))`.execute(db);
  await sql`CREATE INDEX ON ${table('order_zone_daily')} (day DESC, city_id, zone_id)`.execute(db);
  await sql`CREATE TABLE ${table('order_item_sales')} (restaurant_id uuid NOT NULL, item_id text NOT NULL,
    name text NOT NULL, quantity int8 NOT NULL, revenue_minor int8 NOT NULL, PRIMARY KEY (restaurant_id, item_id))`.execute(
    db,
  );
}

function orderId(event: RecordedEvent): string {
  return event.stream.slice(ORDER_STREAM_PREFIX.length);
}

function localDayAndHour(iso: string): { day: string; hour: number } {
  const local = new Date(Date.parse(iso) + DOUALA_OFFSET_MS);
  return { day: local.toISOString().slice(0, 10), hour: local.getUTCHours() };
}

async function onCreated(
  event: Extract<OrderEvent, { type: 'OrderCreated' }>,
  recorded: RecordedEvent,
  db: Transaction<OrderTables>,
  schema: string,
) {
  const data = event.data;
  const itemCount = data.lines.reduce((sum, line) => sum + line.quantity, 0);
  const lines = data.lines.map((line) => ({
    itemId: line.itemId,
    name: line.name,
    quantity: line.quantity,
    lineTotalMinor: line.lineTotalMinor,
  }));
  await sql`INSERT INTO ${sql.id(schema, 'orders_view')} VALUES (${data.orderId}, ${data.customer.id}, ${data.customer.kind},
    ${data.restaurantId}, ${data.restaurantOwnerId}, ${data.restaurantName}, NULL, 'PENDING_PAYMENT', ${data.pricing.totalMinor},
    ${data.pricing.subtotalMinor}, ${data.pricing.discountMinor}, ${itemCount}, ${JSON.stringify(lines)}::jsonb,
    ${data.at}, NULL, NULL, ${data.at}, ${String(recorded.revision)}, ${data.scheduledFor},
    ${data.zone?.cityId ?? null}, ${data.zone?.zoneId ?? null}, ${data.pricing.deliveryFeeMinor},
    ${data.zone?.surgeXaf ?? null})
    ON CONFLICT (order_id) DO NOTHING`.execute(db);
}

/** The zone facts of a row (null zone: not counted in zone statistics). */
interface ZoneFacts {
  cityId: string | null;
  zoneId: string | null;
  deliveryFee: bigint;
  surge: bigint;
}

function zoneFactsOf(row: {
  city_id: string | null;
  zone_id: string | null;
  delivery_fee_minor: string | bigint | null;
  surge_minor: string | bigint | null;
}): ZoneFacts {
  return {
    cityId: row.city_id,
    zoneId: row.zone_id,
    deliveryFee: BigInt(row.delivery_fee_minor ?? 0),
    surge: BigInt(row.surge_minor ?? 0),
  };
}

async function onPlaced(
  id: string,
  at: string,
  revision: bigint,
  db: Transaction<OrderTables>,
  schema: string,
) {
  const updated = await sql<{
    restaurant_id: string;
    city_id: string | null;
    zone_id: string | null;
    delivery_fee_minor: string | null;
    surge_minor: string | null;
  }>`UPDATE ${sql.id(schema, 'orders_view')}
    SET status = 'PLACED', placed_at = ${at}, updated_at = ${at}, last_revision = ${String(revision)}
    WHERE order_id = ${id} RETURNING restaurant_id, city_id, zone_id, delivery_fee_minor, surge_minor`.execute(
    db,
  );
  const row = updated.rows[0];
  if (row === undefined) return;
  const restaurantId = row.restaurant_id;
  const { day, hour } = localDayAndHour(at);
  const zone = zoneFactsOf(row);
  if (zone.cityId !== null && zone.zoneId !== null)
    await sql`INSERT INTO ${sql.id(schema, 'order_zone_daily')} AS z
      (city_id, zone_id, day, orders, delivery_fee_minor, surge_minor, surged_orders)
      VALUES (${zone.cityId}, ${zone.zoneId}, ${day}, 1, ${String(zone.deliveryFee)}, ${String(zone.surge)},
        ${zone.surge > 0n ? 1 : 0})
      ON CONFLICT (city_id, zone_id, day) DO UPDATE SET orders = z.orders + 1,
        delivery_fee_minor = z.delivery_fee_minor + excluded.delivery_fee_minor,
        surge_minor = z.surge_minor + excluded.surge_minor,
        surged_orders = z.surged_orders + excluded.surged_orders`.execute(db);
  await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_daily')} AS d (restaurant_id, day, orders) VALUES (${restaurantId}, ${day}, 1)
    ON CONFLICT (restaurant_id, day) DO UPDATE SET orders = d.orders + 1`.execute(db);
  await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_hours')} AS h (restaurant_id, hour, orders) VALUES (${restaurantId}, ${hour}, 1)
    ON CONFLICT (restaurant_id, hour) DO UPDATE SET orders = h.orders + 1`.execute(db);
}

async function onDelivered(
  id: string,
  at: string,
  revision: bigint,
  db: Transaction<OrderTables>,
  schema: string,
) {
  const updated = await sql<{
    restaurant_id: string;
    subtotal_minor: string;
    discount_minor: string;
    lines: Pick<OrderLine, 'itemId' | 'name' | 'quantity' | 'lineTotalMinor'>[];
  }>`
    UPDATE ${sql.id(schema, 'orders_view')} SET status = 'DELIVERED', delivered_at = ${at}, updated_at = ${at}, last_revision = ${String(revision)}
    WHERE order_id = ${id} RETURNING restaurant_id, subtotal_minor, discount_minor, lines`.execute(db);
  const row = updated.rows[0];
  if (row === undefined) return;
  const { day } = localDayAndHour(at);
  const revenue = BigInt(row.subtotal_minor) - BigInt(row.discount_minor);
  await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_daily')} AS d (restaurant_id, day, delivered, revenue_minor)
    VALUES (${row.restaurant_id}, ${day}, 1, ${String(revenue)})
    ON CONFLICT (restaurant_id, day) DO UPDATE SET delivered = d.delivered + 1, revenue_minor = d.revenue_minor + excluded.revenue_minor`.execute(
    db,
  );
  for (const line of row.lines) {
    await sql`INSERT INTO ${sql.id(schema, 'order_item_sales')} AS s VALUES (${row.restaurant_id}, ${line.itemId}, ${line.name}, ${line.quantity}, ${line.lineTotalMinor})
      ON CONFLICT (restaurant_id, item_id) DO UPDATE SET quantity = s.quantity + excluded.quantity,
      revenue_minor = s.revenue_minor + excluded.revenue_minor, name = excluded.name`.execute(db);
  }
}

async function onResolved(
  id: string,
  at: string,
  refund: bigint,
  revision: bigint,
  db: Transaction<OrderTables>,
  schema: string,
) {
  const updated = await sql<{ restaurant_id: string }>`UPDATE ${sql.id(schema, 'orders_view')}
    SET status = 'RESOLVED', updated_at = ${at}, last_revision = ${String(revision)}
    WHERE order_id = ${id} RETURNING restaurant_id`.execute(db);
  const restaurantId = updated.rows[0]?.restaurant_id;
  if (restaurantId === undefined || refund <= 0n) return;
  await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_daily')} AS d (restaurant_id, day, refunded_minor)
    VALUES (${restaurantId}, ${localDayAndHour(at).day}, ${String(refund)})
    ON CONFLICT (restaurant_id, day) DO UPDATE SET refunded_minor = d.refunded_minor + excluded.refunded_minor`.execute(
    db,
  );
}

/** A remedy changes no status: the row is touched (sync) and the restaurant's share counted as a refund. */
async function onRemedy(
  id: string,
  data: Extract<OrderEvent, { type: 'OrderRemedyRecorded' }>['data'],
  revision: bigint,
  db: Transaction<OrderTables>,
  schema: string,
) {
  const updated = await sql<{ restaurant_id: string }>`UPDATE ${sql.id(schema, 'orders_view')}
    SET updated_at = ${data.at}, last_revision = ${String(revision)}
    WHERE order_id = ${id} RETURNING restaurant_id`.execute(db);
  const restaurantId = updated.rows[0]?.restaurant_id;
  const share = BigInt(data.kind === 'refund' ? data.shares.restaurantMinor : 0);
  if (restaurantId === undefined || share <= 0n) return;
  await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_daily')} AS d (restaurant_id, day, refunded_minor)
    VALUES (${restaurantId}, ${localDayAndHour(data.at).day}, ${String(share)})
    ON CONFLICT (restaurant_id, day) DO UPDATE SET refunded_minor = d.refunded_minor + excluded.refunded_minor`.execute(
    db,
  );
}

async function handle(recorded: RecordedEvent, { db, schema }: ProjectionContext): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as OrderEvent;
  const id = orderId(recorded);
  switch (event.type) {
    case 'OrderCreated':
      return onCreated(event, recorded, db, schema);
    case 'OrderPaymentCaptured':
      return onPlaced(id, event.data.at, recorded.revision, db, schema);
    case 'OrderDelivered':
      return onDelivered(id, event.data.at, recorded.revision, db, schema);
    case 'OrderDriverClaimed':
      await sql`UPDATE ${sql.id(schema, 'orders_view')} SET driver_id = ${event.data.driverId}, updated_at = ${event.data.at},
        last_revision = ${String(recorded.revision)} WHERE order_id = ${id}`.execute(db);
      return;
    case 'OrderDisputeResolved':
      return onResolved(id, event.data.at, BigInt(event.data.refundMinor), recorded.revision, db, schema);
    case 'OrderRemedyRecorded':
      return onRemedy(id, event.data, recorded.revision, db, schema);
    default: {
      const status = STATUS_OF_EVENT[event.type];
      if (status === undefined) return;
      await sql`UPDATE ${sql.id(schema, 'orders_view')} SET status = ${status}, updated_at = ${event.data.at},
        last_revision = ${String(recorded.revision)} WHERE order_id = ${id}`.execute(db);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Batches: the same effects as `handle` applied event by event, in a handful of statements.

type ViewLine = Pick<OrderLine, 'itemId' | 'name' | 'quantity' | 'lineTotalMinor'>;
interface Indexed {
  recorded: RecordedEvent;
  /** Position in the batch: the order in which counters were bumped (item names: last one wins). */
  index: number;
}

/** What one order's events in the batch do to its row, given whether the row existed before. */
interface OrderFold {
  /** The row did not exist and the batch created it (the first OrderCreated; later ones do nothing). */
  created?: OrderCreatedData;
  status?: OrderStatus;
  driverId?: string;
  placedAt?: string;
  deliveredAt?: string;
  updatedAt?: string;
  /** Set once any event changed the row. */
  lastRevision?: bigint;
  /** Counter bumps: PLACED (daily and hourly orders), DELIVERED (revenue, item sales), refunds. */
  effects: { kind: 'placed' | 'delivered' | 'refunded'; at: string; index: number; amount?: bigint }[];
}

/** The immutable columns the counters read. */
interface OrderFacts {
  restaurantId: string;
  revenue: bigint;
  lines: ViewLine[] | null;
  zone: ZoneFacts;
}

/**
 * PostgreSQL reads one uuid in several spellings (case, braces, hyphens); the fold keys rows and
 * counters by the canonical one so that two spellings of one id stay one row, as they are in SQL.
 */
function uuidKey(value: string): string {
  const inner = value.startsWith('{') && value.endsWith('}') ? value.slice(1, -1) : value;
  if (!/^[0-9a-f]{4}(-?[0-9a-f]{4}){7}$/i.test(inner)) return value;
  const hex = inner.replaceAll('-', '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function viewLines(data: OrderCreatedData): ViewLine[] {
  return data.lines.map((line) => ({
    itemId: line.itemId,
    name: line.name,
    quantity: line.quantity,
    lineTotalMinor: line.lineTotalMinor,
  }));
}

/** `handle`'s switch, on memory: events on a missing row do nothing, as an UPDATE matching no row. */
function fold(events: Indexed[], existed: boolean): OrderFold {
  const result: OrderFold = { effects: [] };
  let exists = existed;
  for (const { recorded, index } of events) {
    const event = { type: recorded.type, data: recorded.data } as OrderEvent;
    if (event.type === 'OrderCreated') {
      if (exists) continue; // INSERT ... ON CONFLICT DO NOTHING
      exists = true;
      result.created = event.data;
      result.status = 'PENDING_PAYMENT';
      result.updatedAt = event.data.at;
      result.lastRevision = recorded.revision;
      continue;
    }
    if (!exists) continue;
    switch (event.type) {
      case 'OrderPaymentCaptured':
        result.status = 'PLACED';
        result.placedAt = event.data.at;
        result.effects.push({ kind: 'placed', at: event.data.at, index });
        break;
      case 'OrderDelivered':
        result.status = 'DELIVERED';
        result.deliveredAt = event.data.at;
        result.effects.push({ kind: 'delivered', at: event.data.at, index });
        break;
      case 'OrderDriverClaimed':
        result.driverId = event.data.driverId;
        break;
      case 'OrderDisputeResolved': {
        result.status = 'RESOLVED';
        const amount = BigInt(event.data.refundMinor);
        if (amount > 0n) result.effects.push({ kind: 'refunded', at: event.data.at, index, amount });
        break;
      }
      case 'OrderRemedyRecorded': {
        const share = BigInt(event.data.kind === 'refund' ? event.data.shares.restaurantMinor : 0);
        if (share > 0n) result.effects.push({ kind: 'refunded', at: event.data.at, index, amount: share });
        break;
      }
      default: {
        const status = STATUS_OF_EVENT[event.type];
        if (status === undefined) continue; // not an event this projection reads
        result.status = status;
      }
    }
    result.updatedAt = event.data.at;
    result.lastRevision = recorded.revision;
  }
  return result;
}

/** One UPDATE ... FROM unnest for rows that may exist; returns the rows it found, with their facts. */
async function updateRows(
  db: Transaction<OrderTables>,
  schema: string,
  folds: [string, OrderFold][],
): Promise<Map<string, OrderFacts>> {
  const changed = folds.filter(([, change]) => change.lastRevision !== undefined);
  if (changed.length === 0) return new Map();
  const column = <T>(pick: (change: OrderFold) => T) => changed.map(([, change]) => pick(change));
  // Every event sets updated_at and last_revision; the other columns only when an event set them.
  const result = await sql<{
    order_id: string;
    restaurant_id: string;
    subtotal_minor: bigint;
    discount_minor: bigint;
    lines: ViewLine[] | null;
    city_id: string | null;
    zone_id: string | null;
    delivery_fee_minor: string | null;
    surge_minor: string | null;
  }>`UPDATE ${sql.id(schema, 'orders_view')} AS o SET status = COALESCE(v.status, o.status),
      driver_id = COALESCE(v.driver_id, o.driver_id), placed_at = COALESCE(v.placed_at, o.placed_at),
      delivered_at = COALESCE(v.delivered_at, o.delivered_at), updated_at = v.updated_at, last_revision = v.last_revision
    FROM unnest(${changed.map(([id]) => id)}::uuid[], ${column((c) => c.status ?? null)}::text[],
      ${column((c) => c.driverId ?? null)}::text[], ${column((c) => c.placedAt ?? null)}::timestamptz[],
      ${column((c) => c.deliveredAt ?? null)}::timestamptz[], ${column((c) => c.updatedAt)}::timestamptz[],
      ${column((c) => String(c.lastRevision))}::int8[], ${column((c) => c.effects.some((e) => e.kind === 'delivered'))}::bool[])
      AS v(order_id, status, driver_id, placed_at, delivered_at, updated_at, last_revision, needs_lines)
    WHERE o.order_id = v.order_id
    RETURNING o.order_id, o.restaurant_id, o.subtotal_minor, o.discount_minor,
      CASE WHEN v.needs_lines THEN o.lines END AS lines, o.city_id, o.zone_id, o.delivery_fee_minor,
      o.surge_minor`.execute(db);
  return new Map(
    result.rows.map((row) => [
      row.order_id,
      {
        restaurantId: row.restaurant_id,
        revenue: BigInt(row.subtotal_minor) - BigInt(row.discount_minor),
        lines: row.lines,
        zone: zoneFactsOf(row),
      },
    ]),
  );
}

/** One INSERT of the created rows in their final state; returns the ids inserted (not already there). */
async function insertRows(
  db: Transaction<OrderTables>,
  schema: string,
  folds: [string, OrderFold][],
): Promise<Set<string>> {
  if (folds.length === 0) return new Set();
  const column = <T>(pick: (created: OrderCreatedData, change: OrderFold) => T) =>
    folds.map(([, change]) => pick(change.created!, change));
  const result = await sql<{ order_id: string }>`INSERT INTO ${sql.id(schema, 'orders_view')} (order_id,
      customer_id, customer_kind, restaurant_id, restaurant_owner_id, restaurant_name, driver_id, status,
      total_minor, subtotal_minor, discount_minor, item_count, lines, created_at, placed_at, delivered_at,
      updated_at, last_revision, scheduled_for, city_id, zone_id, delivery_fee_minor, surge_minor)
    SELECT * FROM unnest(${folds.map(([id]) => id)}::uuid[], ${column((d) => d.customer.id)}::text[],
      ${column((d) => d.customer.kind)}::text[], ${column((d) => d.restaurantId)}::uuid[],
      ${column((d) => d.restaurantOwnerId)}::text[], ${column((d) => d.restaurantName)}::text[],
      ${column((_, c) => c.driverId ?? null)}::text[], ${column((_, c) => c.status)}::text[],
      ${column((d) => d.pricing.totalMinor)}::int8[], ${column((d) => d.pricing.subtotalMinor)}::int8[],
      ${column((d) => d.pricing.discountMinor)}::int8[],
      ${column((d) => d.lines.reduce((sum, line) => sum + line.quantity, 0))}::int4[],
      ${column((d) => JSON.stringify(viewLines(d)))}::jsonb[], ${column((d) => d.at)}::timestamptz[],
      ${column((_, c) => c.placedAt ?? null)}::timestamptz[], ${column((_, c) => c.deliveredAt ?? null)}::timestamptz[],
      ${column((_, c) => c.updatedAt)}::timestamptz[], ${column((_, c) => String(c.lastRevision))}::int8[],
      ${column((d) => d.scheduledFor)}::timestamptz[], ${column((d) => d.zone?.cityId ?? null)}::text[],
      ${column((d) => d.zone?.zoneId ?? null)}::text[], ${column((d) => d.pricing.deliveryFeeMinor)}::int8[],
      ${column((d) => d.zone?.surgeXaf ?? null)}::int8[])
    ON CONFLICT (order_id) DO NOTHING RETURNING order_id`.execute(db);
  return new Set(result.rows.map((row) => row.order_id));
}

/** Counter bumps summed per key in memory, then one upsert per table. */
class Counters {
  private readonly daily = new Map<
    string,
    {
      restaurantId: string;
      day: string;
      orders: number;
      delivered: number;
      revenue: bigint;
      refunded: bigint;
    }
  >();
  private readonly hours = new Map<string, { restaurantId: string; hour: number; orders: number }>();
  private readonly zones = new Map<
    string,
    {
      cityId: string;
      zoneId: string;
      day: string;
      orders: number;
      deliveryFee: bigint;
      surge: bigint;
      surged: number;
    }
  >();

  private addZone(facts: OrderFacts, day: string): void {
    const { cityId, zoneId, deliveryFee, surge } = facts.zone;
    if (cityId === null || zoneId === null) return;
    const key = JSON.stringify([cityId, zoneId, day]);
    const row = this.zones.get(key) ?? {
      cityId,
      zoneId,
      day,
      orders: 0,
      deliveryFee: 0n,
      surge: 0n,
      surged: 0,
    };
    this.zones.set(key, row);
    row.orders += 1;
    row.deliveryFee += deliveryFee;
    row.surge += surge;
    if (surge > 0n) row.surged += 1;
  }
  private readonly deliveries: { index: number; restaurantId: string; lines: ViewLine[] }[] = [];

  add(change: OrderFold, facts: OrderFacts): void {
    for (const effect of change.effects) {
      const { day, hour } = localDayAndHour(effect.at);
      const dayKey = `${facts.restaurantId}|${day}`;
      const daily = this.daily.get(dayKey) ?? {
        restaurantId: facts.restaurantId,
        day,
        orders: 0,
        delivered: 0,
        revenue: 0n,
        refunded: 0n,
      };
      this.daily.set(dayKey, daily);
      if (effect.kind === 'refunded') {
        daily.refunded += effect.amount!;
      } else if (effect.kind === 'placed') {
        daily.orders += 1;
        this.addZone(facts, day);
        const hourKey = `${facts.restaurantId}|${hour}`;
        const hourly = this.hours.get(hourKey) ?? { restaurantId: facts.restaurantId, hour, orders: 0 };
        this.hours.set(hourKey, hourly);
        hourly.orders += 1;
      } else {
        daily.delivered += 1;
        daily.revenue += facts.revenue;
        this.deliveries.push({
          index: effect.index,
          restaurantId: facts.restaurantId,
          lines: facts.lines ?? [],
        });
      }
    }
  }

  async write(db: Transaction<OrderTables>, schema: string): Promise<void> {
    const daily = [...this.daily.values()];
    if (daily.length > 0) {
      await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_daily')} AS d (restaurant_id, day, orders, delivered, revenue_minor, refunded_minor)
        SELECT * FROM unnest(${daily.map((row) => row.restaurantId)}::uuid[], ${daily.map((row) => row.day)}::date[],
          ${daily.map((row) => row.orders)}::int4[], ${daily.map((row) => row.delivered)}::int4[],
          ${daily.map((row) => String(row.revenue))}::int8[], ${daily.map((row) => String(row.refunded))}::int8[])
        ON CONFLICT (restaurant_id, day) DO UPDATE SET orders = d.orders + excluded.orders,
          delivered = d.delivered + excluded.delivered, revenue_minor = d.revenue_minor + excluded.revenue_minor,
          refunded_minor = d.refunded_minor + excluded.refunded_minor`.execute(db);
    }
    const zones = [...this.zones.values()];
    if (zones.length > 0) {
      await sql`INSERT INTO ${sql.id(schema, 'order_zone_daily')} AS z (city_id, zone_id, day, orders,
          delivery_fee_minor, surge_minor, surged_orders)
        SELECT * FROM unnest(${zones.map((row) => row.cityId)}::text[], ${zones.map((row) => row.zoneId)}::text[],
          ${zones.map((row) => row.day)}::date[], ${zones.map((row) => row.orders)}::int4[],
          ${zones.map((row) => String(row.deliveryFee))}::int8[], ${zones.map((row) => String(row.surge))}::int8[],
          ${zones.map((row) => row.surged)}::int4[])
        ON CONFLICT (city_id, zone_id, day) DO UPDATE SET orders = z.orders + excluded.orders,
          delivery_fee_minor = z.delivery_fee_minor + excluded.delivery_fee_minor,
          surge_minor = z.surge_minor + excluded.surge_minor,
          surged_orders = z.surged_orders + excluded.surged_orders`.execute(db);
    }
    const hours = [...this.hours.values()];
    if (hours.length > 0) {
      await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_hours')} AS h (restaurant_id, hour, orders)
        SELECT * FROM unnest(${hours.map((row) => row.restaurantId)}::uuid[], ${hours.map((row) => row.hour)}::int2[],
          ${hours.map((row) => row.orders)}::int4[])
        ON CONFLICT (restaurant_id, hour) DO UPDATE SET orders = h.orders + excluded.orders`.execute(db);
    }
    // Event by event, each line's upsert sets the name: the last delivered line of an item names it.
    const items = new Map<
      string,
      { restaurantId: string; itemId: string; name: string; quantity: bigint; revenue: bigint }
    >();
    for (const delivery of this.deliveries.sort((a, b) => a.index - b.index)) {
      for (const line of delivery.lines) {
        const key = JSON.stringify([delivery.restaurantId, line.itemId]);
        const item = items.get(key) ?? {
          restaurantId: delivery.restaurantId,
          itemId: line.itemId,
          name: line.name,
          quantity: 0n,
          revenue: 0n,
        };
        items.set(key, item);
        item.name = line.name;
        item.quantity += BigInt(line.quantity);
        item.revenue += BigInt(line.lineTotalMinor);
      }
    }
    const sales = [...items.values()];
    if (sales.length > 0) {
      await sql`INSERT INTO ${sql.id(schema, 'order_item_sales')} AS s (restaurant_id, item_id, name, quantity, revenue_minor)
        SELECT * FROM unnest(${sales.map((row) => row.restaurantId)}::uuid[], ${sales.map((row) => row.itemId)}::text[],
          ${sales.map((row) => row.name)}::text[], ${sales.map((row) => String(row.quantity))}::int8[],
          ${sales.map((row) => String(row.revenue))}::int8[])
        ON CONFLICT (restaurant_id, item_id) DO UPDATE SET quantity = s.quantity + excluded.quantity,
          revenue_minor = s.revenue_minor + excluded.revenue_minor, name = excluded.name`.execute(db);
    }
  }
}

/**
 * Folds each order's events (in batch order) in memory. Whether a row existed before the batch
 * decides what its events do; the statements find out, so nothing is read first:
 *   1. orders whose first event is not OrderCreated: UPDATE as if the row existed; RETURNING says
 *      which did, with the facts the counters need (restaurant, subtotal − discount, lines);
 *   2. orders created in the batch and not found in 1: INSERT in their final state, ON CONFLICT DO
 *      NOTHING; a conflict means the row was there (a repeated OrderCreated): UPDATE it as in 1;
 *   3. the counters, summed per key, in one upsert per table.
 */
async function handleBatch(events: RecordedEvent[], { db, schema }: ProjectionContext): Promise<void> {
  const byOrder = new Map<string, Indexed[]>();
  events.forEach((recorded, index) => {
    const id = uuidKey(
      recorded.type === 'OrderCreated' ? (recorded.data as OrderCreatedData).orderId : orderId(recorded),
    );
    const list = byOrder.get(id) ?? [];
    byOrder.set(id, list);
    list.push({ recorded, index });
  });
  const orders = [...byOrder];
  const asExisting = new Map(orders.map(([id, list]) => [id, fold(list, true)]));
  const counters = new Counters();

  const probed = orders.filter(([, list]) => list[0]!.recorded.type !== 'OrderCreated').map(([id]) => id);
  const found = await updateRows(
    db,
    schema,
    probed.map((id) => [id, asExisting.get(id)!]),
  );
  for (const [id, facts] of found) counters.add(asExisting.get(id)!, facts);

  const creations = orders
    .filter(([id]) => !found.has(id))
    .map(([id, list]): [string, OrderFold] => [id, fold(list, false)])
    .filter(([, change]) => change.created !== undefined);
  const inserted = await insertRows(db, schema, creations);
  for (const [id, change] of creations) {
    if (!inserted.has(id)) continue;
    const created = change.created!;
    const revenue = BigInt(created.pricing.subtotalMinor) - BigInt(created.pricing.discountMinor);
    counters.add(change, {
      restaurantId: uuidKey(created.restaurantId),
      revenue,
      lines: viewLines(created),
      zone: {
        cityId: created.zone?.cityId ?? null,
        zoneId: created.zone?.zoneId ?? null,
        deliveryFee: BigInt(created.pricing.deliveryFeeMinor),
        surge: BigInt(created.zone?.surgeXaf ?? 0),
      },
    });
  }

  const probedSet = new Set(probed);
  const conflicted = creations.filter(([id]) => !inserted.has(id) && !probedSet.has(id)).map(([id]) => id);
  const refound = await updateRows(
    db,
    schema,
    conflicted.map((id) => [id, asExisting.get(id)!]),
  );
  for (const [id, facts] of refound) counters.add(asExisting.get(id)!, facts);

  await counters.write(db, schema);
}

export const ordersProjection: ProjectionDefinition = {
  name: ORDERS_PROJECTION,
  // 2: refunded_minor in order_restaurant_daily, scheduled_for in orders_view (the runner
  // rebuilds into a new generation). 3: the order's city, zone, delivery fee and surge in
  // orders_view, and order_zone_daily (issue #26). 4: the restaurant's share of support's refund
  // remedies (OrderRemedyRecorded) counts in refunded_minor. 5: an index on the delivered orders
  // of each zone by placement (delivery times and drivers per zone, issue #26).
  version: 5,
  tables: [
    'orders_view',
    'order_restaurant_daily',
    'order_restaurant_hours',
    'order_item_sales',
    'order_zone_daily',
  ],
  filter: { streamPrefixes: [ORDER_STREAM_PREFIX] },
  setup,
  handle,
  handleBatch,
};
