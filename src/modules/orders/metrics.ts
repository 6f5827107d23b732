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
