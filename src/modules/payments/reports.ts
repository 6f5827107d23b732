/**
 * Finance reports from the settlements (one row per settled order, written when its escrow was
 * released or refunded) and the payment and payout records. Days are Douala days (UTC+1).
 */
import { sql } from 'kysely';
import type { PaymentsDb } from './tables.js';
import { paymentsErrors } from './errors.js';
import { csvCell, type CsvDelimiter } from './reconciliation.js';

const MAX_REPORT_DAYS = 366;
const TZ = 'Africa/Douala';

export function checkPeriod(from: Date, to: Date): void {
  if (
    Number.isNaN(from.getTime()) ||
    Number.isNaN(to.getTime()) ||
    !(to > from) ||
    to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000
  )
    throw paymentsErrors.of(
      'unprocessable',
      'invalid_period',
      `A report covers at most ${MAX_REPORT_DAYS} days, from before to.`,
    );
}

const big = (value: unknown): bigint => BigInt((value as string | number | bigint | null) ?? 0);

export function createReports(db: PaymentsDb) {
  async function restaurantRevenue(restaurantId: string, from: Date, to: Date) {
    checkPeriod(from, to);
    const rows = await sql<Record<string, unknown>>`
      SELECT commission_tier, commission_rate, count(*)::int8 AS orders, sum(subtotal_minor) AS subtotal, sum(commission_minor) AS commission,
             sum(restaurant_share_minor) AS share, sum(refund_minor) AS refunds
      FROM order_settlements WHERE restaurant_id = ${restaurantId} AND settled_at >= ${from} AND settled_at < ${to} AND outcome IN ('released', 'resolved')
      GROUP BY commission_tier, commission_rate ORDER BY commission_rate`.execute(db);
    const tiers = rows.rows.map((row) => ({
      tier: String(row.commission_tier),
      rate: String(row.commission_rate),
      orders: Number(row.orders),
      grossMinor: big(row.subtotal),
      commissionMinor: big(row.commission),
      netMinor: big(row.share),
      refundsMinor: big(row.refunds),
    }));
    const sum = (pick: (tier: (typeof tiers)[number]) => bigint) =>
      tiers.reduce((total, tier) => total + pick(tier), 0n);
    return {
      restaurantId,
      from: from.toISOString(),
      to: to.toISOString(),
      orders: tiers.reduce((total, tier) => total + tier.orders, 0),
      grossMinor: sum((tier) => tier.grossMinor),
      commissionMinor: sum((tier) => tier.commissionMinor),
      netMinor: sum((tier) => tier.netMinor),
      refundsMinor: sum((tier) => tier.refundsMinor),
      byTier: tiers,
    };
  }

  async function taxCsv(from: Date, to: Date, delimiter: CsvDelimiter = ','): Promise<string> {
    checkPeriod(from, to);
    const rows = await sql<Record<string, unknown>>`
      SELECT to_char(settled_at AT TIME ZONE ${TZ}, 'YYYY-MM-DD') AS day, count(*)::int8 AS orders,
             sum(subtotal_minor) AS subtotal, sum(tax_minor) AS tax, sum(commission_minor) AS commission
      FROM order_settlements WHERE settled_at >= ${from} AND settled_at < ${to} AND outcome IN ('released', 'resolved')
      GROUP BY 1 ORDER BY 1`.execute(db);
    const lines = [
      ['day', 'orders', 'food_sales_minor', 'tax_collected_minor', 'commission_minor'].join(delimiter),
    ];
    for (const row of rows.rows)
      lines.push(
        [row.day, row.orders, row.subtotal, row.tax, row.commission]
          .map((value) => csvCell(value, delimiter))
          .join(delimiter),
      );
    return `${lines.join('\r\n')}\r\n`;
  }

  async function platformRevenue(from: Date, to: Date) {
    checkPeriod(from, to);
    const settled = await sql<Record<string, unknown>>`
      SELECT count(*)::int8 AS orders, coalesce(sum(commission_minor), 0) AS commission, coalesce(sum(delivery_margin_minor), 0) AS margin,
             coalesce(sum(tax_minor), 0) AS tax
      FROM order_settlements WHERE settled_at >= ${from} AND settled_at < ${to} AND outcome IN ('released', 'resolved')`.execute(
      db,
    );
    const fees = await sql<Record<string, unknown>>`
      SELECT (SELECT coalesce(sum(fee_minor), 0) FROM payment_attempts WHERE status = 'SUCCEEDED' AND updated_at >= ${from} AND updated_at < ${to})
           + (SELECT coalesce(sum(fee_minor), 0) FROM payouts WHERE status = 'SUCCEEDED' AND updated_at >= ${from} AND updated_at < ${to}) AS fees`.execute(
      db,
    );
    const row = settled.rows[0] ?? {};
    const commission = big(row.commission);
    const margin = big(row.margin);
    const providerFees = big(fees.rows[0]?.fees);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      orders: Number(row.orders ?? 0),
      commissionMinor: commission,
      deliveryMarginMinor: margin,
      providerFeesMinor: providerFees,
      taxCollectedMinor: big(row.tax),
      netMinor: commission + margin - providerFees,
    };
  }

  async function driverEarnings(driverId: string, period: 'day' | 'week' | 'month', from: Date, to: Date) {
    checkPeriod(from, to);
    const rows = await sql<Record<string, unknown>>`
      SELECT to_char(date_trunc(${period}, settled_at AT TIME ZONE ${TZ}), 'YYYY-MM-DD') AS starting, count(*)::int8 AS deliveries,
             sum(driver_fee_minor) AS fees, sum(tip_minor) AS tips
      FROM order_settlements WHERE driver_id = ${driverId} AND settled_at >= ${from} AND settled_at < ${to} AND outcome IN ('released', 'resolved')
      GROUP BY 1 ORDER BY 1`.execute(db);
    const buckets = rows.rows.map((row) => ({
      periodStart: String(row.starting),
      deliveries: Number(row.deliveries),
      feesMinor: big(row.fees),
      tipsMinor: big(row.tips),
      totalMinor: big(row.fees) + big(row.tips),
    }));
    return {
      driverId,
      period,
      buckets,
      totalMinor: buckets.reduce((total, bucket) => total + bucket.totalMinor, 0n),
    };
  }

  return { restaurantRevenue, taxCsv, platformRevenue, driverEarnings };
}

export type Reports = ReturnType<typeof createReports>;
