/**
 * A driver's performance over a period (issue #20), for the driver and for staff, from the
 * records that exist today: deliveries the ledger booked a driver fee for (success), failures the
 * driver reported with proof, the customers' rating (catalog), emergencies, incidents and speed
 * alerts; the acceptance rate from the offers made to the driver (accepted against accepted,
 * declined and expired) and the on-time rate from the deliveries whose acceptance promised an ETA
 * (delivered at most the grace after it). Figures whose source is not built yet are null and named
 * in `unavailable`: the rating's trend and complaints (no per-driver read in catalog and support
 * yet); docs/dispatch.md says what is left.
 */
import { dispatchErrors } from './errors.js';
import type { EarningsRepository } from './earnings-repository.js';
import type { OffersRepository } from './offers-repository.js';
import type { SpeedAlerts } from './speed-alerts.js';
import type { DispatchDb } from './tables.js';

export const PERFORMANCE_MAX_RANGE_DAYS = 92;
export const UNAVAILABLE = ['ratingTrend', 'complaints'] as const;

/** A share with three decimals; null when there is nothing to divide. */
export function rate(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.round((part / whole) * 1000) / 1000;
}

export interface DriverRatingPort {
  driverRating(driverId: string): Promise<{ average: number; count: number }>;
}

export function createPerformance(deps: {
  db: DispatchDb;
  earnings: EarningsRepository;
  speedAlerts: Pick<SpeedAlerts, 'count'>;
  ratings: () => DriverRatingPort;
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
      const [credits, failures, reports, rating, offers, punctuality] = await Promise.all([
        deps.earnings.credits(driverId, from, to),
        db
          .selectFrom('driver_delivery_failures')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .where('driver_id', '=', driverId)
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
          .executeTakeFirst(),
        db
          .selectFrom('driver_safety_reports')
          .select(['kind', (eb) => eb.fn.countAll<string>().as('count')])
          .where('driver_id', '=', driverId)
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
          .groupBy('kind')
          .execute(),
        deps.ratings().driverRating(driverId),
        deps.offers.offerOutcomes(driverId, from, to),
        deps.offers.punctuality(driverId, from, to, deps.onTimeGraceMinutes),
      ]);
      const delivered = new Set(
        credits
          .filter((entry) => entry.code === 'driver_fee' && entry.orderId !== null)
          .map((entry) => entry.orderId),
      ).size;
      const failed = Number(failures?.count ?? 0);
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
        ratingTrend: null,
        complaints: null,
        safety: {
          emergencies: countOf('emergency'),
          incidents: countOf('incident'),
          speedAlerts,
        },
        unavailable: [...UNAVAILABLE],
      };
    },
  };
}

export type Performance = ReturnType<typeof createPerformance>;
