/**
 * Route sequencing and the batching rule (pure, no I/O).
 *
 * A driver's route visits stops: the pickup of an order at its restaurant and its drop at the
 * customer. A drop comes after its order's pickup (precedence); a drop whose pickup is not in the
 * list is an order already on board. Costs come as a matrix the caller filled from the routing
 * port (index 0 is where the driver is, 1..n the stops), so nothing here knows a formula.
 *
 *  - `nearestNeighbour`: from the driver, the nearest stop allowed next, until none is left.
 *  - `twoOpt`: reverses segments of a route while that shortens it and keeps precedence; it
 *    starts from the nearest neighbour route and only accepts improvements, so it is never worse.
 *  - `bruteForce`: every precedence-respecting order, pruned by the best so far (exact; N ≤ 8).
 *  - `improve`: 2-opt, then relocating single stops, repeated while either shortens the route.
 *  - `sequence`: exact for N ≤ `exactUpTo`, nearest neighbour + `improve` above.
 *  - `timeline` / `batchFits`: arrival times along a route with pickups waiting for the food, and
 *    whether a second order keeps every customer's arrival within the allowed delay.
 */

export interface Stop {
  orderId: string;
  kind: 'pickup' | 'drop';
}

/** cost[i][j]: seconds (or metres) from i to j; 0 is the driver's position, stop k is k + 1. */
export type CostMatrix = readonly (readonly number[])[];

/** A route: stop indexes (0-based into the stops array) in visiting order. */
export type Route = readonly number[];

/** Above this many stops the exact search is refused: 8! = 40,320 orders is the most we allow. */
export const MAX_EXACT_STOPS = 8;
/** Bound on 2-opt passes (each pass is O(n²) route evaluations). */
const MAX_TWO_OPT_PASSES = 50;

function pickupIndexes(stops: readonly Stop[]): Map<string, number> {
  const pickups = new Map<string, number>();
  stops.forEach((stop, index) => {
    if (stop.kind === 'pickup') pickups.set(stop.orderId, index);
  });
  return pickups;
}

/** Every stop once, and each drop after its order's pickup when the pickup is a stop. */
export function respectsPrecedence(route: Route, stops: readonly Stop[]): boolean {
  if (route.length !== stops.length || new Set(route).size !== stops.length) return false;
  const pickups = pickupIndexes(stops);
  const position = new Map<number, number>();
  route.forEach((stop, at) => position.set(stop, at));
  return stops.every((stop, index) => {
    if (stop.kind === 'pickup') return true;
    const pickup = pickups.get(stop.orderId);
    return pickup === undefined || position.get(pickup)! < position.get(index)!;
  });
}

export function routeCost(route: Route, cost: CostMatrix): number {
  let total = 0;
  let from = 0;
  for (const stop of route) {
    total += cost[from]![stop + 1]!;
    from = stop + 1;
  }
  return total;
}

function allowedNext(
  stop: number,
  stops: readonly Stop[],
  visited: ReadonlySet<number>,
  pickups: Map<string, number>,
) {
  const candidate = stops[stop]!;
  if (visited.has(stop)) return false;
  if (candidate.kind === 'pickup') return true;
  const pickup = pickups.get(candidate.orderId);
  return pickup === undefined || visited.has(pickup);
}

export function nearestNeighbour(stops: readonly Stop[], cost: CostMatrix): number[] {
  const pickups = pickupIndexes(stops);
  const visited = new Set<number>();
  const route: number[] = [];
  let from = 0;
  while (route.length < stops.length) {
    let best = -1;
    for (let stop = 0; stop < stops.length; stop++) {
      if (!allowedNext(stop, stops, visited, pickups)) continue;
      if (best === -1 || cost[from]![stop + 1]! < cost[from]![best + 1]!) best = stop;
    }
    // A drop always has its pickup earlier or absent, so some stop is always allowed.
    if (best === -1) throw new Error('no stop allowed next: the stops name a drop twice');
    visited.add(best);
    route.push(best);
    from = best + 1;
  }
  return route;
}

/** Reverses route[i..j] while that shortens the route and keeps precedence, up to a pass bound. */
export function twoOpt(start: Route, stops: readonly Stop[], cost: CostMatrix): number[] {
  let route = [...start];
  let best = routeCost(route, cost);
  for (let pass = 0; pass < MAX_TWO_OPT_PASSES; pass++) {
    let improved = false;
    for (let i = 0; i < route.length - 1; i++) {
      for (let j = i + 1; j < route.length; j++) {
        const candidate = [...route.slice(0, i), ...route.slice(i, j + 1).reverse(), ...route.slice(j + 1)];
        const length = routeCost(candidate, cost);
        // A strict improvement by more than rounding noise, so the loop always ends.
        if (length < best - 1e-9 && respectsPrecedence(candidate, stops)) {
          route = candidate;
          best = length;
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  return route;
}

/**
 * 2-opt, then relocation (or-opt of one stop: take a stop out and put it back elsewhere) while
 * either shortens the route and keeps precedence. Reversals alone cannot move a pickup ahead of a
 * drop without reversing the pair, which precedence forbids; relocation can.
 */
export function improve(start: Route, stops: readonly Stop[], cost: CostMatrix): number[] {
  let route = twoOpt(start, stops, cost);
  let best = routeCost(route, cost);
  for (let pass = 0; pass < MAX_TWO_OPT_PASSES; pass++) {
    let improved = false;
    for (let from = 0; from < route.length; from++) {
      for (let to = 0; to < route.length; to++) {
        if (to === from) continue;
        const rest = [...route.slice(0, from), ...route.slice(from + 1)];
        const candidate = [...rest.slice(0, to), route[from]!, ...rest.slice(to)];
        const length = routeCost(candidate, cost);
        if (length < best - 1e-9 && respectsPrecedence(candidate, stops)) {
          route = candidate;
          best = length;
          improved = true;
        }
      }
    }
    if (!improved) break;
    route = twoOpt(route, stops, cost);
    best = routeCost(route, cost);
  }
  return route;
}

/** The shortest precedence-respecting route, by depth-first search pruned by the best so far. */
export function bruteForce(stops: readonly Stop[], cost: CostMatrix): number[] {
  if (stops.length > MAX_EXACT_STOPS)
    throw new RangeError(`exact sequencing is for at most ${MAX_EXACT_STOPS} stops`);
  const pickups = pickupIndexes(stops);
  const visited = new Set<number>();
  const route: number[] = [];
  let best: number[] = [];
  let bestCost = Infinity;
  const search = (from: number, spent: number) => {
    if (spent >= bestCost) return;
    if (route.length === stops.length) {
      best = [...route];
      bestCost = spent;
      return;
    }
    for (let stop = 0; stop < stops.length; stop++) {
      if (!allowedNext(stop, stops, visited, pickups)) continue;
      visited.add(stop);
      route.push(stop);
      search(stop + 1, spent + cost[from]![stop + 1]!);
      route.pop();
      visited.delete(stop);
    }
  };
  search(0, 0);
  return best;
}

export function sequence(stops: readonly Stop[], cost: CostMatrix, exactUpTo = 6): number[] {
  if (stops.length <= Math.min(exactUpTo, MAX_EXACT_STOPS)) return bruteForce(stops, cost);
  return improve(nearestNeighbour(stops, cost), stops, cost);
}

/**
 * When the driver reaches each stop (seconds from now), leaving a pickup no earlier than its
 * order's food is ready (`readyInSeconds`, absent: ready now). `durations` is a CostMatrix in seconds.
 */
export function timeline(
  route: Route,
  stops: readonly Stop[],
  durations: CostMatrix,
  readyInSeconds: ReadonlyMap<string, number> = new Map(),
): { arrivals: number[]; dropAt: Map<string, number> } {
  const arrivals: number[] = [];
  const dropAt = new Map<string, number>();
  let clock = 0;
  let from = 0;
  for (const stop of route) {
    clock += durations[from]![stop + 1]!;
    arrivals.push(clock);
    const { orderId, kind } = stops[stop]!;
    if (kind === 'pickup') clock = Math.max(clock, readyInSeconds.get(orderId) ?? 0);
    else dropAt.set(orderId, clock);
    from = stop + 1;
  }
  return { arrivals, dropAt };
}

export interface BatchVerdict {
  fits: boolean;
  route: number[];
  /** Seconds each customer waits more than on their order's own route. */
  delays: Map<string, number>;
}

/**
 * Whether a driver already on a route can take another order: the route through every stop is
 * sequenced again, and each order's drop may come at most `maxDelaySeconds` later than on its
 * own route (`soloDropAt`: the current route's arrival for orders already held, the direct
 * restaurant → customer arrival for the new one).
 */
export function batchFits(
  stops: readonly Stop[],
  durations: CostMatrix,
  readyInSeconds: ReadonlyMap<string, number>,
  soloDropAt: ReadonlyMap<string, number>,
  maxDelaySeconds: number,
  exactUpTo = 6,
): BatchVerdict {
  const route = sequence(stops, durations, exactUpTo);
  const { dropAt } = timeline(route, stops, durations, readyInSeconds);
  const delays = new Map<string, number>();
  let fits = true;
  for (const [orderId, solo] of soloDropAt) {
    const delay = Math.max(0, (dropAt.get(orderId) ?? Infinity) - solo);
    delays.set(orderId, delay);
    if (delay > maxDelaySeconds) fits = false;
  }
  return { fits, route, delays };
}
