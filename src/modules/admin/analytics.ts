/**
 * Order analytics for admins (docs/admin.md "Analytics"): the `admin_analytics` projection keeps
 * one row per order from the order events (restaurant, Douala day, delivery point, amounts, and
 * whether it was paid, delivered or ended otherwise), and reports group them by day, restaurant or
 * city (the catalog's city boxes, applied at read time) in cursor pages, or as a CSV streamed
 * page by page. Rebuildable like every projection (raise `version`).
 */
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { ProjectionContext, ProjectionDefinition } from '../../../projections/types.js';
import type { RecordedEvent } from '../../eventstore/index.js';
import { ORDER_STREAM_PREFIX, type OrderCreatedData } from '../orders/index.js';
import { adminErrors } from './errors.js';
import type { AdminDb } from './tables.js';

export const ANALYTICS_PROJECTION = 'admin_analytics';
export const ANALYTICS_GROUPS = ['day', 'restaurant', 'city'] as const;
export type AnalyticsGroup = (typeof ANALYTICS_GROUPS)[number];
export const ANALYTICS_PAGE_MAX = 500;
export const ANALYTICS_RANGE_MAX_DAYS = 366;
/** Days are Douala's (UTC+1, no daylight saving). */
const TIME_ZONE = 'Africa/Douala';
const TABLE = 'admin_analytics_orders';

async function setup({ db, schema }: ProjectionContext): Promise<void> {
  const table = sql.id(schema, TABLE);
  await sql`CREATE TABLE ${table} (order_id uuid PRIMARY KEY, restaurant_id uuid NOT NULL,
    restaurant_name text NOT NULL, day date NOT NULL, created_at timestamptz NOT NULL,
    latitude double precision, longitude double precision, total_minor bigint NOT NULL,
    discount_minor bigint NOT NULL, delivery_fee_minor bigint NOT NULL, tip_minor bigint NOT NULL,
    paid boolean NOT NULL DEFAULT false,
    outcome text NOT NULL DEFAULT 'open' CHECK (outcome IN ('open', 'delivered', 'cancelled', 'rejected', 'delivery_failed')))`.execute(
    db,
  );
  await sql`CREATE INDEX ON ${table} (day)`.execute(db);
}

const finite = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

const OUTCOMES: Partial<Record<string, string>> = {
  OrderDelivered: 'delivered',
  OrderCancelled: 'cancelled',
  OrderRejected: 'rejected',
  OrderDeliveryFailed: 'delivery_failed',
};

async function handle(event: RecordedEvent, { db, schema }: ProjectionContext): Promise<void> {
  const table = sql.id(schema, TABLE);
  const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
  if (event.type === 'OrderCreated') {
    const data = event.data as OrderCreatedData;
    // An erased or sealed address is not an object: the order counts, in no city.
    const delivery = (typeof data.delivery === 'object' && data.delivery !== null ? data.delivery : {}) as {
      latitude?: unknown;
      longitude?: unknown;
    };
    await sql`INSERT INTO ${table} (order_id, restaurant_id, restaurant_name, day, created_at, latitude,
      longitude, total_minor, discount_minor, delivery_fee_minor, tip_minor)
      VALUES (${orderId}, ${data.restaurantId}, ${data.restaurantName},
      (${data.at}::timestamptz AT TIME ZONE ${TIME_ZONE})::date, ${data.at}, ${finite(delivery.latitude)},
      ${finite(delivery.longitude)}, ${data.pricing.totalMinor}, ${data.pricing.discountMinor},
      ${data.pricing.deliveryFeeMinor}, ${data.pricing.tipMinor}) ON CONFLICT (order_id) DO NOTHING`.execute(
      db,
    );
    return;
  }
  if (event.type === 'OrderPaymentCaptured') {
    await sql`UPDATE ${table} SET paid = true WHERE order_id = ${orderId}`.execute(db);
    return;
  }
  const outcome = OUTCOMES[event.type];
  if (outcome !== undefined)
    await sql`UPDATE ${table} SET outcome = ${outcome} WHERE order_id = ${orderId} AND outcome = 'open'`.execute(
      db,
    );
}

export const analyticsProjection: ProjectionDefinition = {
  name: ANALYTICS_PROJECTION,
  version: 1,
  tables: [TABLE],
  filter: {
    streamPrefixes: [ORDER_STREAM_PREFIX],
    eventTypes: ['OrderCreated', 'OrderPaymentCaptured', ...Object.keys(OUTCOMES)],
  },
  setup,
  handle,
};

export interface AnalyticsCity {
  id: string;
  name: string;
  bounds: { south: number; west: number; north: number; east: number };
}

export interface AnalyticsRow {
  key: string;
  label: string;
  orders: number;
  paid: number;
  delivered: number;
  cancelled: number;
  grossMinor: number;
  discountMinor: number;
  deliveryFeesMinor: number;
  tipsMinor: number;
  averageBasketMinor: number;
}

export interface AnalyticsQuery {
  groupBy: AnalyticsGroup;
  from: string;
  to: string;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The range's days, checked: real dates, from ≤ to, at most a year. */
export function checkRange(from: string, to: string): void {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (!DAY.test(from) || !DAY.test(to) || Number.isNaN(start) || Number.isNaN(end))
    throw adminErrors.of('validation', 'analytics_range_invalid', 'from and to are days, YYYY-MM-DD.');
  if (new Date(start).toISOString().slice(0, 10) !== from || new Date(end).toISOString().slice(0, 10) !== to)
    throw adminErrors.of('validation', 'analytics_range_invalid', 'from and to must be real days.');
  if (end < start || (end - start) / 86_400_000 + 1 > ANALYTICS_RANGE_MAX_DAYS)
    throw adminErrors.of(
      'validation',
      'analytics_range_invalid',
      `from must be on or before to, at most ${ANALYTICS_RANGE_MAX_DAYS} days.`,
    );
}

/** A CSV field: quoted when needed; a leading formula character is neutralised (CSV injection). */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n;]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_COLUMNS: (keyof AnalyticsRow)[] = [
  'key',
  'label',
  'orders',
  'paid',
  'delivered',
  'cancelled',
  'grossMinor',
  'discountMinor',
  'deliveryFeesMinor',
  'tipsMinor',
  'averageBasketMinor',
];

export function createAnalytics(deps: {
  /** The projection's view (in no table map) is read with `sql`. */
  db: AdminDb;
  cities: () => Promise<AnalyticsCity[]>;
}) {
  async function keyOf(groupBy: AnalyticsGroup) {
    if (groupBy === 'day')
      return { key: sql`to_char(day, 'YYYY-MM-DD')`, label: sql`to_char(day, 'YYYY-MM-DD')` };
    if (groupBy === 'restaurant') return { key: sql`restaurant_id::text`, label: sql`max(restaurant_name)` };
    const cities = await deps.cities();
    const cases = cities.map(
      (city) =>
        sql`WHEN latitude BETWEEN ${city.bounds.south} AND ${city.bounds.north} AND longitude BETWEEN ${city.bounds.west} AND ${city.bounds.east} THEN ${city.id}`,
    );
    const key = cases.length === 0 ? sql`'other'` : sql`(CASE ${sql.join(cases, sql` `)} ELSE 'other' END)`;
    // The label is named from the cities (below); an aggregate keeps it out of the GROUP BY.
    return { key, label: sql`max(${key})`, names: new Map(cities.map((city) => [city.id, city.name])) };
  }

  async function page(query: AnalyticsQuery): Promise<{ items: AnalyticsRow[]; nextCursor: string | null }> {
    checkRange(query.from, query.to);
    const limit = Math.min(query.limit ?? 100, ANALYTICS_PAGE_MAX);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const { key, label, names } = { names: undefined, ...(await keyOf(query.groupBy)) };
    const result = await sql<{
      key: string;
      label: string;
      orders: string;
      paid: string;
      delivered: string;
      cancelled: string;
      gross: string;
      discount: string;
      fees: string;
      tips: string;
    }>`
      SELECT * FROM (
        SELECT ${key} AS key, ${label} AS label, count(*) AS orders,
          count(*) FILTER (WHERE paid) AS paid,
          count(*) FILTER (WHERE outcome = 'delivered') AS delivered,
          count(*) FILTER (WHERE outcome IN ('cancelled', 'rejected', 'delivery_failed')) AS cancelled,
          coalesce(sum(total_minor) FILTER (WHERE outcome = 'delivered'), 0) AS gross,
          coalesce(sum(discount_minor) FILTER (WHERE outcome = 'delivered'), 0) AS discount,
          coalesce(sum(delivery_fee_minor) FILTER (WHERE outcome = 'delivered'), 0) AS fees,
          coalesce(sum(tip_minor) FILTER (WHERE outcome = 'delivered'), 0) AS tips
        FROM ${sql.table(TABLE)}
        WHERE day BETWEEN ${query.from}::date AND ${query.to}::date
        GROUP BY 1
      ) grouped
      ${after === undefined ? sql`` : sql`WHERE key > ${after}`}
      ORDER BY key
      LIMIT ${limit + 1}`.execute(deps.db);
    const rows = result.rows.slice(0, limit);
    const items = rows.map((row): AnalyticsRow => {
      const delivered = Number(row.delivered);
      const gross = Number(row.gross);
      return {
        key: row.key,
        label: names?.get(row.key) ?? row.label,
        orders: Number(row.orders),
        paid: Number(row.paid),
        delivered,
        cancelled: Number(row.cancelled),
        grossMinor: gross,
        discountMinor: Number(row.discount),
        deliveryFeesMinor: Number(row.fees),
        tipsMinor: Number(row.tips),
        averageBasketMinor: delivered === 0 ? 0 : Math.round(gross / delivered),
      };
    });
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        result.rows.length > limit && last !== undefined ? Buffer.from(last.key).toString('base64url') : null,
    };
  }

  /** The whole report as CSV, read and sent a page at a time (bounded memory whatever its size). */
  function csv(query: Omit<AnalyticsQuery, 'cursor' | 'limit'>): Readable {
    checkRange(query.from, query.to);
    async function* lines() {
      yield `\uFEFF${CSV_COLUMNS.join(',')}\r\n`;
      let cursor: string | undefined;
      do {
        const { items, nextCursor } = await page({ ...query, limit: ANALYTICS_PAGE_MAX, cursor });
        yield items
          .map((row) => `${CSV_COLUMNS.map((column) => csvField(row[column])).join(',')}\r\n`)
          .join('');
        cursor = nextCursor ?? undefined;
      } while (cursor !== undefined);
    }
    return Readable.from(lines());
  }

  return { page, csv };
}

export type Analytics = ReturnType<typeof createAnalytics>;

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (key.length === 0 || key.length > 64 || !/^[A-Za-z0-9_-]+$/.test(key))
    throw adminErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API issued.');
  return key;
}
