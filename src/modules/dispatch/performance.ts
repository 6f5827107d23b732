/**
 * A driver's performance over a period (issue #20), for the driver and for staff, from the
 * records that exist: deliveries the ledger booked a driver fee for (success), failures the
 * driver reported with proof, the customers' rating (catalog) and its trend against the period
 * before, complaints (support: the period's deliveries a customer opened a ticket about),
 * emergencies, incidents and speed alerts; the acceptance rate from the offers made to the driver
 * (accepted against accepted, declined and expired) and the on-time rate from the deliveries whose
 * acceptance promised an ETA (delivered at most the grace after it). docs/dispatch.md.
 */
import { dispatchErrors } from './errors.js';
import type { EarningsRepository } from './earnings-repository.js';
import type { OffersRepository } from './offers-repository.js';
import type { SpeedAlerts } from './speed-alerts.js';
import type { DispatchDb } from './tables.js';

export const PERFORMANCE_MAX_RANGE_DAYS = 92;
/** Failed deliveries read for one period (their orders are asked about complaints). */
const PERFORMANCE_FAILURES_MAX = 1_000;
/** Delivered orders read for one period (a busy driver delivers a few hundred a month). */
const PERFORMANCE_ORDERS_MAX = 4_000;

/** A share with three decimals; null when there is nothing to divide. */
export function rate(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.round((part / whole) * 1000) / 1000;
}

export interface DriverRatingPort {
  driverRating(driverId: string): Promise<{ average: number; count: number }>;
  /** Ratings given within [from, to): average (0 when none) and count. */
  driverRatingBetween(driverId: string, from: Date, to: Date): Promise<{ average: number; count: number }>;
}

/** Support's count of the orders customers complained about (a `later` need: support's service). */
export interface DriverComplaintsPort {
  aboutOrders(orderIds: readonly string[]): Promise<{ orders: number; byCategory: Record<string, number> }>;
}

/** The period's ratings against the period of the same length just before: `change` needs both. */
export function ratingTrend(
  current: { average: number; count: number },
  previous: { average: number; count: number },
) {
  const average = (period: { average: number; count: number }) =>
    period.count === 0 ? null : period.average;
  return {
    current: { average: average(current), count: current.count },
    previous: { average: average(previous), count: previous.count },
    change:
      current.count === 0 || previous.count === 0
        ? null
        : Math.round((current.average - previous.average) * 100) / 100,
  };
}

export function createPerformance(deps: {
  db: DispatchDb;
  earnings: EarningsRepository;
  speedAlerts: Pick<SpeedAlerts, 'count'>;
  ratings: () => DriverRatingPort;
  complaints: () => DriverComplaintsPort;
  /** The orders the driver delivered in a period (orders' projection). */
  deliveredOrders: (driverId: string, from: Date, to: Date, limit: number) => Promise<string[]>;
  offers: Pick<OffersRepository, 'offerOutcomes' | 'punctuality'>;
  onTimeGraceMinutes: number;
}) {
  const { db } = deps;
  return {
    async of(driverId: string, from: Date, to: Date) {
      if (
        !(from.getTime() < to.getTime()) ||
        to.getTime() - from.getTime() > PERFORMANCE_MAX_RANGE_DAYS * 86_400_000
      )
        throw dispatchErrors.of(
          'unprocessable',
          'invalid_period',
          `\`from\` must be before \`to\`, at most ${PERFORMANCE_MAX_RANGE_DAYS} days apart.`,
        );
      const before = new Date(from.getTime() - (to.getTime() - from.getTime()));
      const [credits, failures, reports, rating, current, previous, offers, punctuality] = await Promise.all([
        deps.earnings.credits(driverId, from, to),
        db
          .selectFrom('driver_delivery_failures')
          .select('order_id')
          .where('driver_id', '=', driverId)
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
          .limit(PERFORMANCE_FAILURES_MAX)
          .execute(),
        db
          .selectFrom('driver_safety_reports')
          .select(['kind', (eb) => eb.fn.countAll<string>().as('count')])
          .where('driver_id', '=', driverId)
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
          .groupBy('kind')
          .execute(),
        deps.ratings().driverRating(driverId),
        deps.ratings().driverRatingBetween(driverId, from, to),
        deps.ratings().driverRatingBetween(driverId, before, from),
        deps.offers.offerOutcomes(driverId, from, to),
        deps.offers.punctuality(driverId, from, to, deps.onTimeGraceMinutes),
      ]);
      const deliveredOrders = new Set(
        credits
          .filter((entry) => entry.code === 'driver_fee' && entry.orderId !== null)
          .map((entry) => entry.orderId!),
      );
      const delivered = deliveredOrders.size;
      const failed = failures.length;
      // Complaints are about what the driver carried: the orders delivered in the period (orders'
      // projection: a delivery is not a settled fee yet) and the failed ones.
      const handedOver = await deps.deliveredOrders(driverId, from, to, PERFORMANCE_ORDERS_MAX);
      const carried = [...new Set([...handedOver, ...failures.map((row) => row.order_id)])];
      const complained = await deps.complaints().aboutOrders(carried);
      const speedAlerts = await deps.speedAlerts.count(driverId, from, to);
      const countOf = (kind: string) => Number(reports.find((row) => row.kind === kind)?.count ?? 0);
      return {
        driverId,
        from: from.toISOString(),
        to: to.toISOString(),
        deliveries: delivered,
        failedDeliveries: failed,
        successRate: rate(delivered, delivered + failed),
        acceptanceRate: rate(offers.accepted, offers.answered),
        offers,
        onTimeRate: rate(punctuality.onTime, punctuality.delivered),
        punctuality: { ...punctuality, graceMinutes: deps.onTimeGraceMinutes },
        rating: { average: rating.count === 0 ? null : rating.average, count: rating.count },
        ratingTrend: ratingTrend(current, previous),
        complaints: {
          orders: complained.orders,
          rate: rate(complained.orders, carried.length),
          byCategory: complained.byCategory,
        },
        safety: {
          emergencies: countOf('emergency'),
          incidents: countOf('incident'),
          speedAlerts,
        },
      };
    },
  };
}

export type Performance = ReturnType<typeof createPerformance>;
