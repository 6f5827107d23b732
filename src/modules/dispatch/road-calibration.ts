/**
 * Road factors calibrated from recorded trails (issue #20), pure. The haversine routing adapter
 * multiplies the straight-line distance by a road factor per city (routing.ts). The data the system
 * has on real roads is the trail of each delivered order (`order_driver_trails`, the driver's
 * accepted fixes from pickup to delivery), so a trail's length against the straight line between
 * its first and last point is one measured road factor. Per city, the median of those (robust to
 * a driver's detour for fuel or a wrong turn) is the suggested factor. docs/dispatch.md "Road
 * factors calibrated" describes the procedure; scripts/calibrate-road-factors.ts runs it.
 */
import { distanceMeters, type GeoPoint } from './geo.js';

/** Trails shorter than this in a straight line say little about roads (and much about GPS noise). */
export const MIN_STRAIGHT_METERS = 500;
/** A trail needs this many points to follow the roads at all. */
export const MIN_POINTS = 5;
/** Fixes closer than this to the last kept one are GPS jitter of a stopped driver: skipped. */
export const JITTER_METERS = 15;
/** A ratio outside [1, 3] is a broken trail (gap, round trip), not a road: left out. */
export const RATIO_BOUNDS = [1, 3] as const;
/** A city needs this many usable trails before its factor is suggested. */
export const MIN_SAMPLES = 30;

export interface CalibrationCity extends GeoPoint {
  name: string;
  radiusKm: number;
}

/** One trail's road factor, or undefined when it cannot say (too short, too few points, broken). */
export function trailRatio(
  points: readonly GeoPoint[],
): { straightMeters: number; trailMeters: number; ratio: number } | undefined {
  if (points.length < MIN_POINTS) return undefined;
  let trailMeters = 0;
  let last = points[0]!;
  for (const point of points.slice(1)) {
    const step = distanceMeters(last, point);
    if (step < JITTER_METERS) continue;
    trailMeters += step;
    last = point;
  }
  trailMeters += distanceMeters(last, points[points.length - 1]!);
  const straightMeters = distanceMeters(points[0]!, points[points.length - 1]!);
  if (straightMeters < MIN_STRAIGHT_METERS) return undefined;
  const ratio = trailMeters / straightMeters;
  if (ratio < RATIO_BOUNDS[0] || ratio > RATIO_BOUNDS[1]) return undefined;
  return { straightMeters, trailMeters, ratio };
}

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

const round2 = (value: number) => Math.round(value * 100) / 100;

export interface CityCalibration {
  city: string;
  trails: number;
  usable: number;
  median: number | null;
  p25: number | null;
  p75: number | null;
  /** The median rounded to 0.01 when there are MIN_SAMPLES usable trails; else null (keep the estimate). */
  suggested: number | null;
}

/** Per city (by the trail's first point; `elsewhere` for the rest), the trails' road factors. */
export function calibrateRoadFactors(
  trails: readonly (readonly GeoPoint[])[],
  cities: readonly CalibrationCity[],
): CityCalibration[] {
  const names = [...cities.map((city) => city.name), 'elsewhere'];
  const ratios = new Map<string, number[]>(names.map((name) => [name, []]));
  const counts = new Map<string, number>(names.map((name) => [name, 0]));
  for (const trail of trails) {
    const start = trail[0];
    if (start === undefined) continue;
    const city = cities.find((candidate) => distanceMeters(start, candidate) <= candidate.radiusKm * 1000);
    const name = city?.name ?? 'elsewhere';
    counts.set(name, counts.get(name)! + 1);
    const measured = trailRatio(trail);
    if (measured !== undefined) ratios.get(name)!.push(measured.ratio);
  }
  return names.map((name) => {
    const sorted = ratios.get(name)!.sort((a, b) => a - b);
    const some = sorted.length > 0;
    return {
      city: name,
      trails: counts.get(name)!,
      usable: sorted.length,
      median: some ? round2(quantile(sorted, 0.5)) : null,
      p25: some ? round2(quantile(sorted, 0.25)) : null,
      p75: some ? round2(quantile(sorted, 0.75)) : null,
      suggested: sorted.length >= MIN_SAMPLES ? round2(quantile(sorted, 0.5)) : null,
    };
  });
}
