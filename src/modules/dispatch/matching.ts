/**
 * The matcher: the facts the score needs, gathered through ports, then ranked by the pure rules
 * (matching-rules.ts). Nearest online drivers come from the location index; their vehicle from
 * their shift; travel to the restaurant from the routing port (never a formula); rating from
 * reviews; acceptance from dispatch's own offers; load from the orders they carry; and, for a
 * loaded driver, whether the new order fits their route (batching-rules.ts, durations from the
 * routing port).
 */
import type { Kysely } from 'kysely';
import type { CarriedOrder, DriverOrdersLookup } from '../orders/index.js';
import { batchFits, type Stop } from './batching-rules.js';
import type { Vehicle } from './fix-rules.js';
import type { GeoPoint } from './geo.js';
import type { DriverLocationIndex } from './location-index.js';
import { rankCandidates, type CandidateFacts, type MatchPolicy, type Scored } from './matching-rules.js';
import type { DispatchOpenedData } from './offers-decider.js';
import type { OffersRepository } from './offers-repository.js';
import type { RoutingPort } from './routing.js';
import type { DispatchTables } from './tables.js';

export interface DriverRatings {
  driverRating(driverId: string): Promise<{ average: number; count: number }>;
  /** The same for many drivers in one query; optional. */
  driverRatingsMany?(driverIds: readonly string[]): Promise<Map<string, { average: number; count: number }>>;
}

/** Where an order held by a driver starts and ends (from its own dispatch), if dispatch knows it. */
export type HeldOrderPlaces = (
  orderId: string,
) => Promise<{ pickup: GeoPoint; dropoff: GeoPoint; readyAt: number } | undefined>;

export interface MatcherOptions {
  db: Kysely<Pick<DispatchTables, 'driver_availability'>>;
  index: DriverLocationIndex;
  routing: RoutingPort;
  ratings: DriverRatings;
  offers: OffersRepository;
  driverOrders: () => DriverOrdersLookup;
  heldOrderPlaces: HeldOrderPlaces;
  policy: MatchPolicy;
  /** Nearest drivers scored per search. */
  candidates: number;
  batchMaxDelaySeconds: number;
  /**
   * Onboarding's word on each candidate (approved, licence and insurance unexpired today): a driver
   * left out is not offered, even while still on shift before the daily round takes them off.
   */
  eligibleAmong?: (driverIds: readonly string[]) => Promise<Set<string>>;
}

export interface Ranking {
  ranked: Scored[];
  /** Drivers found in the radius before filtering (asked already, busy, offline). */
  found: number;
}

interface Located {
  driverId: string;
  position: GeoPoint;
  vehicle: Vehicle;
}

export function createMatcher(options: MatcherOptions) {
  const { routing, policy } = options;

  async function onlineVehicles(driverIds: readonly string[]): Promise<Map<string, Vehicle>> {
    if (driverIds.length === 0) return new Map();
    const rows = await options.db
      .selectFrom('driver_availability')
      .select(['driver_id', 'vehicle'])
      .where('driver_id', 'in', driverIds)
      .where('online', '=', true)
      .execute();
    return new Map(rows.map((row) => [row.driver_id, row.vehicle]));
  }

  /** Whether `order` fits the route of a driver who holds `held` orders, within the allowed delay. */
  async function fitsRoute(
    driver: Located,
    held: { orderId: string; pickedUp: boolean }[],
    order: DispatchOpenedData,
    nowMs: number,
  ) {
    const stops: Stop[] = [];
    const points: GeoPoint[] = [driver.position];
    const readyIn = new Map<string, number>();
    const solo = new Map<string, number>();
    for (const item of held) {
      const places = await options.heldOrderPlaces(item.orderId);
      if (places === undefined) return false; // claimed by hand: dispatch does not know its places
      if (!item.pickedUp) {
        stops.push({ orderId: item.orderId, kind: 'pickup' });
        points.push(places.pickup);
        readyIn.set(item.orderId, Math.max(0, (places.readyAt - nowMs) / 1000));
      }
      stops.push({ orderId: item.orderId, kind: 'drop' });
      points.push(places.dropoff);
    }
    stops.push({ orderId: order.orderId, kind: 'pickup' }, { orderId: order.orderId, kind: 'drop' });
    points.push(order.pickup, order.dropoff);
    readyIn.set(order.orderId, Math.max(0, (Date.parse(order.readyAt) - nowMs) / 1000));
    const durations = await Promise.all(
      points.map((from) =>
        Promise.all(
          points.map(async (to) =>
            from === to ? 0 : (await routing.travel(from, to, driver.vehicle)).durationSeconds,
          ),
        ),
      ),
    );
    // Each held order alone on the driver's route now, the new one from its restaurant when ready.
    const heldOnly = stops.filter((stop) => stop.orderId !== order.orderId);
    const heldVerdict = batchFits(heldOnly, durations, readyIn, new Map(), Infinity);
    const heldRoute = heldVerdict.route;
    let clock = 0;
    let from = 0;
    for (const stop of heldRoute) {
      clock += durations[from]![stop + 1]!;
      const { orderId, kind } = heldOnly[stop]!;
      if (kind === 'pickup') clock = Math.max(clock, readyIn.get(orderId) ?? 0);
      else solo.set(orderId, clock);
      from = stop + 1;
    }
    const pickupIndex = points.length - 2;
    solo.set(order.orderId, readyIn.get(order.orderId)! + durations[pickupIndex]![pickupIndex + 1]!);
    return batchFits(stops, durations, readyIn, solo, options.batchMaxDelaySeconds).fits;
  }

  // The candidates of one search are scored together: their ratings and carried orders are read in
  // one query each rather than one per candidate.
  async function ratingsOf(driverIds: readonly string[]) {
    if (driverIds.length === 0) return new Map<string, { average: number; count: number }>();
    const many = options.ratings.driverRatingsMany;
    if (many !== undefined) return many.call(options.ratings, driverIds);
    const each = await Promise.all(driverIds.map((id) => options.ratings.driverRating(id)));
    return new Map(driverIds.map((id, index) => [id, each[index]!]));
  }
  async function carriedOf(driverIds: readonly string[]) {
    if (driverIds.length === 0) return new Map<string, CarriedOrder[]>();
    const lookup = options.driverOrders();
    if (lookup.carriedByMany !== undefined) return lookup.carriedByMany(driverIds);
    const each = await Promise.all(driverIds.map((id) => lookup.carriedBy(id)));
    return new Map(driverIds.map((id, index) => [id, each[index]!]));
  }

  async function factsOf(
    driver: Located,
    order: DispatchOpenedData,
    nowMs: number,
    rating: { average: number; count: number },
    carried: readonly CarriedOrder[],
  ): Promise<CandidateFacts> {
    const travel = await routing.travel(driver.position, order.pickup, driver.vehicle);
    const held = carried
      .filter((item) => item.orderId !== order.orderId)
      .map((item) => ({ orderId: item.orderId, pickedUp: item.status === 'PICKED_UP' }));
    const facts: CandidateFacts = {
      driverId: driver.driverId,
      vehicle: driver.vehicle,
      travelSeconds: travel.durationSeconds,
      travelMeters: travel.distanceMeters,
      rating,
      offers: { answered: 0, accepted: 0 },
      load: held.length,
    };
    if (held.length > 0 && held.length < policy.maxLoad)
      facts.batchFits = await fitsRoute(driver, held, order, nowMs);
    return facts;
  }

  return {
    /**
     * Candidates for `order` within `radiusKm`, best first, leaving out `exclude` (asked already)
     * and drivers holding an open offer elsewhere.
     */
    async rank(
      order: DispatchOpenedData,
      radiusKm: number,
      exclude: ReadonlySet<string>,
      nowMs: number,
    ): Promise<Ranking> {
      const nearby = await options.index.nearby(
        order.pickup,
        radiusKm,
        options.candidates + exclude.size,
        nowMs,
      );
      const fresh = nearby.filter((driver) => !exclude.has(driver.driverId));
      const ids = fresh.map((driver) => driver.driverId);
      // Every fact that is read by driver id, in one round of parallel queries (issue #20: the
      // matching benchmark's tail grew with each round trip made one after another).
      const [vehicles, busy, eligible, ratings, carried, answers] = await Promise.all([
        onlineVehicles(ids),
        options.offers.busyDrivers(ids),
        options.eligibleAmong === undefined ? undefined : options.eligibleAmong(ids),
        ratingsOf(ids),
        carriedOf(ids),
        options.offers.answerCounts(ids),
      ]);
      const located: Located[] = [];
      for (const driver of fresh) {
        const vehicle = vehicles.get(driver.driverId);
        if (vehicle === undefined || busy.has(driver.driverId)) continue;
        if (eligible !== undefined && !eligible.has(driver.driverId)) continue;
        located.push({ driverId: driver.driverId, position: driver, vehicle });
        if (located.length >= options.candidates) break;
      }
      const facts = await Promise.all(
        located.map((driver) =>
          factsOf(
            driver,
            order,
            nowMs,
            ratings.get(driver.driverId) ?? { average: 0, count: 0 },
            carried.get(driver.driverId) ?? [],
          ),
        ),
      );
      for (const candidate of facts) candidate.offers = answers.get(candidate.driverId) ?? candidate.offers;
      const orderFacts = {
        readyAt: Date.parse(order.readyAt),
        deliveryMeters: order.deliveryMeters,
        itemCount: order.itemCount,
      };
      return { ranked: rankCandidates(orderFacts, facts, policy, nowMs), found: nearby.length };
    },
  };
}

export type Matcher = ReturnType<typeof createMatcher>;
