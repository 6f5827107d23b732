import { sql, type Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import { METRIC_WINDOWS, registerBusinessGauges } from '../../platform/business-metrics.js';

interface AttemptRow {
  provider: string;
  status: string;
  count: string;
  p50: number | null;
  p95: number | null;
}

interface PayoutRow {
  status: string;
  count: string;
  oldest_seconds: number | null;
}

/** Payouts still waiting on someone: finance (REQUESTED, NEEDS_REVIEW), the job or the provider. */
const OPEN_PAYOUT_STATUSES = ['REQUESTED', 'APPROVED', 'PROCESSING', 'NEEDS_REVIEW'] as const;

/**
 * Mobile Money collections of the last hour by provider and outcome, with the time from the
 * attempt to its settlement (p50, p95) for those that succeeded; and the payout backlog by status
 * with the age of its oldest payout. One query each per scrape.
 */
export function registerPaymentMetrics<DB>(registry: Registry, db: Kysely<DB>): void {
  registerBusinessGauges(
    registry,
    async () =>
      (
        await sql<AttemptRow>`SELECT provider, status, count(*) AS count,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM settled_at - created_at))
              FILTER (WHERE status = 'SUCCEEDED' AND settled_at IS NOT NULL) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM settled_at - created_at))
              FILTER (WHERE status = 'SUCCEEDED' AND settled_at IS NOT NULL) AS p95
          FROM payment_attempts
          WHERE provider IS NOT NULL AND created_at > now() - make_interval(secs => ${METRIC_WINDOWS['1h']})
          GROUP BY provider, status`.execute(db)
      ).rows,
    [
      {
        name: 'payment_attempts_recent',
        help: 'Mobile Money collections started in the last hour, by provider and status (PENDING, SUCCEEDED, FAILED, EXPIRED)',
        labelNames: ['window', 'provider', 'status'],
        samples: (rows) =>
          rows.map((row) => ({
            labels: { window: '1h', provider: row.provider, status: row.status },
            value: Number(row.count),
          })),
      },
      {
        name: 'payment_settlement_seconds',
        help: 'Seconds from a collection attempt to its success, last hour, by provider (quantile 0.5 and 0.95)',
        labelNames: ['window', 'provider', 'quantile'],
        samples: (rows) =>
          rows.flatMap((row) =>
            row.status !== 'SUCCEEDED' || row.p50 === null || row.p95 === null
              ? []
              : [
                  {
                    labels: { window: '1h', provider: row.provider, quantile: '0.5' },
                    value: Number(row.p50),
                  },
                  {
                    labels: { window: '1h', provider: row.provider, quantile: '0.95' },
                    value: Number(row.p95),
                  },
                ],
          ),
      },
    ],
  );
  registerBusinessGauges(
    registry,
    async () =>
      (
        await sql<PayoutRow>`SELECT status, count(*) AS count,
            extract(epoch FROM now() - min(created_at))::float8 AS oldest_seconds
          FROM payouts
          WHERE status IN (${sql.join(OPEN_PAYOUT_STATUSES.map((status) => sql.lit(status)))})
          GROUP BY status`.execute(db)
      ).rows,
    [
      {
        name: 'payouts_open',
        help: 'Payouts not yet settled, by status (REQUESTED, APPROVED, PROCESSING, NEEDS_REVIEW)',
        labelNames: ['status'],
        samples: (rows) =>
          OPEN_PAYOUT_STATUSES.map((status) => ({
            labels: { status },
            value: Number(rows.find((row) => row.status === status)?.count ?? 0),
          })),
      },
      {
        name: 'payouts_oldest_open_seconds',
        help: 'Age in seconds of the oldest payout in each open status (absent when none)',
        labelNames: ['status'],
        samples: (rows) =>
          rows.flatMap((row) =>
            row.oldest_seconds === null
              ? []
              : [{ labels: { status: row.status }, value: Number(row.oldest_seconds) }],
          ),
      },
    ],
  );
}
