/**
 * Demand-forecast features (issue #24, spec §9.3), shared by the trainer (`ml/train-demand.ts`) and
 * the server: orders per hour of the next day, for one restaurant or one delivery zone, from the
 * series' own past. Only days at least two days before the target are read, so a forecast for
 * tomorrow can be made at any time today from complete days, and the trainer's rows see no future.
 *
 * Hours and days are local (Africa/Douala, UTC+1): day 0 hour 0 is 1970-01-01 00:00 local.
 *
 * `rain` is the chance of rain on the target day where the series is (0–1). The trainer gives
 * the synthetic day's truth (0 or 1: a perfect forecast); the server gives what it knows without
 * waiting on a provider: for today, the weather service's cached reading (1 or 0), otherwise the
 * season's chance (`rainChance`). The model is linear, so a chance gives the expected forecast
 * between a dry and a rainy day.
 */
import { CELL_DEGREES } from './features.js';

const LOCAL_OFFSET_MS = 3_600_000;
const HOUR_MS = 3_600_000;

export const DEMAND_FEATURE_NAMES = [
  'lag_7d',
  'lag_14d',
  'same_hour_mean_7d',
  'daily_mean_7d',
  'profile_7d',
  'lag_7d_day_profile',
  'lag_14d_day_profile',
  'own_profile_14d',
  'weekend',
  'weekend_x_profile',
  'rain_change',
  'rain_change_x_profile',
] as const;
export const DEMAND_FEATURE_COUNT = DEMAND_FEATURE_NAMES.length;
/** The oldest day a forecast reads: 15 days before the target (the own profile's window T−15…T−2). */
export const DEMAND_HISTORY_DAYS = 16;
/** The shared hourly profile weighs like this many of the series' own orders. */
const OWN_PRIOR = 10;

/** A delivery zone: 3 × 3 location cells (0.06°, about 6.6 km square), named by its cell indices. */
export const ZONE_CELLS = 3;
export const ZONE_DEGREES = ZONE_CELLS * CELL_DEGREES;

export function zoneOfCell(cell: string | null): string | null {
  if (cell === null) return null;
  const match = /^(-?\d+):(-?\d+)$/.exec(cell);
  if (match === null) return null;
  return `${Math.floor(Number(match[1]) / ZONE_CELLS)}:${Math.floor(Number(match[2]) / ZONE_CELLS)}`;
}

/** The zone's south-west corner and size, for a map. */
export function zoneBounds(zone: string): { south: number; west: number; degrees: number } | null {
  const match = /^(-?\d+):(-?\d+)$/.exec(zone);
  if (match === null) return null;
  return {
    south: Number((Number(match[1]) * ZONE_DEGREES).toFixed(4)),
    west: Number((Number(match[2]) * ZONE_DEGREES).toFixed(4)),
    degrees: ZONE_DEGREES,
  };
}

export function localHourIndex(at: number): number {
  return Math.floor((at + LOCAL_OFFSET_MS) / HOUR_MS);
}

export function localDayIndex(at: number): number {
  return Math.floor(localHourIndex(at) / 24);
}

/** The UTC instant a local day starts. */
export function dayStart(day: number): number {
  return day * 24 * HOUR_MS - LOCAL_OFFSET_MS;
}

/** Orders per local hour of one series (a restaurant, a zone, or all of them). */
export class HourlySeries {
  readonly counts = new Map<number, number>();
  add(at: number, count = 1): void {
    const hour = localHourIndex(at);
    this.counts.set(hour, (this.counts.get(hour) ?? 0) + count);
  }
  at(day: number, hour: number): number {
    return this.counts.get(day * 24 + hour) ?? 0;
  }
  day(day: number): number {
    let sum = 0;
    for (let hour = 0; hour < 24; hour += 1) sum += this.at(day, hour);
    return sum;
  }
}

/**
 * The share of a day's orders in each hour, from all series together over the window T−8…T−2
 * (uniform when there were none).
 */
export function hourShares(total: HourlySeries, target: number): number[] {
  const shares = Array.from({ length: 24 }, () => 0);
  let sum = 0;
  for (let day = target - 8; day <= target - 2; day += 1)
    for (let hour = 0; hour < 24; hour += 1) {
      const count = total.at(day, hour);
      shares[hour]! += count;
      sum += count;
    }
  return shares.map((value) => (sum === 0 ? 1 / 24 : value / sum));
}

/** Is a local day a Saturday or Sunday (1970-01-01 was a Thursday). */
export function isWeekendDay(day: number): boolean {
  const weekday = (((day + 4) % 7) + 7) % 7;
  return weekday === 0 || weekday === 6;
}

/**
 * The weather of a forecast, as chances of rain (0–1) where the series is: on the target day, and
 * the mean over the days the means read (T−8…T−2). The model reads their difference: a rainy day
 * after a dry week brings more orders than the week's mean says, a rainy day in a rainy week does
 * not; when nothing is known beyond the season, the two chances are alike and the weather is silent.
 */
export interface DemandWeather {
  target: number;
  window: number;
}

/** The window the daily means read (T−8…T−2): `DemandWeather.window` is the mean rain over it. */
export const DEMAND_WINDOW_DAYS = { from: -8, to: -2 } as const;

/** The 24 rows (one per hour) of features for one series' target day, in `DEMAND_FEATURE_NAMES` order. */
export function demandFeatures(
  series: HourlySeries,
  shares: number[],
  target: number,
  weather: DemandWeather,
): Float32Array {
  const unit = (value: number) => (Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0);
  const change = unit(weather.target) - unit(weather.window);
  const rows = new Float32Array(24 * DEMAND_FEATURE_COUNT);
  let daily = 0;
  for (let day = target - 8; day <= target - 2; day += 1) daily += series.day(day);
  daily /= 7;
  const lag7Day = series.day(target - 7);
  const lag14Day = series.day(target - 14);
  const weekend = isWeekendDay(target) ? 1 : 0;
  // The series' own hours over T−15…T−2, smoothed towards the shared profile while it has few orders.
  const own = Array.from({ length: 24 }, () => 0);
  let ownTotal = 0;
  for (let day = target - 15; day <= target - 2; day += 1)
    for (let hour = 0; hour < 24; hour += 1) {
      const count = series.at(day, hour);
      own[hour]! += count;
      ownTotal += count;
    }
  for (let hour = 0; hour < 24; hour += 1) {
    let sameHour = 0;
    for (let day = target - 8; day <= target - 2; day += 1) sameHour += series.at(day, hour);
    const share = shares[hour]!;
    const profile = daily * share;
    const row = [
      series.at(target - 7, hour),
      series.at(target - 14, hour),
      sameHour / 7,
      daily,
      profile,
      lag7Day * share,
      lag14Day * share,
      (daily * (own[hour]! + OWN_PRIOR * share)) / (ownTotal + OWN_PRIOR),
      weekend,
      weekend * profile,
      change,
      change * profile,
    ];
    rows.set(row, hour * DEMAND_FEATURE_COUNT);
  }
  return rows;
}
