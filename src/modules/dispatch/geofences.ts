/**
 * Geofences (issue #20): a carrying driver's accepted position within
 * `DISPATCH_GEOFENCE_RESTAURANT_METERS` of the restaurant (before pickup) marks
 * `DriverArrivedAtRestaurant`; within `DISPATCH_GEOFENCE_CUSTOMER_METERS` of the customer's drop
 * point (after pickup) marks `DriverArriving`. Each is told once per order to the order's
 * customer and restaurant: a row per order and kind (`dispatch_geofence_arrivals`, insert-or-
 * nothing) decides across instances and restarts, and an in-process set spares the database the
 * question on every later fix. Each arrival is also pushed through notify (the restaurant at the
 * restaurant, the customer near the drop point), for a phone that is not on the socket: the
 * intent is named after the order and the kind, so the instances that each check the fence once
 * record one push between them, and one that crashed between the row and the push is made good
 * by the next instance (or restart) that sees the driver inside the fence.
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import type { CarriedOrder } from '../orders/index.js';
import { distanceMeters, type GeoPoint } from './geo.js';
import type { OffersTables } from './offers-tables.js';

export type ArrivalKind = 'restaurant' | 'customer';
export interface OrderPlaces {
  pickup: GeoPoint;
  dropoff: GeoPoint;
}
export interface GeofenceRadii {
  restaurantMeters: number;
  customerMeters: number;
}

/** The fence that matters for an order in `status`: the restaurant before pickup, then the customer. */
export function fenceOf(status: CarriedOrder['status']): ArrivalKind {
  return status === 'PICKED_UP' ? 'customer' : 'restaurant';
}

/** Whether `position` is inside the fence of `kind` (pure). */
export function insideFence(
  kind: ArrivalKind,
  position: GeoPoint,
  places: OrderPlaces,
  radii: GeofenceRadii,
): boolean {
  return kind === 'restaurant'
    ? distanceMeters(position, places.pickup) <= radii.restaurantMeters
    : distanceMeters(position, places.dropoff) <= radii.customerMeters;
}

const EVENT_OF: Record<ArrivalKind, string> = {
  restaurant: 'DriverArrivedAtRestaurant',
  customer: 'DriverArriving',
};
/** The clean-up deletes at most this many rows per statement, and this many statements per run. */
export const PURGE_BATCH_ROWS = 5_000;
const PURGE_BATCHES_MAX = 200;

/** Bounds of the in-process memories (orders in flight on one instance stay far below). */
const MAX_REMEMBERED = 10_000;

function remember<V>(map: Map<string, V>, key: string, value: V) {
  if (map.size >= MAX_REMEMBERED) map.clear();
  map.set(key, value);
}

export function createGeofences(options: {
  db: Kysely<Pick<OffersTables, 'dispatch_geofence_arrivals'>>;
  bus: RealtimeBus;
  logger: Logger;
  radii: GeofenceRadii;
  /** Where an order starts and ends (its dispatch, or the order and the restaurant's place). */
  places: (orderId: string) => Promise<OrderPlaces | undefined>;
  /** The push of an arrival (notify's driverArrival); idempotent by order and kind. */
  push?: (arrival: {
    orderId: string;
    kind: ArrivalKind;
    customerId: string;
    ownerId: string;
  }) => Promise<unknown>;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const told = new Map<string, true>();
  const placesCache = new Map<string, OrderPlaces>();

  async function placesOf(orderId: string) {
    const cached = placesCache.get(orderId);
    if (cached !== undefined) return cached;
    const found = await options.places(orderId);
    if (found !== undefined) remember(placesCache, orderId, found);
    return found;
  }

  /** True when this call recorded the arrival (first across every instance). */
  async function record(orderId: string, kind: ArrivalKind, at: Date): Promise<boolean> {
    const result = await sql`
      INSERT INTO dispatch_geofence_arrivals (order_id, kind, at) VALUES (${orderId}::uuid, ${kind}, ${at})
      ON CONFLICT DO NOTHING`.execute(options.db);
    return Number(result.numAffectedRows ?? 0n) === 1;
  }

  async function check(driverId: string, position: GeoPoint, order: CarriedOrder) {
    const kind = fenceOf(order.status);
    const key = `${order.orderId}:${kind}`;
    if (told.has(key)) return;
    const places = await placesOf(order.orderId);
    if (places === undefined || !insideFence(kind, position, places, options.radii)) return;
    const at = new Date(now());
    const first = await record(order.orderId, kind, at);
    if (options.push !== undefined)
      await options
        .push({
          orderId: order.orderId,
          kind,
          customerId: order.customerId,
          ownerId: order.restaurantOwnerId,
        })
        .catch((error: unknown) =>
          options.logger.warn(
            { err: error, orderId: order.orderId, kind },
            'the push of an arrival was not recorded',
          ),
        );
    remember(told, key, true);
    if (!first) return;
    const type = EVENT_OF[kind];
    await options.bus.publish([
      {
        audiences: [audiences.customer(order.customerId), audiences.owner(order.restaurantOwnerId)],
        message: {
          type,
          channel: 'order-updates',
          orderId: order.orderId,
          at: at.toISOString(),
          data: { orderId: order.orderId, driverId, at: at.toISOString() },
        },
      },
    ]);
  }

  return {
    /** Called with each accepted fix of a driver who carries orders; never throws. */
    async positionChanged(driverId: string, position: GeoPoint, carried: readonly CarriedOrder[]) {
      for (const order of carried)
        await check(driverId, position, order).catch((error: unknown) =>
          options.logger.warn({ err: error, orderId: order.orderId }, 'geofence check failed'),
        );
    },

    /**
     * The clean-up job: arrivals marked before `before` are forgotten (an order is carried for
     * hours, the retention is days), in bounded batches. Rows only decide "told once" while the
     * order is carried, so a finished order's rows serve nothing. Any instance may run it at once.
     */
    async purge(before: Date): Promise<number> {
      let deleted = 0;
      for (let batch = 0; batch < PURGE_BATCHES_MAX; batch += 1) {
        const result = await sql<{ order_id: string }>`
          DELETE FROM dispatch_geofence_arrivals WHERE ctid IN (
            SELECT ctid FROM dispatch_geofence_arrivals WHERE at < ${before} LIMIT ${PURGE_BATCH_ROWS}
          )`.execute(options.db);
        const count = Number(result.numAffectedRows ?? 0n);
        deleted += count;
        if (count < PURGE_BATCH_ROWS) break;
      }
      return deleted;
    },

    /** When the order's arrivals were marked (for tests and staff). */
    async arrivals(orderId: string) {
      return options.db
        .selectFrom('dispatch_geofence_arrivals')
        .select(['kind', 'at'])
        .where('order_id', '=', orderId)
        .orderBy('at')
        .execute();
    },
  };
}

export type Geofences = ReturnType<typeof createGeofences>;
