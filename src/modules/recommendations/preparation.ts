/**
 * Preparation-time features (issue #24, spec §5.2), shared by the trainer (`ml/train-preparation.ts`)
 * and the server, so that the model sees the same numbers offline and online.
 *
 * The prediction is the minutes from an order's placement (payment captured) to "ready for
 * pickup", from the restaurant's **current load** (its orders in the kitchen now, and those placed
 * in the last hour), its **history** (the mean of its past preparation times, shrunk towards the
 * time it states while it has few), the order's size and the time of day. No feature names a
 * restaurant: a model trained on the synthetic history serves any restaurant.
 *
 * `KitchenStats` is read at one instant. The trainer adds an order's completion to the history
 * only once its ready time has passed and counts it as load only while it is open, so no row sees
 * its future; the server rebuilds it at each refresh from the projection (`reco_orders`).
 *
 * `rain` is the weather at the restaurant when the order is placed (the weather service's cached
 * reading, never waited for; the season's bucket without one): a rainy day is slower in the
 * kitchen (the synthetic kitchens' `rain` factor, ml/src/kitchen.ts) beyond the load it brings.
 */
import { isWeekend, localTime, SLOTS, slotOf } from './features.js';

export const PREPARATION_FEATURE_NAMES = [
  'stated_minutes',
  'restaurant_mean_minutes',
  'restaurant_history_log',
  'open_x_mean',
  'last_hour_x_mean',
  'items',
  'peak_hour',
  ...SLOTS.map((slot) => `slot_${slot}`),
  'weekend',
  'rain',
] as const;
export const PREPARATION_FEATURE_COUNT = PREPARATION_FEATURE_NAMES.length;

/** An order still counts as load this long after placement at most (a forgotten order is no load). */
export const OPEN_WINDOW_MS = 3 * 3_600_000;
/** The restaurant's stated time weighs like this many past orders in its mean. */
const PRIOR_ORDERS = 5;
/** Predictions are kept within these bounds (minutes). */
export const PREPARATION_MIN_MINUTES = 1;
export const PREPARATION_MAX_MINUTES = 240;

/** An order as the kitchen sees it: when it was placed, and when it was ready or ended. */
export interface KitchenOrder {
  orderId: string;
  restaurantId: string;
  placedAt: number;
  /** Ready for pickup (epoch ms), or null while it is not (yet). */
  readyAt: number | null;
  /** Rejected or cancelled before it was ready, or null. */
  closedAt: number | null;
}

/** What is asked: this restaurant, this order, now. */
export interface PreparationQuery {
  restaurantId: string;
  /** The time the restaurant states (the max of its own and its dishes'), minutes. */
  statedMinutes: number;
  /** Dishes in the order (sum of quantities). */
  items: number;
  at: number;
  /** Rain at the restaurant at `at` (the weather service's reading, or the season's bucket). */
  rain: boolean;
}

interface RestaurantHistory {
  count: number;
  sumMinutes: number;
}

export class KitchenStats {
  private readonly history = new Map<string, RestaurantHistory>();
  private readonly recent = new Map<string, KitchenOrder[]>();

  /** A past preparation: `minutes` from placement to ready. */
  addCompleted(restaurantId: string, minutes: number, count = 1): void {
    const entry = this.history.get(restaurantId) ?? { count: 0, sumMinutes: 0 };
    entry.count += count;
    entry.sumMinutes += minutes;
    this.history.set(restaurantId, entry);
  }

  /** An order that may be in the kitchen (placed within `OPEN_WINDOW_MS` of the reads). */
  addRecent(order: KitchenOrder): void {
    const list = this.recent.get(order.restaurantId) ?? [];
    list.push(order);
    this.recent.set(order.restaurantId, list);
  }

  /** Forgets recent orders placed before `before` (the trainer's replay keeps the lists short). */
  prune(restaurantId: string, before: number): void {
    const list = this.recent.get(restaurantId);
    if (list === undefined || list.every((order) => order.placedAt >= before)) return;
    this.recent.set(
      restaurantId,
      list.filter((order) => order.placedAt >= before),
    );
  }

  meanMinutes(restaurantId: string, statedMinutes: number): { mean: number; count: number } {
    const entry = this.history.get(restaurantId);
    const count = entry?.count ?? 0;
    const sum = entry?.sumMinutes ?? 0;
    return { mean: (sum + PRIOR_ORDERS * statedMinutes) / (count + PRIOR_ORDERS), count };
  }

  /** Orders in the kitchen at `at` (placed, not ready, not ended) and orders placed in the hour before. */
  loadAt(restaurantId: string, at: number): { open: number; lastHour: number } {
    let open = 0;
    let lastHour = 0;
    for (const order of this.recent.get(restaurantId) ?? []) {
      if (order.placedAt >= at || order.placedAt < at - OPEN_WINDOW_MS) continue;
      if (order.placedAt >= at - 3_600_000) lastHour += 1;
      const ready = order.readyAt === null || order.readyAt > at;
      const ended = order.closedAt !== null && order.closedAt <= at;
      if (ready && !ended) open += 1;
    }
    return { open, lastHour };
  }
}

/** Lunch 12–14 and dinner 19–21 (local time): the dining room's rush. */
export function isPeakHour(at: number): boolean {
  const { hour } = localTime(at);
  return (hour >= 12 && hour < 14) || (hour >= 19 && hour < 21);
}

/** The features of one query, in `PREPARATION_FEATURE_NAMES` order. */
export function preparationFeatures(stats: KitchenStats, query: PreparationQuery): Float32Array {
  const row = new Float32Array(PREPARATION_FEATURE_COUNT);
  const stated = Math.min(Math.max(query.statedMinutes, 1), PREPARATION_MAX_MINUTES);
  const { mean, count } = stats.meanMinutes(query.restaurantId, stated);
  const { open, lastHour } = stats.loadAt(query.restaurantId, query.at);
  const slot = slotOf(query.at);
  let index = 0;
  row[index++] = stated;
  row[index++] = mean;
  row[index++] = Math.log1p(count);
  // Load in units of the restaurant's own pace: an order waits behind others' minutes.
  row[index++] = (Math.min(open, 50) * mean) / 30;
  row[index++] = (Math.min(lastHour, 50) * mean) / 30;
  row[index++] = Math.min(Math.max(query.items, 1), 50);
  row[index++] = isPeakHour(query.at) ? 1 : 0;
  for (const name of SLOTS) row[index++] = name === slot ? 1 : 0;
  row[index++] = isWeekend(query.at) ? 1 : 0;
  row[index++] = query.rain ? 1 : 0;
  return row;
}

/** A model's answer kept within bounds, in whole minutes (what an order records). */
export function boundedMinutes(minutes: number): number {
  if (!Number.isFinite(minutes)) return PREPARATION_MIN_MINUTES;
  return Math.round(Math.min(Math.max(minutes, PREPARATION_MIN_MINUTES), PREPARATION_MAX_MINUTES));
}

/** A past order with what the model learns from: its stated time, size, weather and (if any) ready time. */
export interface PreparationFact extends KitchenOrder {
  statedMinutes: number;
  items: number;
  /** Rain when it was placed (the generator's day; the season's bucket for the retrain's history). */
  rain: boolean;
}

export interface PreparationRow {
  features: Float32Array;
  /** The truth: minutes from placement to ready. */
  minutes: number;
  at: number;
  statedMinutes: number;
  /** The baseline: the restaurant's plain mean so far (its stated time without history). */
  restaurantMean: number;
}

/**
 * Replays facts in placement order into `KitchenStats` (a completion joins the history once its
 * ready time has passed; an order is load while open) and returns the rows of the facts `include`
 * keeps that were ready, each with the features of the instant it was placed: no row sees its
 * future. The trainer and the retrain job both build their rows with it.
 */
export function preparationRows(
  facts: readonly PreparationFact[],
  include: (fact: PreparationFact) => boolean = () => true,
): PreparationRow[] {
  const completions = facts
    .filter((fact): fact is PreparationFact & { readyAt: number } => fact.readyAt !== null)
    .sort((a, b) => a.readyAt - b.readyAt);
  const stats = new KitchenStats();
  const plainMean = new Map<string, { count: number; sum: number }>();
  const rows: PreparationRow[] = [];
  let next = 0;
  for (const fact of facts) {
    while (next < completions.length && completions[next]!.readyAt <= fact.placedAt) {
      const done = completions[next]!;
      const minutes = (done.readyAt - done.placedAt) / 60_000;
      stats.addCompleted(done.restaurantId, minutes);
      const mean = plainMean.get(done.restaurantId) ?? { count: 0, sum: 0 };
      mean.count += 1;
      mean.sum += minutes;
      plainMean.set(done.restaurantId, mean);
      next += 1;
    }
    stats.prune(fact.restaurantId, fact.placedAt - OPEN_WINDOW_MS);
    if (fact.readyAt !== null && include(fact)) {
      const mean = plainMean.get(fact.restaurantId);
      rows.push({
        features: preparationFeatures(stats, {
          restaurantId: fact.restaurantId,
          statedMinutes: fact.statedMinutes,
          items: fact.items,
          at: fact.placedAt,
          rain: fact.rain,
        }),
        minutes: (fact.readyAt - fact.placedAt) / 60_000,
        at: fact.placedAt,
        statedMinutes: fact.statedMinutes,
        restaurantMean: mean === undefined ? fact.statedMinutes : mean.sum / mean.count,
      });
    }
    stats.addRecent(fact);
  }
  return rows;
}

/** Rows packed row-major for a model. */
export function packRows(rows: readonly PreparationRow[]): Float32Array {
  const out = new Float32Array(rows.length * PREPARATION_FEATURE_COUNT);
  rows.forEach((row, index) => out.set(row.features, index * PREPARATION_FEATURE_COUNT));
  return out;
}

/** Mean absolute error of predictions against the rows' truth (minutes). */
export function meanAbsoluteError(rows: readonly PreparationRow[], predicted: ArrayLike<number>): number {
  let sum = 0;
  rows.forEach((row, index) => (sum += Math.abs(predicted[index]! - row.minutes)));
  return rows.length === 0 ? Number.NaN : sum / rows.length;
}
