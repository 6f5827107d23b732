import { describe, expect, it } from 'vitest';
import {
  boundedMinutes,
  isPeakHour,
  KitchenStats,
  OPEN_WINDOW_MS,
  PREPARATION_FEATURE_COUNT,
  PREPARATION_FEATURE_NAMES,
  preparationFeatures,
} from './preparation.js';

const MINUTE = 60_000;
/** Wednesday 10 June 2026, 12:30 in Douala (11:30 UTC): lunch, the rush, a weekday. */
const NOON = Date.UTC(2026, 5, 10, 11, 30);

const feature = (row: Float32Array, name: (typeof PREPARATION_FEATURE_NAMES)[number]) =>
  row[PREPARATION_FEATURE_NAMES.indexOf(name)]!;

describe('preparation features', () => {
  it('counts as load only orders placed before now, not ready, not ended, within the window', () => {
    const stats = new KitchenStats();
    const order = (id: string, placedAt: number, readyAt: number | null, closedAt: number | null = null) =>
      stats.addRecent({ orderId: id, restaurantId: 'r', placedAt, readyAt, closedAt });
    order('cooking', NOON - 20 * MINUTE, null);
    order('ready later', NOON - 50 * MINUTE, NOON + 5 * MINUTE);
    order('ready already', NOON - 40 * MINUTE, NOON - MINUTE);
    order('cancelled', NOON - 10 * MINUTE, null, NOON - 5 * MINUTE);
    order('forgotten', NOON - OPEN_WINDOW_MS - MINUTE, null);
    order('after now', NOON + MINUTE, null);
    stats.addRecent({
      orderId: 'elsewhere',
      restaurantId: 'other',
      placedAt: NOON - MINUTE,
      readyAt: null,
      closedAt: null,
    });
    expect(stats.loadAt('r', NOON)).toEqual({ open: 2, lastHour: 4 });
    stats.prune('r', NOON - 30 * MINUTE);
    expect(stats.loadAt('r', NOON)).toEqual({ open: 1, lastHour: 2 });
  });

  it('shrinks a restaurant’s mean towards its stated time while its history is short', () => {
    const stats = new KitchenStats();
    expect(stats.meanMinutes('r', 20)).toEqual({ mean: 20, count: 0 });
    stats.addCompleted('r', 5 * 40, 5); // five orders of 40 minutes
    expect(stats.meanMinutes('r', 20)).toEqual({ mean: 30, count: 5 });
    stats.addCompleted('r', 90 * 40, 90);
    expect(stats.meanMinutes('r', 20).mean).toBeCloseTo(39, 0);
  });

  it('writes every feature of a query in order', () => {
    const stats = new KitchenStats();
    stats.addCompleted('r', 10 * 30, 10);
    stats.addRecent({
      orderId: 'a',
      restaurantId: 'r',
      placedAt: NOON - 10 * MINUTE,
      readyAt: null,
      closedAt: null,
    });
    const row = preparationFeatures(stats, {
      restaurantId: 'r',
      statedMinutes: 30,
      items: 3,
      at: NOON,
      rain: false,
    });
    expect(row).toHaveLength(PREPARATION_FEATURE_COUNT);
    expect(feature(row, 'stated_minutes')).toBe(30);
    expect(feature(row, 'restaurant_mean_minutes')).toBe(30);
    expect(feature(row, 'restaurant_history_log')).toBeCloseTo(Math.log(11), 5);
    expect(feature(row, 'open_x_mean')).toBe(1);
    expect(feature(row, 'last_hour_x_mean')).toBe(1);
    expect(feature(row, 'items')).toBe(3);
    expect(feature(row, 'peak_hour')).toBe(1);
    expect(feature(row, 'slot_lunch')).toBe(1);
    expect(feature(row, 'slot_dinner')).toBe(0);
    expect(feature(row, 'weekend')).toBe(0);
    expect(feature(row, 'rain')).toBe(0);
    const wet = preparationFeatures(stats, {
      restaurantId: 'r',
      statedMinutes: 30,
      items: 3,
      at: NOON,
      rain: true,
    });
    expect(feature(wet, 'rain')).toBe(1);
    // Only the weather differs.
    expect(Array.from(wet).filter((value, index) => value !== row[index])).toEqual([1]);
    // Out-of-range input is clamped, never NaN.
    const odd = preparationFeatures(stats, {
      restaurantId: 'new',
      statedMinutes: 10_000,
      items: 0,
      at: NOON,
      rain: false,
    });
    expect(Array.from(odd).every(Number.isFinite)).toBe(true);
    expect(feature(odd, 'stated_minutes')).toBe(240);
    expect(feature(odd, 'items')).toBe(1);
  });

  it('knows the rush hours and bounds predictions', () => {
    expect(isPeakHour(NOON)).toBe(true);
    expect(isPeakHour(NOON + 2 * 3_600_000)).toBe(false);
    expect(boundedMinutes(-3)).toBe(1);
    expect(boundedMinutes(Number.NaN)).toBe(1);
    expect(boundedMinutes(17.4)).toBe(17);
    expect(boundedMinutes(1e9)).toBe(240);
  });
});
