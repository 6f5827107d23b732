/**
 * The `orders` projection (projections/ runner): one row per order for the lists (customer
 * history, restaurant live queue, admin live list, drivers' open orders, the sweeper, reviews'
 * CompletedOrderLookup) and per-restaurant figures:
 *   - orders per day and per local hour (Africa/Douala, UTC+1 all year) count paid orders (PLACED);
 *   - revenue (food: subtotal − discount) and best sellers count delivered orders.
 * Events are applied once per (stream, revision) by the runner; each handler is one or two statements.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ProjectionContext, ProjectionDefinition } from '../../../projections/types.js';
import type { RecordedEvent } from '../../eventstore/index.js';
import { ORDER_STREAM_PREFIX, type OrderEvent, type OrderLine, type OrderStatus } from './events.js';

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
    updated_at timestamptz NOT NULL, last_revision int8 NOT NULL)`.execute(db);
  await sql`CREATE INDEX ON ${table('orders_view')} (customer_id, created_at DESC, order_id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX ON ${table('orders_view')} (restaurant_id, status, created_at)`.execute(db);
  await sql`CREATE INDEX ON ${table('orders_view')} (status, updated_at)`.execute(db);
  await sql`CREATE INDEX ON ${table('orders_view')} (created_at DESC, order_id DESC)`.execute(db);
  await sql`CREATE TABLE ${table('order_restaurant_daily')} (restaurant_id uuid NOT NULL, day date NOT NULL,
    orders int NOT NULL DEFAULT 0, delivered int NOT NULL DEFAULT 0, revenue_minor int8 NOT NULL DEFAULT 0,
    PRIMARY KEY (restaurant_id, day))`.execute(db);
  await sql`CREATE TABLE ${table('order_restaurant_hours')} (restaurant_id uuid NOT NULL, hour smallint NOT NULL,
    orders int NOT NULL DEFAULT 0, PRIMARY KEY (restaurant_id, hour))`.execute(db);
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
  db: Transaction<Database>,
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
    ${data.at}, NULL, NULL, ${data.at}, ${String(recorded.revision)})
    ON CONFLICT (order_id) DO NOTHING`.execute(db);
}

async function onPlaced(id: string, at: string, revision: bigint, db: Transaction<Database>, schema: string) {
  const updated = await sql<{ restaurant_id: string }>`UPDATE ${sql.id(schema, 'orders_view')}
    SET status = 'PLACED', placed_at = ${at}, updated_at = ${at}, last_revision = ${String(revision)}
    WHERE order_id = ${id} RETURNING restaurant_id`.execute(db);
  const restaurantId = updated.rows[0]?.restaurant_id;
  if (restaurantId === undefined) return;
  const { day, hour } = localDayAndHour(at);
  await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_daily')} AS d (restaurant_id, day, orders) VALUES (${restaurantId}, ${day}, 1)
    ON CONFLICT (restaurant_id, day) DO UPDATE SET orders = d.orders + 1`.execute(db);
  await sql`INSERT INTO ${sql.id(schema, 'order_restaurant_hours')} AS h (restaurant_id, hour, orders) VALUES (${restaurantId}, ${hour}, 1)
    ON CONFLICT (restaurant_id, hour) DO UPDATE SET orders = h.orders + 1`.execute(db);
}

async function onDelivered(
  id: string,
  at: string,
  revision: bigint,
  db: Transaction<Database>,
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
    default: {
      const status = STATUS_OF_EVENT[event.type];
      if (status === undefined) return;
      await sql`UPDATE ${sql.id(schema, 'orders_view')} SET status = ${status}, updated_at = ${event.data.at},
        last_revision = ${String(recorded.revision)} WHERE order_id = ${id}`.execute(db);
    }
  }
}

export const ordersProjection: ProjectionDefinition = {
  name: ORDERS_PROJECTION,
  version: 1,
  tables: ['orders_view', 'order_restaurant_daily', 'order_restaurant_hours', 'order_item_sales'],
  filter: { streamPrefixes: [ORDER_STREAM_PREFIX] },
  setup,
  handle,
};
