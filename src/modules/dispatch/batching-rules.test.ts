import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchFits,
  bruteForce,
  improve,
  nearestNeighbour,
  respectsPrecedence,
  routeCost,
  sequence,
  timeline,
  twoOpt,
  type CostMatrix,
  type Stop,
} from './batching-rules.js';

/** A symmetric Euclidean matrix over points (index 0: the driver). */
function matrixOf(points: readonly [number, number][]): number[][] {
  return points.map(([ax, ay]) => points.map(([bx, by]) => Math.hypot(ax - bx, ay - by)));
}

/** n orders, each a pickup and a drop, optionally one order already on board (drop only). */
const batches = fc
  .record({
    orders: fc.integer({ min: 1, max: 3 }),
    onBoard: fc.boolean(),
    seed: fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 })), {
      minLength: 8,
      maxLength: 8,
    }),
  })
  .map(({ orders, onBoard, seed }) => {
    const stops: Stop[] = [];
    for (let order = 0; order < orders; order++) {
      if (!(onBoard && order === 0)) stops.push({ orderId: `o${order}`, kind: 'pickup' });
      stops.push({ orderId: `o${order}`, kind: 'drop' });
    }
    const points = seed.slice(0, stops.length + 1) as [number, number][];
    return { stops, cost: matrixOf(points) };
  });

describe('route sequencing', () => {
  it('given a pickup nearer after its drop, when sequenced, then the pickup still comes first', () => {
    // driver at 0; the drop of A is next to the driver, A's pickup far away.
    const stops: Stop[] = [
      { orderId: 'A', kind: 'drop' },
      { orderId: 'A', kind: 'pickup' },
    ];
    const cost = matrixOf([
      [0, 0],
      [1, 0],
      [10, 0],
    ]);
    for (const route of [nearestNeighbour(stops, cost), bruteForce(stops, cost), sequence(stops, cost)])
      expect(route).toEqual([1, 0]);
  });

  it('given an order on board (its drop only), when sequenced, then its drop may come first', () => {
    const stops: Stop[] = [
      { orderId: 'held', kind: 'drop' },
      { orderId: 'new', kind: 'pickup' },
      { orderId: 'new', kind: 'drop' },
    ];
    const cost = matrixOf([
      [0, 0],
      [1, 0],
      [5, 0],
      [6, 0],
    ]);
    expect(bruteForce(stops, cost)).toEqual([0, 1, 2]);
    expect(routeCost([0, 1, 2], cost)).toBe(6);
  });

  it('given crossing legs, when improved by 2-opt, then the crossing is removed', () => {
    // Four pickups-only stops on a square visited crosswise by a bad start.
    const stops: Stop[] = ['a', 'b', 'c', 'd'].map((orderId) => ({ orderId, kind: 'pickup' }));
    const cost = matrixOf([
      [0, 0],
      [0, 1],
      [1, 1],
      [1, 0],
      [0.5, -1],
    ]);
    const crossed = [0, 2, 1, 3];
    const improved = twoOpt(crossed, stops, cost);
    expect(routeCost(improved, cost)).toBeLessThan(routeCost(crossed, cost));
  });

  it('property: precedence always holds for nearest neighbour, 2-opt and brute force', () => {
    fc.assert(
      fc.property(batches, ({ stops, cost }) => {
        const greedy = nearestNeighbour(stops, cost);
        expect(respectsPrecedence(greedy, stops)).toBe(true);
        expect(respectsPrecedence(twoOpt(greedy, stops, cost), stops)).toBe(true);
        expect(respectsPrecedence(improve(greedy, stops, cost), stops)).toBe(true);
        expect(respectsPrecedence(bruteForce(stops, cost), stops)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('property: 2-opt is never worse than nearest neighbour, and never better than the exact route', () => {
    fc.assert(
      fc.property(batches, ({ stops, cost }) => {
        const greedy = nearestNeighbour(stops, cost);
        const improved = twoOpt(greedy, stops, cost);
        const exact = bruteForce(stops, cost);
        expect(routeCost(improved, cost)).toBeLessThanOrEqual(routeCost(greedy, cost) + 1e-9);
        expect(routeCost(exact, cost)).toBeLessThanOrEqual(routeCost(improved, cost) + 1e-9);
        // relocation on top of 2-opt: never worse than 2-opt, never better than exact
        const relocated = routeCost(improve(greedy, stops, cost), cost);
        expect(relocated).toBeLessThanOrEqual(routeCost(improved, cost) + 1e-9);
        expect(routeCost(exact, cost)).toBeLessThanOrEqual(relocated + 1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an exact search over more than 8 stops', () => {
    const stops: Stop[] = Array.from({ length: 9 }, (_, index) => ({ orderId: `o${index}`, kind: 'pickup' }));
    const cost = matrixOf(Array.from({ length: 10 }, (_, index) => [index, 0] as [number, number]));
    expect(() => bruteForce(stops, cost)).toThrow(RangeError);
    // sequence falls back to the heuristic above its exact limit
    expect(respectsPrecedence(sequence(stops, cost, 6), stops)).toBe(true);
  });
});

describe('timeline and batching', () => {
  const stops: Stop[] = [
    { orderId: 'held', kind: 'drop' },
    { orderId: 'new', kind: 'pickup' },
    { orderId: 'new', kind: 'drop' },
  ];
  // seconds between the driver (0) and the stops, one line: driver 0, held drop 60, restaurant 120, new drop 300
  const at = [0, 60, 120, 300];
  const durations: CostMatrix = at.map((a) => at.map((b) => Math.abs(a - b)));

  it('given food not ready, when the route is timed, then the driver waits at the pickup', () => {
    const { dropAt } = timeline([0, 1, 2], stops, durations, new Map([['new', 500]]));
    expect(dropAt.get('held')).toBe(60);
    expect(dropAt.get('new')).toBe(500 + 180);
  });

  it('given a second order on the way, when both customers stay within the limit, then it fits', () => {
    const verdict = batchFits(
      stops,
      durations,
      new Map([['new', 0]]),
      new Map([
        ['held', 60],
        ['new', 300],
      ]),
      300,
    );
    expect(verdict.fits).toBe(true);
    expect(verdict.delays.get('held')).toBe(0);
  });

  it('given a detour that delays the held order beyond the limit, then it does not fit', () => {
    // The new restaurant is the other way: the held customer would wait 2 × 200 s more.
    const far = [0, 60, -200, -250];
    const detour: CostMatrix = far.map((a) => far.map((b) => Math.abs(a - b)));
    const verdict = batchFits(
      stops,
      detour,
      new Map([['new', 0]]),
      new Map([
        ['held', 60],
        ['new', 50],
      ]),
      120,
    );
    expect(verdict.fits).toBe(false);
  });
});
