/**
 * Reads of the `orders` projection's views (all SQL of the orders context lives here and in
 * carts-repository.ts). Lists are keyset-paginated with opaque cursors and a maximum page size.
 */
import { sql } from 'kysely';
import type { OrdersDb } from './tables.js';
import type { CarriedOrder } from './ports.js';
import { ordersErrors } from './errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 50;
/** A sweep handles at most this many due orders per kind; the next sweep takes the rest. */
export const SWEEP_BATCH = 200;

export const LIVE_STATUSES = [
  'PENDING_PAYMENT',
  'PLACED',
  'ACCEPTED',
  'PREPARING',
  'READY_FOR_PICKUP',
  'PICKED_UP',
  'DELIVERY_FAILED',
  'DISPUTED',
] as const;
/** A claimed order is the driver's from its claim until it is handed over. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const CARRIED_STATUSES = ['ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP', 'PICKED_UP'] as const;
export const KITCHEN_STATUSES = ['PLACED', 'ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'] as const;

export interface OrderSummary {
  id: string;
  status: string;
  restaurantId: string;
  restaurantName: string;
  customerId: string;
  driverId: string | null;
  totalMinor: number;
  itemCount: number;
  createdAt: string;
  updatedAt: string;
}

interface Cursor {
  at: string;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

function decodeCursor(value: string | undefined): Cursor | undefined {
  if (value === undefined) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as [unknown, unknown];
    if (
      typeof at === 'string' &&
      typeof id === 'string' &&
      !Number.isNaN(Date.parse(at)) &&
      /^[0-9a-f-]{36}$/.test(id)
    )
      return { at, id };
  } catch {
    // fall through to the 400 below
  }
  throw ordersErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave out.');
}

const summaryColumns = [
  'order_id',
  'status',
  'restaurant_id',
  'restaurant_name',
  'customer_id',
  'driver_id',
  'total_minor',
  'item_count',
  'created_at',
  'updated_at',
] as const;

type SummaryRow = {
  order_id: string;
  status: string;
  restaurant_id: string;
  restaurant_name: string;
  customer_id: string;
  driver_id: string | null;
  total_minor: bigint;
  item_count: number;
  created_at: Date;
  updated_at: Date;
};

function toSummary(row: SummaryRow): OrderSummary {
  return {
    id: row.order_id,
    status: row.status,
    restaurantId: row.restaurant_id,
    restaurantName: row.restaurant_name,
    customerId: row.customer_id,
    driverId: row.driver_id,
    totalMinor: Number(row.total_minor),
    itemCount: row.item_count,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Orders that ended without the customer receiving or paying for anything: they are not a "first order". */
const FAILED_STATUSES = ['PAYMENT_FAILED', 'PAYMENT_EXPIRED', 'REJECTED', 'CANCELLED'] as const;
export const MAX_FIRST_ORDERS_BATCH = 1_000;

export interface ListFilter {
  customerId?: string;
  ownerId?: string;
  restaurantIds?: string[];
  statuses?: readonly string[];
  driverId?: string;
  unclaimed?: boolean;
  /** Only these orders (a plain support agent's tickets' orders). */
  orderIds?: readonly string[];
}

/**
 * The statement `deliveredBy` runs, apart so that a test can read its plan: one range of
 * `orders_view_driver_delivered_idx` (driver, delivery time), read backwards for the newest first.
 */
export function deliveredByQuery(db: OrdersDb, driverId: string, from: Date, to: Date, limit: number) {
  return db
    .selectFrom('orders_view')
    .select('order_id')
    .where('driver_id', '=', driverId)
    .where('delivered_at', '>=', from)
    .where('delivered_at', '<', to)
    .orderBy('delivered_at', 'desc')
    .limit(limit);
}

export function createOrdersRepository(db: OrdersDb) {
  return {
    /** Newest first, keyset on (created_at, order_id). */
    async list(filter: ListFilter, page: { limit?: number; cursor?: string }) {
      const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
      const cursor = decodeCursor(page.cursor);
      const rows = await db
        .selectFrom('orders_view')
        .select(summaryColumns)
        .$if(filter.customerId !== undefined, (query) => query.where('customer_id', '=', filter.customerId!))
        .$if(filter.ownerId !== undefined, (query) =>
          query.where('restaurant_owner_id', '=', filter.ownerId!),
        )
        .$if(filter.restaurantIds !== undefined, (query) =>
          query.where(
            'restaurant_id',
            'in',
            filter.restaurantIds!.length === 0
              ? ['00000000-0000-0000-0000-000000000000']
              : filter.restaurantIds!,
          ),
        )
        .$if(filter.orderIds !== undefined, (query) =>
          query.where(
            'order_id',
            'in',
            filter.orderIds!.length === 0 ? ['00000000-0000-0000-0000-000000000000'] : [...filter.orderIds!],
          ),
        )
        .$if(filter.statuses !== undefined, (query) => query.where('status', 'in', [...filter.statuses!]))
        .$if(filter.driverId !== undefined, (query) => query.where('driver_id', '=', filter.driverId!))
        .$if(filter.unclaimed === true, (query) => query.where('driver_id', 'is', null))
        .$if(cursor !== undefined, (query) =>
          query.where(
            sql<boolean>`(created_at, order_id) < (${cursor!.at}::timestamptz, ${cursor!.id}::uuid)`,
          ),
        )
        .orderBy('created_at', 'desc')
        .orderBy('order_id', 'desc')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit).map(toSummary);
      const last = items.at(-1);
      const nextCursor =
        rows.length > limit && last !== undefined ? encodeCursor({ at: last.createdAt, id: last.id }) : null;
      return { items, nextCursor };
    },

    /**
     * Orders whose deadline passed, by the status they wait in (the sweeper re-checks each in the
     * decider). For PLACED, a scheduled order counts from its release (`scheduledReleaseMinutes`
     * before its time) if that is later than its payment, so that orders for tomorrow do not fill
     * the batch every sweep until then.
     */
    async due(
      status: 'PENDING_PAYMENT' | 'PLACED' | 'DELIVERED',
      before: Date,
      scheduledReleaseMinutes = 0,
    ): Promise<string[]> {
      const column =
        status === 'PENDING_PAYMENT' ? 'created_at' : status === 'PLACED' ? 'placed_at' : 'delivered_at';
      const released = new Date(before.getTime() + scheduledReleaseMinutes * 60_000);
      const rows = await db
        .selectFrom('orders_view')
        .select('order_id')
        .where('status', '=', status)
        .where(column, '<=', before)
        .$if(status === 'PLACED', (query) =>
          query.where((eb) => eb.or([eb('scheduled_for', 'is', null), eb('scheduled_for', '<=', released)])),
        )
        .orderBy(column)
        .limit(SWEEP_BATCH)
        .execute();
      return rows.map((row) => row.order_id);
    },

    /**
     * Delta sync (routes/sync.ts): the database clock, then a customer's orders whose view row
     * changed after `since` (or, without it, changed in the last `windowMs`), most recently
     * changed first, at most `limit` + 1 so the caller can tell there were more.
     */
    async syncClock(): Promise<Date> {
      const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(db);
      return rows[0]!.now;
    },

    async changedForCustomer(customerId: string, since: Date, limit: number): Promise<OrderSummary[]> {
      const rows = await db
        .selectFrom('orders_view')
        .select(summaryColumns)
        .where('customer_id', '=', customerId)
        .where('updated_at', '>', since)
        .orderBy('updated_at', 'desc')
        .orderBy('order_id', 'desc')
        .limit(limit + 1)
        .execute();
      return rows.map(toSummary);
    },

    async findSummary(orderId: string) {
      return db
        .selectFrom('orders_view')
        .select([...summaryColumns, 'delivered_at', 'restaurant_owner_id'])
        .where('order_id', '=', orderId)
        .executeTakeFirst();
    },

    /** `carriedBy` for many drivers in one statement (dispatch's batched position ingest). */
    async carriedByMany(driverIds: readonly string[]) {
      const carried = new Map<string, CarriedOrder[]>();
      const ids = [...new Set(driverIds.filter((id) => UUID_PATTERN.test(id)))];
      for (const id of driverIds) carried.set(id, []);
      if (ids.length === 0) return carried;
      const rows = await db
        .selectFrom('orders_view')
        .select(['order_id', 'status', 'customer_id', 'restaurant_owner_id', 'driver_id'])
        .where('driver_id', 'in', ids)
        .where('status', 'in', [...CARRIED_STATUSES])
        .limit(20 * ids.length)
        .execute();
      for (const row of rows) {
        const list = carried.get(row.driver_id!);
        if (list === undefined || list.length >= 20) continue;
        list.push({
          orderId: row.order_id,
          status: row.status as (typeof CARRIED_STATUSES)[number],
          customerId: row.customer_id,
          restaurantOwnerId: row.restaurant_owner_id,
        });
      }
      return carried;
    },

    /**
     * Whether the customer has no order other than `exceptOrderId` that was placed and did not
     * fail (a first-order coupon). The projection may lag by a moment: two first orders placed
     * at once with two different first-order coupons can both pass (one coupon is reserved
     * under its own lock, once per customer).
     */
    async isFirstOrder(customerId: string, exceptOrderId: string | undefined): Promise<boolean> {
      const row = await db
        .selectFrom('orders_view')
        .select('order_id')
        .where('customer_id', '=', customerId)
        .where('status', 'not in', [...FAILED_STATUSES])
        .$if(exceptOrderId !== undefined, (query) => query.where('order_id', '<>', exceptOrderId!))
        .limit(1)
        .executeTakeFirst();
      return row === undefined;
    },

    /**
     * Which of these orders were their customer's first: no earlier order of the same customer
     * (by creation, then id) that was placed and did not fail. For campaign figures (a coupon's or
     * a promotion's new customers); at most MAX_FIRST_ORDERS_BATCH ids a call.
     */
    async firstOrders(orderIds: readonly string[]): Promise<Set<string>> {
      if (orderIds.length > MAX_FIRST_ORDERS_BATCH)
        throw new RangeError(`at most ${MAX_FIRST_ORDERS_BATCH} orders a call`);
      if (orderIds.length === 0) return new Set();
      const result = await sql<{ order_id: string }>`
        SELECT o.order_id::text AS order_id FROM orders_view o
        WHERE o.order_id = ANY(${[...orderIds]}::uuid[])
          AND NOT EXISTS (
            SELECT 1 FROM orders_view e
            WHERE e.customer_id = o.customer_id
              AND (e.created_at, e.order_id) < (o.created_at, o.order_id)
              AND e.status <> ALL(${[...FAILED_STATUSES]}::text[]))`.execute(db);
      return new Set(result.rows.map((row) => row.order_id));
    },

    /** Orders the driver delivered in [from, to), newest first (dispatch's performance figures). */
    async deliveredBy(driverId: string, from: Date, to: Date, limit: number): Promise<string[]> {
      if (!UUID_PATTERN.test(driverId)) return [];
      const rows = await deliveredByQuery(db, driverId, from, to, limit).execute();
      return rows.map((row) => row.order_id);
    },

    /** The orders a driver has claimed and not yet handed over (dispatch's fan-out and trail). */
    async carriedBy(driverId: string) {
      const rows = await db
        .selectFrom('orders_view')
        .select(['order_id', 'status', 'customer_id', 'restaurant_owner_id'])
        .where('driver_id', '=', driverId)
        .where('status', 'in', [...CARRIED_STATUSES])
        .limit(20)
        .execute();
      return rows.map((row) => ({
        orderId: row.order_id,
        status: row.status as (typeof CARRIED_STATUSES)[number],
        customerId: row.customer_id,
        restaurantOwnerId: row.restaurant_owner_id,
      }));
    },

    async figures(restaurantId: string, from: string, to: string) {
      const [days, hours, sellers] = await Promise.all([
        db
          .selectFrom('order_restaurant_daily')
          .select([
            sql<string>`day::text`.as('day'),
            'orders',
            'delivered',
            'revenue_minor',
            'refunded_minor',
          ])
          .where('restaurant_id', '=', restaurantId)
          .where('day', '>=', from)
          .where('day', '<=', to)
          .orderBy('day')
          .limit(400)
          .execute(),
        db
          .selectFrom('order_restaurant_hours')
          .select(['hour', 'orders'])
          .where('restaurant_id', '=', restaurantId)
          .orderBy('hour')
          .execute(),
        db
          .selectFrom('order_item_sales')
          .select(['item_id', 'name', 'quantity', 'revenue_minor'])
          .where('restaurant_id', '=', restaurantId)
          .orderBy('quantity', 'desc')
          .orderBy('item_id')
          .limit(10)
          .execute(),
      ]);
      return { days, hours, sellers };
    },

    /**
     * Zone statistics (issue #26): paid orders per zone and local day, newest day first, then by
     * city and zone; keyset-paginated on (day, city, zone).
     */
    async zoneStats(
      filter: { cityId?: string | undefined; zoneId?: string | undefined; from: string; to: string },
      page: { limit?: number | undefined; cursor?: string | undefined },
    ) {
      const limit = Math.min(page.limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const cursor = decodeZoneCursor(page.cursor);
      const rows = await db
        .selectFrom('order_zone_daily')
        .select([
          sql<string>`day::text`.as('day'),
          'city_id',
          'zone_id',
          'orders',
          'delivery_fee_minor',
          'surge_minor',
          'surged_orders',
        ])
        .where('day', '>=', filter.from)
        .where('day', '<=', filter.to)
        .$if(filter.cityId !== undefined, (query) => query.where('city_id', '=', filter.cityId!))
        .$if(filter.zoneId !== undefined, (query) => query.where('zone_id', '=', filter.zoneId!))
        .$if(cursor !== undefined, (query) =>
          query.where(
            sql<boolean>`(day < ${cursor!.day}::date OR (day = ${cursor!.day}::date AND (city_id, zone_id) > (${cursor!.cityId}, ${cursor!.zoneId})))`,
          ),
        )
        .orderBy('day', 'desc')
        .orderBy('city_id')
        .orderBy('zone_id')
        .limit(limit + 1)
        .execute();
      const shown = rows.slice(0, limit);
      const deliveries = await zoneDeliveriesByDay(shown);
      const items = shown.map((row) => {
        const delivered = deliveries.get(JSON.stringify([row.day, row.city_id, row.zone_id]));
        return {
          day: row.day,
          cityId: row.city_id,
          zoneId: row.zone_id,
          orders: row.orders,
          deliveryFeeMinor: Number(row.delivery_fee_minor),
          surgeMinor: Number(row.surge_minor),
          surgedOrders: row.surged_orders,
          ...(delivered ?? EMPTY_ZONE_DELIVERIES),
        };
      });
      const last = items.at(-1);
      const nextCursor =
        rows.length > limit && last !== undefined
          ? Buffer.from(JSON.stringify([last.day, last.cityId, last.zoneId])).toString('base64url')
          : null;
      return { items, nextCursor };
    },

    /**
     * Delivery times and drivers of a zone over the last `days` days (dispatch's port, issue
     * #26): the orders placed in that time whose point lay in the zone and that were delivered.
     */
    async zoneDeliveryMinutes(
      cityId: string,
      zoneId: string,
      days: number = DEFAULT_ZONE_DELIVERY_DAYS,
      now: Date = new Date(),
    ): Promise<ZoneDeliveryMinutes> {
      if (!Number.isInteger(days) || days < 1 || days > MAX_ZONE_DELIVERY_DAYS)
        throw new RangeError(`days must be an integer from 1 to ${MAX_ZONE_DELIVERY_DAYS}`);
      const since = new Date(now.getTime() - days * 86_400_000);
      const result = await sql<ZoneDeliveryRow>`SELECT ${ZONE_DELIVERY_AGGREGATES}
        FROM orders_view o
        WHERE o.city_id = ${cityId} AND o.zone_id = ${zoneId} AND o.delivered_at IS NOT NULL
          AND o.zone_id IS NOT NULL AND o.placed_at >= ${since} AND o.placed_at <= ${now}`.execute(db);
      return { cityId, zoneId, days, ...zoneDeliveriesOf(result.rows[0]) };
    },
  };

  /** The delivered orders of each (local day, city, zone) of a page of zone statistics. */
  async function zoneDeliveriesByDay(
    keys: readonly { day: string; city_id: string; zone_id: string }[],
  ): Promise<Map<string, ZoneDeliveries>> {
    if (keys.length === 0) return new Map();
    // A local day (Africa/Douala, UTC+1 all year, as the projection counts) starts at 23:00 UTC
    // the day before.
    const result = await sql<ZoneDeliveryRow & { day: string; city_id: string; zone_id: string }>`
      SELECT k.day::text AS day, k.city_id, k.zone_id, ${ZONE_DELIVERY_AGGREGATES}
      FROM unnest(${keys.map((key) => key.day)}::date[], ${keys.map((key) => key.city_id)}::text[],
        ${keys.map((key) => key.zone_id)}::text[]) AS k(day, city_id, zone_id)
      JOIN orders_view o ON o.city_id = k.city_id AND o.zone_id = k.zone_id
        AND o.delivered_at IS NOT NULL AND o.zone_id IS NOT NULL
        AND o.placed_at >= (k.day::timestamp AT TIME ZONE 'UTC') - interval '1 hour'
        AND o.placed_at < (k.day::timestamp AT TIME ZONE 'UTC') + interval '23 hours'
      GROUP BY k.day, k.city_id, k.zone_id`.execute(db);
    return new Map(
      result.rows.map((row) => [JSON.stringify([row.day, row.city_id, row.zone_id]), zoneDeliveriesOf(row)]),
    );
  }
}

/** The longest look-back of `zoneDeliveryMinutes` (days), and its default. */
export const MAX_ZONE_DELIVERY_DAYS = 92;
export const DEFAULT_ZONE_DELIVERY_DAYS = 7;

/**
 * Delivery times and drivers of the delivered orders of a zone. Minutes run from placement (the
 * payment captured: PLACED) to delivery (OrderDelivered); scheduled orders are counted and their
 * drivers too, but not timed (their wait is the one the customer chose).
 */
export interface ZoneDeliveries {
  deliveredOrders: number;
  /** The delivered orders that were timed (not scheduled). */
  timedOrders: number;
  /** Median and mean of placed → delivered, minutes to one decimal; null when none was timed. */
  medianDeliveryMinutes: number | null;
  averageDeliveryMinutes: number | null;
  /** Distinct drivers who delivered them. */
  drivers: number;
}

export interface ZoneDeliveryMinutes extends ZoneDeliveries {
  cityId: string;
  zoneId: string;
  days: number;
}

interface ZoneDeliveryRow {
  delivered: number;
  timed: number;
  drivers: number;
  median_seconds: number | null;
  average_seconds: number | null;
}

const ZONE_DELIVERY_AGGREGATES = sql`count(*)::int AS delivered,
  count(*) FILTER (WHERE o.scheduled_for IS NULL)::int AS timed,
  count(DISTINCT o.driver_id)::int AS drivers,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.delivered_at - o.placed_at))
    FILTER (WHERE o.scheduled_for IS NULL) AS median_seconds,
  (avg(extract(epoch FROM o.delivered_at - o.placed_at)) FILTER (WHERE o.scheduled_for IS NULL))::float8
    AS average_seconds`;

const EMPTY_ZONE_DELIVERIES: ZoneDeliveries = {
  deliveredOrders: 0,
  timedOrders: 0,
  medianDeliveryMinutes: null,
  averageDeliveryMinutes: null,
  drivers: 0,
};

const minutesOf = (seconds: number | string | null) =>
  seconds === null ? null : Math.round(Number(seconds) / 6) / 10;

function zoneDeliveriesOf(row: ZoneDeliveryRow | undefined): ZoneDeliveries {
  if (row === undefined) return EMPTY_ZONE_DELIVERIES;
  return {
    deliveredOrders: row.delivered,
    timedOrders: row.timed,
    medianDeliveryMinutes: minutesOf(row.median_seconds),
    averageDeliveryMinutes: minutesOf(row.average_seconds),
    drivers: row.drivers,
  };
}

function decodeZoneCursor(
  value: string | undefined,
): { day: string; cityId: string; zoneId: string } | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 3) {
      const [day, cityId, zoneId] = parsed as unknown[];
      if (
        typeof day === 'string' &&
        /^\d{4}-\d{2}-\d{2}$/.test(day) &&
        !Number.isNaN(Date.parse(day)) &&
        typeof cityId === 'string' &&
        typeof zoneId === 'string' &&
        /^[a-z0-9][a-z0-9-]{0,39}$/.test(cityId) &&
        /^[a-z0-9][a-z0-9-]{0,39}$/.test(zoneId)
      )
        return { day, cityId, zoneId };
    }
  } catch {
    // fall through to the 400 below
  }
  throw ordersErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave out.');
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>;
