/**
 * Business insights for admins (docs/admin.md "Insights", issue #23 "Analytics"): peak hours, best
 * sellers, customers' RFM segments with churn risk and lifetime value, restaurants' health with
 * suggestions, and a revenue forecast. The `admin_insights` projection keeps one row per order
 * (customer, restaurant, Douala time, amounts, outcome) and one per order line, from the order
 * events; every report is computed from it at read time over a range of Douala days, answered as
 * JSON or as CSV. Rebuildable like every projection (raise `version`). The rules (segments, churn,
 * lifetime value, health, forecast) are stated here and in the docs, so a figure can be explained.
 */
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { ProjectionContext, ProjectionDefinition } from '../../../projections/types.js';
import type { RecordedEvent } from '../../eventstore/index.js';
import { ORDER_STREAM_PREFIX, type OrderCreatedData } from '../orders/index.js';
import { checkRange, csvField } from './analytics.js';
import { adminErrors } from './errors.js';
import type { AdminDb } from './tables.js';

export const INSIGHTS_PROJECTION = 'admin_insights';
export const INSIGHT_REPORTS = [
  'peak-hours',
  'best-sellers',
  'customers',
  'restaurant-health',
  'revenue-forecast',
] as const;
export type InsightReport = (typeof INSIGHT_REPORTS)[number];
/** Rows of one report at most (best sellers, customers and restaurants are ranked, then cut). */
export const INSIGHTS_ROWS_MAX = 1_000;
/** Days forecast after the range (seasonal naive: the same weekday of the last four weeks). */
export const FORECAST_DAYS = 7;
/** A customer is at churn risk past this many days without an order, having ordered at least twice. */
export const CHURN_DAYS = 30;
const TIME_ZONE = 'Africa/Douala';
const ORDERS = 'admin_insight_orders';
const LINES = 'admin_insight_lines';
const OUTCOMES: Partial<Record<string, string>> = {
  OrderDelivered: 'delivered',
  OrderCancelled: 'cancelled',
  OrderRejected: 'rejected',
  OrderDeliveryFailed: 'delivery_failed',
};

async function setup({ db, schema }: ProjectionContext): Promise<void> {
  const orders = sql.id(schema, ORDERS);
  const lines = sql.id(schema, LINES);
  await sql`CREATE TABLE ${orders} (order_id uuid PRIMARY KEY, customer_id uuid,
    restaurant_id uuid NOT NULL, restaurant_name text NOT NULL, created_at timestamptz NOT NULL,
    day date NOT NULL, weekday smallint NOT NULL, hour smallint NOT NULL, total_minor bigint NOT NULL,
    outcome text NOT NULL DEFAULT 'open'
      CHECK (outcome IN ('open', 'delivered', 'cancelled', 'rejected', 'delivery_failed')))`.execute(db);
  await sql`CREATE INDEX ON ${orders} (day)`.execute(db);
  await sql`CREATE INDEX ON ${orders} (customer_id, day)`.execute(db);
  await sql`CREATE TABLE ${lines} (order_id uuid NOT NULL, line_no smallint NOT NULL, item_id text NOT NULL,
    name text NOT NULL, quantity integer NOT NULL, amount_minor bigint NOT NULL,
    PRIMARY KEY (order_id, line_no))`.execute(db);
}

async function handle(event: RecordedEvent, { db, schema }: ProjectionContext): Promise<void> {
  const orders = sql.id(schema, ORDERS);
  const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
  if (event.type === 'OrderCreated') {
    const data = event.data as OrderCreatedData;
    // Guests are no customer to segment: their orders count in every other report.
    const customerId = data.customer?.kind === 'user' ? data.customer.id : null;
    const inserted = await sql`INSERT INTO ${orders} (order_id, customer_id, restaurant_id, restaurant_name,
      created_at, day, weekday, hour, total_minor)
      VALUES (${orderId}, ${customerId}, ${data.restaurantId}, ${data.restaurantName}, ${data.at},
        (${data.at}::timestamptz AT TIME ZONE ${TIME_ZONE})::date,
        extract(isodow FROM ${data.at}::timestamptz AT TIME ZONE ${TIME_ZONE}),
        extract(hour FROM ${data.at}::timestamptz AT TIME ZONE ${TIME_ZONE}), ${data.pricing.totalMinor})
      ON CONFLICT (order_id) DO NOTHING`.execute(db);
    // A redelivered OrderCreated inserts nothing, and so adds no line twice.
    if (Number(inserted.numAffectedRows ?? 0n) === 0 || data.lines.length === 0) return;
    const values = data.lines.map(
      (line, index) =>
        sql`(${orderId}, ${index}, ${line.itemId}, ${line.name}, ${line.quantity}, ${line.lineTotalMinor})`,
    );
    await sql`INSERT INTO ${sql.id(schema, LINES)} (order_id, line_no, item_id, name, quantity, amount_minor)
      VALUES ${sql.join(values)} ON CONFLICT DO NOTHING`.execute(db);
    return;
  }
  const outcome = OUTCOMES[event.type];
  if (outcome !== undefined)
    await sql`UPDATE ${orders} SET outcome = ${outcome} WHERE order_id = ${orderId} AND outcome = 'open'`.execute(
      db,
    );
}

export const insightsProjection: ProjectionDefinition = {
  name: INSIGHTS_PROJECTION,
  version: 1,
  tables: [ORDERS, LINES],
  filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: ['OrderCreated', ...Object.keys(OUTCOMES)] },
  setup,
  handle,
};

type Row = Record<string, string | number | boolean | null>;

export interface InsightQuery {
  report: InsightReport;
  from: string;
  to: string;
  limit?: number | undefined;
}

/** RFM scores (1-5 each, 5 best) to a named segment; the rule is the docs' table. */
export function segmentOf(r: number, f: number, m: number): string {
  if (r >= 4 && f >= 4) return 'champion';
  if (f >= 4) return m >= 4 ? 'loyal_big_spender' : 'loyal';
  if (r >= 4 && f <= 2) return 'new_or_promising';
  if (r <= 2 && f >= 3) return 'at_risk';
  if (r <= 2) return 'hibernating';
  return 'needs_attention';
}

/**
 * A restaurant's health score (0-100) and what to improve: 100 × the delivered share of its
 * orders, less 10 points per 10 % of orders it rejected; suggestions from stated thresholds.
 */
export function healthOf(figures: {
  orders: number;
  delivered: number;
  rejected: number;
  cancelled: number;
  failed: number;
}) {
  const share = (part: number) => (figures.orders === 0 ? 0 : part / figures.orders);
  const score = Math.max(0, Math.round(100 * share(figures.delivered) - 100 * share(figures.rejected)));
  const suggestions: string[] = [];
  if (share(figures.rejected) >= 0.1)
    suggestions.push('reject_less: keep opening hours and stock up to date so orders can be accepted');
  if (share(figures.cancelled) >= 0.1)
    suggestions.push('fewer_cancellations: check preparation times and call customers before cancelling');
  if (share(figures.failed) >= 0.05)
    suggestions.push('delivery_failures: check the pickup instructions and packaging with drivers');
  if (figures.orders < 5) suggestions.push('visibility: too few orders to judge; consider a promotion');
  return { score, suggestions };
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const dayAfter = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export function createInsights(deps: { db: AdminDb }) {
  const { db } = deps;
  const orders = sql.table(ORDERS);
  const lines = sql.table(LINES);

  async function peakHours(from: string, to: string): Promise<Row[]> {
    const result = await sql<{
      weekday: number;
      hour: number;
      orders: string;
      delivered: string;
      gross: string;
    }>`
      SELECT weekday, hour, count(*) AS orders, count(*) FILTER (WHERE outcome = 'delivered') AS delivered,
        coalesce(sum(total_minor) FILTER (WHERE outcome = 'delivered'), 0) AS gross
      FROM ${orders} WHERE day BETWEEN ${from}::date AND ${to}::date
      GROUP BY weekday, hour ORDER BY count(*) DESC, weekday, hour`.execute(db);
    return result.rows.map((row) => ({
      weekday: Number(row.weekday),
      hour: Number(row.hour),
      orders: Number(row.orders),
      delivered: Number(row.delivered),
      grossMinor: Number(row.gross),
    }));
  }

  async function bestSellers(from: string, to: string, limit: number): Promise<Row[]> {
    const result = await sql<{
      item_id: string;
      name: string;
      restaurant_name: string;
      quantity: string;
      revenue: string;
      orders: string;
    }>`
      SELECT l.item_id, max(l.name) AS name, max(o.restaurant_name) AS restaurant_name,
        sum(l.quantity) AS quantity, sum(l.amount_minor) AS revenue, count(DISTINCT l.order_id) AS orders
      FROM ${lines} l JOIN ${orders} o USING (order_id)
      WHERE o.outcome = 'delivered' AND o.day BETWEEN ${from}::date AND ${to}::date
      GROUP BY l.item_id ORDER BY sum(l.quantity) DESC, l.item_id LIMIT ${limit}`.execute(db);
    return result.rows.map((row, index) => ({
      rank: index + 1,
      itemId: row.item_id,
      name: row.name,
      restaurantName: row.restaurant_name,
      quantity: Number(row.quantity),
      revenueMinor: Number(row.revenue),
      orders: Number(row.orders),
    }));
  }

  async function customers(from: string, to: string, limit: number): Promise<Row[]> {
    const result = await sql<{
      customer_id: string;
      recency: number;
      frequency: string;
      monetary: string;
      first_day: string;
      r: number;
      f: number;
      m: number;
    }>`
      WITH per AS (
        SELECT customer_id, (${to}::date - max(day)) AS recency, count(*) AS frequency,
          sum(total_minor) AS monetary, min(day)::text AS first_day
        FROM ${orders}
        WHERE outcome = 'delivered' AND customer_id IS NOT NULL AND day BETWEEN ${from}::date AND ${to}::date
        GROUP BY customer_id)
      SELECT *, 6 - ntile(5) OVER (ORDER BY recency) AS r, ntile(5) OVER (ORDER BY frequency) AS f,
        ntile(5) OVER (ORDER BY monetary) AS m
      FROM per ORDER BY monetary DESC, customer_id LIMIT ${limit}`.execute(db);
    return result.rows.map((row) => {
      const frequency = Number(row.frequency);
      const monetary = Number(row.monetary);
      const recency = Number(row.recency);
      // Active months from the first order in the range to its end (at least one).
      const months = Math.max(
        1,
        (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${row.first_day}T00:00:00Z`)) / (30 * 86_400_000),
      );
      return {
        customerId: row.customer_id,
        recencyDays: recency,
        frequency,
        monetaryMinor: monetary,
        r: Number(row.r),
        f: Number(row.f),
        m: Number(row.m),
        segment: segmentOf(Number(row.r), Number(row.f), Number(row.m)),
        churnRisk: frequency >= 2 && recency > CHURN_DAYS,
        // A year of the customer's monthly spend so far (a stated, simple rule).
        lifetimeValueMinor: Math.round((monetary / months) * 12),
      };
    });
  }

  async function restaurantHealth(from: string, to: string, limit: number): Promise<Row[]> {
    const result = await sql<{
      restaurant_id: string;
      name: string;
      orders: string;
      delivered: string;
      rejected: string;
      cancelled: string;
      failed: string;
    }>`
      SELECT restaurant_id, max(restaurant_name) AS name, count(*) AS orders,
        count(*) FILTER (WHERE outcome = 'delivered') AS delivered,
        count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
        count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE outcome = 'delivery_failed') AS failed
      FROM ${orders} WHERE day BETWEEN ${from}::date AND ${to}::date
      GROUP BY restaurant_id ORDER BY count(*) DESC, restaurant_id LIMIT ${limit}`.execute(db);
    return result.rows
      .map((row) => {
        const figures = {
          orders: Number(row.orders),
          delivered: Number(row.delivered),
          rejected: Number(row.rejected),
          cancelled: Number(row.cancelled),
          failed: Number(row.failed),
        };
        const { score, suggestions } = healthOf(figures);
        return {
          restaurantId: row.restaurant_id,
          name: row.name,
          ...figures,
          deliveredRate: figures.orders === 0 ? 0 : round2(figures.delivered / figures.orders),
          score,
          suggestions: suggestions.join('; '),
        };
      })
      .sort((a, b) => a.score - b.score || a.restaurantId.localeCompare(b.restaurantId));
  }

  /** The days after `to`: the mean delivered revenue of the same weekday in the four weeks up to `to`. */
  async function revenueForecast(to: string): Promise<Row[]> {
    const start = dayAfter(to, -27);
    const result = await sql<{ day: string; gross: string }>`
      SELECT day::text AS day, coalesce(sum(total_minor) FILTER (WHERE outcome = 'delivered'), 0) AS gross
      FROM ${orders} WHERE day BETWEEN ${start}::date AND ${to}::date GROUP BY day`.execute(db);
    const byDay = new Map(result.rows.map((row) => [row.day, Number(row.gross)]));
    return Array.from({ length: FORECAST_DAYS }, (_, index) => {
      const day = dayAfter(to, index + 1);
      const same = [1, 2, 3, 4].map((weeks) => byDay.get(dayAfter(day, -7 * weeks)) ?? 0);
      return {
        day,
        forecastMinor: Math.round(same.reduce((sum, value) => sum + value, 0) / same.length),
        basis: 'seasonal_naive_4_weeks',
      };
    });
  }

  async function report(query: InsightQuery): Promise<{ report: InsightReport; items: Row[] }> {
    checkRange(query.from, query.to);
    const limit = Math.min(query.limit ?? 100, INSIGHTS_ROWS_MAX);
    const items = await (() => {
      switch (query.report) {
        case 'peak-hours':
          return peakHours(query.from, query.to);
        case 'best-sellers':
          return bestSellers(query.from, query.to, limit);
        case 'customers':
          return customers(query.from, query.to, limit);
        case 'restaurant-health':
          return restaurantHealth(query.from, query.to, limit);
        case 'revenue-forecast':
          return revenueForecast(query.to);
        default:
          throw adminErrors.of('validation', 'validation_failed', 'No such report.');
      }
    })();
    return { report: query.report, items };
  }

  /** The report as CSV (UTF-8 with BOM; formula characters neutralised), its columns the JSON keys. */
  async function csv(query: InsightQuery): Promise<Readable> {
    const { items } = await report({ ...query, limit: query.limit ?? INSIGHTS_ROWS_MAX });
    const columns = items.length === 0 ? [] : Object.keys(items[0]!);
    const text = [
      `\uFEFF${columns.join(',')}\r\n`,
      ...items.map((row) => `${columns.map((column) => csvField(cell(row[column]))).join(',')}\r\n`),
    ];
    return Readable.from(text);
  }

  return { report, csv };
}

const cell = (value: string | number | boolean | null | undefined): string | number =>
  value === null || value === undefined ? '' : typeof value === 'boolean' ? String(value) : value;

export type Insights = ReturnType<typeof createInsights>;
