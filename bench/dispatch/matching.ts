/**
 * The matching and route-quality parts of the dispatch benchmark (bench/dispatch/run.ts).
 *
 *  - Matching: DRIVERS online drivers spread over ~20 × 20 km of Douala (shift rows + the
 *    location index), then ORDERS dispatches opened one after another, each through the real
 *    path: the DispatchOpened event, the nearest candidates from the index, their shifts, travel
 *    through the routing port, ratings, acceptance counts, carried orders, the score, the offer
 *    row (driver lock), the DriverOffered append and its publication. Measured per order: the
 *    time to choose and offer (exact percentiles), and orders matched per second. The order
 *    lookup (orders' stream) is the one step left out: the facts are given (`openWith`).
 *  - Route quality: random batches of 2 to 6 stops (pickups before their drops, an order on
 *    board sometimes), durations from the routing port; nearest neighbour + 2-opt against the
 *    exact brute force: the mean and worst excess, and how often 2-opt found the optimum.
 */
import { randomUUID } from 'node:crypto';
import type { Services } from '../../src/services.js';
import { startProfile } from '../lib/profile.js';
import {
  bruteForce,
  improve,
  nearestNeighbour,
  routeCost,
  twoOpt,
  type Stop,
} from '../../src/modules/dispatch/batching-rules.js';

const DOUALA = { latitude: 4.0511, longitude: 9.7679 };
const spread = () => ({
  latitude: DOUALA.latitude + (Math.random() - 0.5) * 0.18,
  longitude: DOUALA.longitude + (Math.random() - 0.5) * 0.18,
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round2 = (value: number) => Math.round(value * 100) / 100;

export async function benchMatching(services: Services, drivers: number, orders: number) {
  const { dispatch } = services;
  const batch = 100;
  for (let start = 0; start < drivers; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, drivers - start) }, async () => {
        const driverId = randomUUID();
        await dispatch.onboarding.seedApproved(driverId, 'motorbike'); // only approved drivers go on shift
        await dispatch.setAvailability(driverId, { online: true, vehicle: 'motorbike' });
        await dispatch.index.update(driverId, spread());
      }),
    );
  }
  const timings: number[] = [];
  const outcomes = new Map<string, number>();
  const profile = await startProfile('dispatch-matching');
  const began = performance.now();
  for (let index = 0; index < orders; index += 1) {
    const pickup = spread();
    const opened = {
      orderId: randomUUID(),
      restaurantId: randomUUID(),
      restaurantOwnerId: randomUUID(),
      customerId: randomUUID(),
      pickup,
      dropoff: { latitude: pickup.latitude + 0.01, longitude: pickup.longitude + 0.01 },
      readyAt: new Date(Date.now() + 15 * 60_000).toISOString(),
      itemCount: 3,
      deliveryMeters: 2_000,
      radiusKm: 3,
      at: new Date().toISOString(),
    };
    const started = performance.now();
    const status = await dispatch.offers.openWith(opened);
    timings.push(performance.now() - started);
    outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
  }
  const seconds = (performance.now() - began) / 1000;
  await profile?.stop();
  timings.sort((a, b) => a - b);
  return {
    target: `${orders} dispatches opened one after another, ${drivers} online drivers over ~20 × 20 km, each offered to its best candidate`,
    goal: 'p99 <= 20 ms to choose and offer for one order',
    chooseAndOfferP50Ms: round2(percentile(timings, 50)),
    chooseAndOfferP95Ms: round2(percentile(timings, 95)),
    chooseAndOfferP99Ms: round2(percentile(timings, 99)),
    chooseAndOfferMaxMs: round2(timings.at(-1) ?? 0),
    matchedPerSecond: Math.round(orders / seconds),
    outcomes: Object.fromEntries(outcomes),
    leftOut: "the order's own lookup (facts given to openWith)",
  };
}

export async function benchRouteQuality(services: Services, batches: number) {
  const routing = services.dispatch.routing;
  const byStops = new Map<number, { excess: number[]; optimal: number; relocated: number[] }>();
  for (let run = 0; run < batches; run += 1) {
    const orders = 1 + (run % 3);
    const onBoard = run % 2 === 0;
    const stops: Stop[] = [];
    for (let order = 0; order < orders; order += 1) {
      if (!(onBoard && order === 0)) stops.push({ orderId: `o${order}`, kind: 'pickup' });
      stops.push({ orderId: `o${order}`, kind: 'drop' });
    }
    const points = Array.from({ length: stops.length + 1 }, spread);
    const cost = await Promise.all(
      points.map((from) =>
        Promise.all(
          points.map(async (to) =>
            from === to ? 0 : (await routing.travel(from, to, 'motorbike')).durationSeconds,
          ),
        ),
      ),
    );
    const greedy = nearestNeighbour(stops, cost);
    const heuristic = routeCost(twoOpt(greedy, stops, cost), cost);
    const relocated = routeCost(improve(greedy, stops, cost), cost);
    const exact = routeCost(bruteForce(stops, cost), cost);
    const entry = byStops.get(stops.length) ?? { excess: [], optimal: 0, relocated: [] };
    entry.excess.push(exact === 0 ? 0 : (heuristic - exact) / exact);
    entry.relocated.push(exact === 0 ? 0 : (relocated - exact) / exact);
    if (heuristic - exact < 1e-9) entry.optimal += 1;
    byStops.set(stops.length, entry);
  }
  const all = [...byStops.values()].flatMap((entry) => entry.excess);
  const allRelocated = [...byStops.values()].flatMap((entry) => entry.relocated);
  const mean = (values: number[]) =>
    values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return {
    target: `${batches} random batches of 1 to 3 orders (2 to 6 stops), pickups before drops, durations from the routing port`,
    meanExcessPercent: round2(mean(all) * 100),
    worstExcessPercent: round2(Math.max(0, ...all) * 100),
    withRelocation: {
      what: '2-opt then single-stop relocation (what sequence() uses above the exact limit)',
      meanExcessPercent: round2(mean(allRelocated) * 100),
      worstExcessPercent: round2(Math.max(0, ...allRelocated) * 100),
    },
    byStops: Object.fromEntries(
      [...byStops.entries()]
        .sort(([a], [b]) => a - b)
        .map(([stops, entry]) => [
          stops,
          {
            batches: entry.excess.length,
            meanExcessPercent: round2(mean(entry.excess) * 100),
            optimalShare: round2(entry.optimal / entry.excess.length),
          },
        ]),
    ),
  };
}
