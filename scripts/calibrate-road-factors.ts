/**
 * Road factors per city from recorded trails (issue #20; docs/dispatch.md "Road factors
 * calibrated"). Reads the trails of delivered orders (`order_driver_trails` joined to
 * `orders_view`, DELIVERED or COMPLETED) and prints, per city, the median of each trail's length
 * over the straight line between its ends, with the ROUTING_ROAD_FACTOR_* lines to set.
 *
 *   DATABASE_URL=postgres://… npx tsx scripts/calibrate-road-factors.ts [--since 2026-11-01] [--out file.json]
 *   npx tsx scripts/calibrate-road-factors.ts --synthetic [--seed 7] [--out file.json]
 *
 * `--synthetic` generates trails instead (the demo has no real ones): street grids at random
 * angles, a share of trips detouring around a river or a hill, GPS noise and a fix every 4 s. Its
 * output describes the generator's assumptions, not Douala's or Yaoundé's roads: it shows the
 * procedure and must never be taken as a calibration.
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { calibrateRoadFactors, type CalibrationCity } from '../src/modules/dispatch/road-calibration.js';
import type { GeoPoint } from '../src/modules/dispatch/geo.js';

const CITIES: CalibrationCity[] = [
  { name: 'Douala', latitude: 4.0511, longitude: 9.7679, radiusKm: 30 },
  { name: 'Yaoundé', latitude: 3.848, longitude: 11.5021, radiusKm: 30 },
];
const ENV_OF: Record<string, string> = {
  Douala: 'ROUTING_ROAD_FACTOR_DOUALA',
  Yaoundé: 'ROUTING_ROAD_FACTOR_YAOUNDE',
  elsewhere: 'ROUTING_ROAD_FACTOR_DEFAULT',
};
/** At most this many trail points are read (about 4,000 trails of 500 points). */
const MAX_POINTS = 2_000_000;

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function recordedTrails(since: Date): Promise<GeoPoint[][]> {
  const url = process.env.DATABASE_URL;
  if (url === undefined) throw new Error('DATABASE_URL is not set (or pass --synthetic)');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ order_id: string; latitude: number; longitude: number }>(
      `SELECT t.order_id, t.latitude, t.longitude FROM order_driver_trails t
         JOIN orders_view o ON o.order_id = t.order_id
        WHERE o.status IN ('DELIVERED', 'COMPLETED') AND o.delivered_at >= $1
        ORDER BY t.order_id, t.seq LIMIT $2`,
      [since, MAX_POINTS],
    );
    const trails = new Map<string, GeoPoint[]>();
    for (const row of rows) {
      let trail = trails.get(row.order_id);
      if (trail === undefined) trails.set(row.order_id, (trail = []));
      trail.push({ latitude: row.latitude, longitude: row.longitude });
    }
    return [...trails.values()];
  } finally {
    await client.end();
  }
}

/** A small seeded generator (mulberry32): the same seed, the same synthetic trails. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const METERS_PER_DEGREE = 111_320;

/**
 * Synthetic trails around a centre: each trip 1-6 km, on a street grid turned by a random angle
 * (staircase blocks of 80-250 m), detouring with probability `detour` through a point off the line
 * (a bridge, a hill), sampled every ~25 m (4 s at 22 km/h) with 6 m of GPS noise.
 */
function syntheticTrails(centre: GeoPoint, count: number, detour: number, next: () => number): GeoPoint[][] {
  const gaussian = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const toPoint = (x: number, y: number): GeoPoint => ({
    latitude: centre.latitude + (y + gaussian() * 6) / METERS_PER_DEGREE,
    longitude:
      centre.longitude +
      (x + gaussian() * 6) / (METERS_PER_DEGREE * Math.cos((centre.latitude * Math.PI) / 180)),
  });
  const trails: GeoPoint[][] = [];
  for (let trip = 0; trip < count; trip += 1) {
    const angle = next() * Math.PI * 2;
    const startRadius = next() * 8_000;
    const start = { x: Math.cos(angle) * startRadius, y: Math.sin(angle) * startRadius };
    const heading = next() * Math.PI * 2;
    const length = 1_000 + next() * 5_000;
    const end = { x: start.x + Math.cos(heading) * length, y: start.y + Math.sin(heading) * length };
    const corners = [start];
    if (next() < detour) {
      const off = (next() - 0.5) * 0.8 * length;
      corners.push({
        x: (start.x + end.x) / 2 - Math.sin(heading) * off,
        y: (start.y + end.y) / 2 + Math.cos(heading) * off,
      });
    }
    corners.push(end);
    const grid = next() * (Math.PI / 2);
    const [u, v] = [
      { x: Math.cos(grid), y: Math.sin(grid) },
      { x: -Math.sin(grid), y: Math.cos(grid) },
    ];
    const path: { x: number; y: number }[] = [start];
    for (let leg = 1; leg < corners.length; leg += 1) {
      const from = path[path.length - 1]!;
      const to = corners[leg]!;
      // Along the grid's two axes in blocks, alternating: a staircase.
      let remainingU = (to.x - from.x) * u.x + (to.y - from.y) * u.y;
      let remainingV = (to.x - from.x) * v.x + (to.y - from.y) * v.y;
      let along = next() < 0.5;
      let at = { ...from };
      while (Math.abs(remainingU) > 1 || Math.abs(remainingV) > 1) {
        const block = 80 + next() * 170;
        const axis = along ? u : v;
        const remaining = along ? remainingU : remainingV;
        const step = Math.sign(remaining) * Math.min(Math.abs(remaining), block);
        at = { x: at.x + axis.x * step, y: at.y + axis.y * step };
        path.push(at);
        if (along) remainingU -= step;
        else remainingV -= step;
        along = !along;
      }
    }
    const points: GeoPoint[] = [];
    for (let index = 1; index < path.length; index += 1) {
      const a = path[index - 1]!;
      const b = path[index]!;
      const steps = Math.max(1, Math.round(Math.hypot(b.x - a.x, b.y - a.y) / 25));
      for (let step = 0; step < steps; step += 1)
        points.push(toPoint(a.x + ((b.x - a.x) * step) / steps, a.y + ((b.y - a.y) * step) / steps));
    }
    points.push(toPoint(end.x, end.y));
    trails.push(points);
  }
  return trails;
}

const synthetic = process.argv.includes('--synthetic');
const seed = Number(argument('seed') ?? 7);
const since = new Date(argument('since') ?? Date.now() - 90 * 86_400_000);
let trails: GeoPoint[][];
let source: string;
if (synthetic) {
  const next = random(seed);
  trails = [
    ...syntheticTrails(CITIES[0]!, 400, 0.35, next),
    ...syntheticTrails(CITIES[1]!, 400, 0.45, next),
    ...syntheticTrails({ latitude: 5.9631, longitude: 10.1591 }, 100, 0.3, next), // Bamenda
  ];
  source = `SYNTHETIC trails (scripts/calibrate-road-factors.ts --synthetic --seed ${seed}): street grids at random angles, detour share 0.35 Douala, 0.45 Yaoundé, 0.30 elsewhere; not measured roads`;
} else {
  trails = await recordedTrails(since);
  source = `order_driver_trails of orders delivered since ${since.toISOString()}`;
}
const cities = calibrateRoadFactors(trails, CITIES);
const result = {
  source,
  synthetic,
  computedAt: new Date().toISOString(),
  trails: trails.length,
  cities,
  env: cities
    .filter((city) => city.suggested !== null)
    .map((city) => `${ENV_OF[city.city]}=${city.suggested!.toFixed(2)}`),
};
const out = argument('out');
if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
