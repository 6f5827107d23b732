/**
 * Whether a driver's position fix is used (pure): range and accuracy, its timestamp against the
 * server's clock, the rate per driver, and the speed it implies since the driver's last accepted
 * fix. Each refusal is a code of errors.ts; an impossible speed is `flagged` (recorded for fraud
 * review, counted, and not used) rather than merely refused.
 */
import { distanceMeters, isValidPoint, type GeoPoint } from './geo.js';

export const VEHICLES = ['motorbike', 'car', 'bicycle'] as const;
export type Vehicle = (typeof VEHICLES)[number];

export interface PositionFix extends GeoPoint {
  accuracyMeters: number;
  /** When the phone measured it (ms since the epoch). */
  recordedAt: number;
  heading?: number | undefined;
  speedKmh?: number | undefined;
}

/** The last accepted fix of a driver, as stored. */
export interface LastFix extends GeoPoint {
  recordedAt: number;
  /** When the server accepted it (ms): the rate limit counts from here. */
  acceptedAt: number;
}

export interface FixPolicy {
  maxAccuracyMeters: number;
  /**
   * The coarsest accuracy a fix may have to be used for matching (the index) and geofences; a
   * coarser fix (up to maxAccuracyMeters) is accepted, stored and shown, not used. Unset: maxAccuracyMeters.
   */
  usableAccuracyMeters?: number;
  maxAgeMs: number;
  minIntervalMs: number;
  maxSpeedKmh: Record<Vehicle, number>;
}

/** Clocks of phones drift: a fix up to this far ahead of ours is taken as now. */
export const CLOCK_SKEW_MS = 5_000;

export type FixVerdict =
  | { outcome: 'accepted' }
  | {
      outcome: 'refused';
      code:
        | 'location_invalid'
        | 'location_in_future'
        | 'location_too_old'
        | 'location_out_of_order'
        | 'location_too_frequent';
      message: string;
      retryAfterMs?: number;
    }
  | {
      outcome: 'flagged';
      code: 'location_impossible_speed';
      message: string;
      speedKmh: number;
      limitKmh: number;
    };

/**
 * Whether an accepted fix is precise enough to place the driver in the index of online drivers
 * (matching) and to mark an arrival at a geofence. A phone that reports 80 m of accuracy may be on
 * the other side of a block: showing it to the customer is fine, deciding on it is not.
 */
export function usableForDecisions(fix: Pick<PositionFix, 'accuracyMeters'>, policy: FixPolicy): boolean {
  return fix.accuracyMeters <= (policy.usableAccuracyMeters ?? policy.maxAccuracyMeters);
}

export function judgeFix(
  fix: PositionFix,
  last: LastFix | undefined,
  vehicle: Vehicle,
  policy: FixPolicy,
  nowMs: number,
): FixVerdict {
  if (!isValidPoint(fix))
    return {
      outcome: 'refused',
      code: 'location_invalid',
      message: 'Latitude is -85.05..85.05 (the area the index covers) and longitude -180..180.',
    };
  if (
    !Number.isFinite(fix.accuracyMeters) ||
    fix.accuracyMeters < 0 ||
    fix.accuracyMeters > policy.maxAccuracyMeters
  )
    return {
      outcome: 'refused',
      code: 'location_invalid',
      message: `The fix is too coarse: accuracy must be at most ${policy.maxAccuracyMeters} m.`,
    };
  if (!Number.isFinite(fix.recordedAt))
    return { outcome: 'refused', code: 'location_invalid', message: 'recordedAt is not a date.' };
  if (fix.recordedAt > nowMs + CLOCK_SKEW_MS)
    return { outcome: 'refused', code: 'location_in_future', message: 'recordedAt is later than now.' };
  if (fix.recordedAt < nowMs - policy.maxAgeMs)
    return {
      outcome: 'refused',
      code: 'location_too_old',
      message: `The fix is older than ${Math.round(policy.maxAgeMs / 1000)} s.`,
    };
  if (last === undefined) return { outcome: 'accepted' };
  const sinceAccepted = nowMs - last.acceptedAt;
  if (sinceAccepted < policy.minIntervalMs)
    return {
      outcome: 'refused',
      code: 'location_too_frequent',
      message: `At most one position every ${policy.minIntervalMs / 1000} s.`,
      retryAfterMs: policy.minIntervalMs - sinceAccepted,
    };
  if (fix.recordedAt <= last.recordedAt)
    return {
      outcome: 'refused',
      code: 'location_out_of_order',
      message: 'The fix is not later than the last one accepted.',
    };
  const hours = (fix.recordedAt - last.recordedAt) / 3_600_000;
  const speedKmh = distanceMeters(last, fix) / 1000 / hours;
  const limitKmh = policy.maxSpeedKmh[vehicle];
  if (speedKmh > limitKmh)
    return {
      outcome: 'flagged',
      code: 'location_impossible_speed',
      message: `The fix implies ${Math.round(speedKmh)} km/h since the last one (at most ${limitKmh} km/h for a ${vehicle}); it is not used.`,
      speedKmh,
      limitKmh,
    };
  return { outcome: 'accepted' };
}
