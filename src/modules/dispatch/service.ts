/**
 * Drivers' shifts and live positions (issue #20, first slice).
 *
 *  - Availability: `setAvailability` records a change of shift (table + audit trail,
 *    docs/dispatch.md says why not an event stream); going offline takes the driver out of the
 *    location index at once.
 *  - A position fix: judged (fix-rules.ts) against the driver's last accepted one, stored as the
 *    last, put in the index of online drivers, added to the trail of the order the driver carries
 *    (PICKED_UP), and told, throttled per order, to that order's customer and restaurant.
 *    An impossible speed is recorded in driver_location_flags and counted, and the fix is not used.
 */
import type { Logger } from 'pino';
import { audiences, type Publication, type RealtimeBus } from '../../realtime/index.js';
import {
  orderAudience,
  type CarriedOrder,
  type DriverOrdersLookup,
  type DriverPositionPort,
} from '../orders/index.js';
import { dispatchErrors } from './errors.js';
import {
  judgeFix,
  usableForDecisions,
  type FixPolicy,
  type LastFix,
  type PositionFix,
  type Vehicle,
} from './fix-rules.js';
import { batchPerTick } from './batch.js';
import type { DriverLocationIndex, IndexEntry } from './location-index.js';
import type { DispatchMetrics } from './metrics.js';
import type { AvailabilityRow, DispatchRepository, FixToStore } from './repository.js';
import type { RoutingPort } from './routing.js';
import type { Throttle } from './throttle.js';

export interface DispatchServiceOptions {
  repository: DispatchRepository;
  index: DriverLocationIndex;
  routing: RoutingPort;
  bus: RealtimeBus;
  /** Orders' answer to "which orders does this driver carry", asked per accepted fix. */
  driverOrders: () => DriverOrdersLookup;
  throttle: Throttle;
  metrics: DispatchMetrics;
  logger: Logger;
  policy: FixPolicy;
  fanoutIntervalMs: number;
  trailMaxPoints: number;
  /** Refuses going online to a driver who may not work (onboarding: not approved, documents expired). */
  /** Onboarding's gate: refuses the shift, or answers the approved vehicle (the declared one must match). */
  shiftGate?: (driverId: string, declared: Vehicle | undefined) => Promise<Vehicle>;
  /**
   * Told of each accepted fix with the orders the driver carries (ETAs, geofences, issue #20);
   * `usable` is false for a fix too coarse to decide on (geofences ignore it); must not throw.
   */
  onAcceptedFix?: (
    driverId: string,
    fix: PositionFix,
    carried: readonly CarriedOrder[],
    usable: boolean,
  ) => void;
  /**
   * Told of each fix flagged for an impossible speed, once recorded (the admin context's fraud
   * signals, issue #23): a failure is logged, the fix is refused all the same.
   */
  onFlagged?: (flag: MovementFlag) => Promise<void>;
  now?: () => number;
}

/** A recorded impossible-speed flag, as the fraud rules read it. */
export interface MovementFlag {
  flagId: string;
  driverId: string;
  at: Date;
  speedKmh: number;
  limitKmh: number | null;
}

export interface AvailabilityView {
  online: boolean;
  vehicle: Vehicle;
  since: string | null;
  lastPosition: {
    latitude: number;
    longitude: number;
    accuracyMeters: number | null;
    heading: number | null;
    speedKmh: number | null;
    recordedAt: string;
    acceptedAt: string;
  } | null;
}

function viewOf(row: AvailabilityRow | undefined): AvailabilityView {
  if (row === undefined) return { online: false, vehicle: 'motorbike', since: null, lastPosition: null };
  return {
    online: row.online,
    vehicle: row.vehicle,
    since: row.since.toISOString(),
    lastPosition:
      row.last_latitude === null ||
      row.last_longitude === null ||
      row.last_recorded_at === null ||
      row.last_accepted_at === null
        ? null
        : {
            latitude: row.last_latitude,
            longitude: row.last_longitude,
            accuracyMeters: row.last_accuracy_meters,
            heading: row.last_heading,
            speedKmh: row.last_speed_kmh,
            recordedAt: row.last_recorded_at.toISOString(),
            acceptedAt: row.last_accepted_at.toISOString(),
          },
  };
}

function lastFixOf(row: AvailabilityRow): LastFix | undefined {
  if (
    row.last_latitude === null ||
    row.last_longitude === null ||
    row.last_recorded_at === null ||
    row.last_accepted_at === null
  )
    return undefined;
  return {
    latitude: row.last_latitude,
    longitude: row.last_longitude,
    recordedAt: row.last_recorded_at.getTime(),
    acceptedAt: row.last_accepted_at.getTime(),
  };
}

export interface FixReceipt {
  status: 'accepted';
  recordedAt: string;
  /** The earliest time the next fix is accepted. */
  nextAcceptedAt: string;
  /** False for a fix too coarse to be used for matching and geofences (stored and shown only). */
  usable: boolean;
  /** Orders whose customer and restaurant were told of this position now (throttled). */
  toldOrders: string[];
}

export function createDispatchService(options: DispatchServiceOptions) {
  const { repository, index, metrics, logger, policy } = options;
  const now = options.now ?? Date.now;

  // The ingest path, batched per turn of the event loop (batch.ts): fixes of many drivers that
  // arrive together read their shifts in one statement, store their last fixes in one, ask orders
  // what they carry in one, and reach the Redis index in one round trip.
  const shiftOf = batchPerTick(async (driverIds: readonly string[]) => {
    const rows = await repository.availabilityMany(driverIds);
    return driverIds.map((id) => rows.get(id));
  });
  const storeFix = batchPerTick((items: readonly FixToStore[]) => repository.storeFixes(items));
  const indexFix = batchPerTick(async (entries: readonly IndexEntry[]) => {
    if (index.updateMany !== undefined) await index.updateMany(entries);
    else for (const entry of entries) await index.update(entry.driverId, entry.position, entry.atMs);
    return entries.map(() => undefined);
  });
  const carriedByMany = batchPerTick(async (driverIds: readonly string[]) => {
    const lookup = options.driverOrders();
    if (lookup.carriedByMany === undefined) return Promise.all(driverIds.map((id) => lookup.carriedBy(id)));
    const carried = await lookup.carriedByMany(driverIds);
    return driverIds.map((id) => carried.get(id) ?? []);
  });

  async function fanOut(
    driverId: string,
    fix: PositionFix,
    atMs: number,
    usable: boolean,
    carriedLookup: Promise<CarriedOrder[]>,
  ): Promise<string[]> {
    const carried = await carriedLookup;
    if (carried.length > 0) options.onAcceptedFix?.(driverId, fix, carried, usable);
    const told: string[] = [];
    const publications: Publication[] = [];
    for (const order of carried) {
      if (order.status === 'PICKED_UP')
        await repository.appendTrail(order.orderId, driverId, fix, options.trailMaxPoints);
      if (!(await options.throttle.pass(`dispatch:fanout:${order.orderId}`, options.fanoutIntervalMs)))
        continue;
      told.push(order.orderId);
      const message = {
        type: 'DriverLocation',
        channel: 'driver-location',
        orderId: order.orderId,
        at: new Date(atMs).toISOString(),
        data: {
          status: order.status,
          latitude: fix.latitude,
          longitude: fix.longitude,
          heading: fix.heading ?? null,
          recordedAt: new Date(fix.recordedAt).toISOString(),
        },
      };
      publications.push({
        audiences: [
          audiences.customer(order.customerId),
          audiences.owner(order.restaurantOwnerId),
          // the public tracking page (/ws/track) sees the driver once the order is picked up only
          ...(order.status === 'PICKED_UP' ? [orderAudience(order.orderId)] : []),
        ],
        message,
      });
    }
    if (publications.length > 0) {
      await options.bus.publish(publications);
      metrics.fanout.inc(publications.length);
    }
    return told;
  }

  const positions: DriverPositionPort = {
    async lastPosition(driverId) {
      const last = viewOf(await repository.availability(driverId)).lastPosition;
      if (last === null) return undefined;
      return {
        latitude: last.latitude,
        longitude: last.longitude,
        recordedAt: last.recordedAt,
        heading: last.heading,
      };
    },
  };

  return {
    index,
    routing: options.routing,
    positions,
    repository,

    async availability(driverId: string): Promise<AvailabilityView> {
      return viewOf(await repository.availability(driverId));
    },

    async setAvailability(driverId: string, input: { online: boolean; vehicle?: Vehicle | undefined }) {
      // Going online: the vehicle is the approved one (declared or not); offline keeps the last.
      const vehicle =
        input.online && options.shiftGate !== undefined
          ? await options.shiftGate(driverId, input.vehicle)
          : input.vehicle;
      await repository.setAvailability(driverId, input.online, vehicle, new Date(now()));
      // Offline: out of the index now (also when the state did not change: a retried PUT heals an
      // index that missed the first removal).
      if (!input.online) await index.remove(driverId);
      return viewOf(await repository.availability(driverId));
    },

    async submitFix(driverId: string, fix: PositionFix): Promise<FixReceipt> {
      const atMs = now();
      const row = await shiftOf(driverId);
      if (row === undefined || !row.online) {
        metrics.fixes.inc({ outcome: 'driver_offline' });
        throw dispatchErrors.of(
          'conflict',
          'driver_offline',
          'Go online (PUT /v1/drivers/me/availability) before sending positions.',
        );
      }
      const last = lastFixOf(row);
      const verdict = judgeFix(fix, last, row.vehicle, policy, atMs);
      if (verdict.outcome === 'refused') {
        metrics.fixes.inc({ outcome: verdict.code });
        if (verdict.code === 'location_too_frequent')
          throw dispatchErrors.of('rate_limited', verdict.code, verdict.message, {
            retryAfterSeconds: Math.max(1, Math.ceil((verdict.retryAfterMs ?? 1000) / 1000)),
          });
        const kind = verdict.code === 'location_out_of_order' ? 'conflict' : 'validation';
        throw dispatchErrors.of(kind, verdict.code, verdict.message);
      }
      if (verdict.outcome === 'flagged') {
        metrics.fixes.inc({ outcome: verdict.code });
        metrics.flagged.inc({ reason: 'impossible_speed' });
        const flagId = await repository.flag({
          driverId,
          reason: 'impossible_speed',
          fix,
          previous: last,
          speedKmh: verdict.speedKmh,
          limitKmh: verdict.limitKmh,
          vehicle: row.vehicle,
        });
        logger.warn(
          { driverId, speedKmh: Math.round(verdict.speedKmh), limitKmh: verdict.limitKmh },
          'driver position flagged: impossible speed',
        );
        await options
          .onFlagged?.({
            flagId,
            driverId,
            at: new Date(fix.recordedAt),
            speedKmh: verdict.speedKmh,
            limitKmh: verdict.limitKmh,
          })
          .catch((error: unknown) => logger.warn({ err: error, driverId }, 'flag not reported to fraud'));
        throw dispatchErrors.of('unprocessable', verdict.code, verdict.message, {
          details: { speedKmh: Math.round(verdict.speedKmh), limitKmh: verdict.limitKmh },
        });
      }
      const stored = await storeFix({
        driverId,
        fix,
        previousAcceptedAt: row.last_accepted_at,
        acceptedAt: new Date(atMs),
      });
      if (!stored) {
        // Another fix of this driver won the race, or the driver went offline meanwhile.
        metrics.fixes.inc({ outcome: 'location_too_frequent' });
        throw dispatchErrors.of(
          'rate_limited',
          'location_too_frequent',
          'Another position was just accepted.',
          {
            retryAfterSeconds: Math.max(1, Math.ceil(policy.minIntervalMs / 1000)),
          },
        );
      }
      // A coarse fix is stored, shown and kept in the trail, but neither placed in the index
      // (matching) nor used for geofences: the driver's last precise position stays indexed
      // until it goes stale.
      const usable = usableForDecisions(fix, policy);
      // Which orders the driver carries is asked now, beside the index update rather than after
      // it (one round trip less per fix; issue #20). Its failure is the fan-out's, below.
      const carriedLookup = carriedByMany(driverId);
      carriedLookup.catch(() => undefined);
      if (usable) await indexFix({ driverId, position: fix, atMs });
      else metrics.coarse.inc();
      metrics.fixes.inc({ outcome: 'accepted' });
      let toldOrders: string[] = [];
      try {
        toldOrders = await fanOut(driverId, fix, atMs, usable, carriedLookup);
      } catch (error) {
        // The position is stored and indexed; a lost message is recovered by the next fix.
        logger.warn({ err: error, driverId }, 'driver-location fan-out failed');
      }
      return {
        status: 'accepted',
        recordedAt: new Date(fix.recordedAt).toISOString(),
        nextAcceptedAt: new Date(atMs + policy.minIntervalMs).toISOString(),
        usable,
        toldOrders,
      };
    },
  };
}

export type DispatchService = ReturnType<typeof createDispatchService>;

export function fixPolicyFromConfig(config: {
  DISPATCH_LOCATION_MAX_ACCURACY_METERS: number;
  DISPATCH_LOCATION_USABLE_ACCURACY_METERS?: number;
  DISPATCH_LOCATION_MAX_AGE_SECONDS: number;
  DISPATCH_LOCATION_MIN_INTERVAL_MS: number;
  DISPATCH_MAX_SPEED_KMH_MOTORBIKE: number;
  DISPATCH_MAX_SPEED_KMH_CAR: number;
  DISPATCH_MAX_SPEED_KMH_BICYCLE: number;
}): FixPolicy {
  return {
    maxAccuracyMeters: config.DISPATCH_LOCATION_MAX_ACCURACY_METERS,
    // Never coarser than what is accepted at all.
    usableAccuracyMeters: Math.min(
      config.DISPATCH_LOCATION_USABLE_ACCURACY_METERS ?? config.DISPATCH_LOCATION_MAX_ACCURACY_METERS,
      config.DISPATCH_LOCATION_MAX_ACCURACY_METERS,
    ),
    maxAgeMs: config.DISPATCH_LOCATION_MAX_AGE_SECONDS * 1000,
    minIntervalMs: config.DISPATCH_LOCATION_MIN_INTERVAL_MS,
    maxSpeedKmh: {
      motorbike: config.DISPATCH_MAX_SPEED_KMH_MOTORBIKE,
      car: config.DISPATCH_MAX_SPEED_KMH_CAR,
      bicycle: config.DISPATCH_MAX_SPEED_KMH_BICYCLE,
    },
  };
}
