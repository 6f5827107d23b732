import { sql, type Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import {
  METRIC_WINDOWS,
  registerBusinessGauges,
  type MetricWindow,
} from '../../platform/business-metrics.js';

interface Row {
  status: string;
  m5: string;
  h1: string;
  d1: string;
}

const COLUMN: Record<MetricWindow, keyof Omit<Row, 'status'>> = { '5m': 'm5', '1h': 'h1', '24h': 'd1' };

/**
 * Orders placed in the last 5 minutes, hour and day, by the status they are in now (from the
 * orders read model, one indexed query per scrape). Orders per minute is
 * `sum(orders_created{window="5m"}) / 5`; completion and cancellation rates are recording rules
 * over the 24 h window (deploy/prometheus/rules.yml).
 */
export function registerOrderMetrics<DB>(registry: Registry, db: Kysely<DB>): void {
  registerBusinessGauges(
    registry,
    async () =>
      (
        await sql<Row>`SELECT status,
            count(*) FILTER (WHERE created_at > now() - make_interval(secs => ${METRIC_WINDOWS['5m']})) AS m5,
            count(*) FILTER (WHERE created_at > now() - make_interval(secs => ${METRIC_WINDOWS['1h']})) AS h1,
            count(*) AS d1
          FROM orders_view
          WHERE created_at > now() - make_interval(secs => ${METRIC_WINDOWS['24h']})
          GROUP BY status`.execute(db)
      ).rows,
    [
      {
        name: 'orders_created',
        help: 'Orders placed within the window, by their current status',
        labelNames: ['window', 'status'],
        samples: (rows) =>
          rows.flatMap((row) =>
            (Object.keys(COLUMN) as MetricWindow[]).map((window) => ({
              labels: { window, status: row.status },
              value: Number(row[COLUMN[window]]),
            })),
          ),
      },
    ],
  );
}

interface BusyRow {
  busy: string;
}

/**
 * Drivers carrying an order now (issue #23's live dashboard): distinct drivers of orders assigned
 * and not yet delivered, from the orders read model at scrape time (cached 5 s).
 */
export function registerDriverLoadMetrics<DB>(registry: Registry, db: Kysely<DB>): void {
  registerBusinessGauges(
    registry,
    async () =>
      (
        await sql<BusyRow>`SELECT count(DISTINCT driver_id) AS busy FROM orders_view
          WHERE driver_id IS NOT NULL AND status IN ('ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP', 'PICKED_UP')`.execute(
          db,
        )
      ).rows,
    [
      {
        name: 'orders_drivers_busy',
        help: 'Drivers assigned to an order not yet delivered',
        labelNames: [],
        samples: (rows) => [{ labels: {}, value: Number(rows[0]?.busy ?? 0) }],
      },
    ],
  );
}
