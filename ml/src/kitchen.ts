/**
 * The kitchens of the synthetic history (issue #24, preparation time): when each generated order
 * was ready for pickup. A separate seeded stream (`KITCHEN_PARAMS.seed`), so the order history the
 * ranker trains on is unchanged.
 *
 * Each restaurant has hidden traits the model never sees: how its real times compare with the
 * time it states (lognormal around 1), and how many orders it cooks at once (2–4 cooks). An
 * order is accepted after 1–5 minutes, waits for a free cook, and takes the stated time of its
 * dishes × the kitchen's factor × (1 + 12 % per extra dish) × 1.3 in the dining room's rush
 * (12–14 h, 19–21 h) × 1.1 at weekends × 1.25 on a rainy day (the city's rain that day, the
 * generator's: produce and staff arrive late, the charcoal grills struggle), with lognormal noise. 2 % are rejected or cancelled
 * before they are ready. Load therefore matters: an order placed behind others waits.
 */
import { seededRandom } from '../../src/modules/catalog/fixtures.js';
import { isWeekend } from '../../src/modules/recommendations/features.js';
import { isPeakHour, type KitchenOrder } from '../../src/modules/recommendations/preparation.js';
import { WeatherLog } from '../../src/modules/recommendations/weather/history.js';
import type { GeneratedHistory } from './generate.js';

export const KITCHEN_PARAMS = {
  seed: 2405,
  /** Spread (log-sd) of a kitchen's real/stated ratio around its mean. */
  speedSpread: 0.3,
  /** Mean of the real/stated ratio (kitchens tend to be slower than they say). */
  speedMean: 1.1,
  cooks: [2, 4] as [number, number],
  perExtraItem: 0.12,
  rush: 1.3,
  weekend: 1.1,
  /** A rainy day's slowdown (the generator's daily rain per city; no random draw, so the stream is unchanged). */
  rain: 1.25,
  noise: 0.18,
  acceptMinutes: [1, 5] as [number, number],
  closedShare: 0.02,
} as const;

export interface KitchenFact extends KitchenOrder {
  statedMinutes: number;
  items: number;
  rain: boolean;
}

const MINUTE = 60_000;

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The kitchen facts of every generated order, in the history's (time) order. */
export function simulateKitchens(history: GeneratedHistory): KitchenFact[] {
  const p = KITCHEN_PARAMS;
  const random = seededRandom(p.seed);
  // The feature: the weather recorded for the order's city and hour (the retrain reads the same
  // records); the kitchens' slowdown below is the world's own rain.
  const weather = new WeatherLog(history.weather);
  const prepOfItem = new Map<string, number>();
  const kitchens = new Map<string, { stated: number; speed: number; free: number[] }>();
  for (const restaurant of history.restaurants) {
    for (const item of restaurant.items) prepOfItem.set(item.id, item.prepTimeMinutes);
    const cooks = p.cooks[0] + Math.floor(random() * (p.cooks[1] - p.cooks[0] + 1));
    kitchens.set(restaurant.id, {
      stated: restaurant.prepTimeMinutes,
      speed: p.speedMean * Math.exp(normal(random) * p.speedSpread),
      free: Array.from({ length: cooks }, () => 0),
    });
  }
  return history.orders.map((order) => {
    const kitchen = kitchens.get(order.restaurantId)!;
    const stated = Math.max(kitchen.stated, ...order.lines.map((line) => prepOfItem.get(line.itemId) ?? 0));
    const items = order.lines.reduce((sum, line) => sum + line.quantity, 0);
    const accepted =
      order.at + (p.acceptMinutes[0] + random() * (p.acceptMinutes[1] - p.acceptMinutes[0])) * MINUTE;
    const noise = Math.exp(normal(random) * p.noise);
    const closedRoll = random();
    const fact = {
      orderId: order.orderId,
      restaurantId: order.restaurantId,
      placedAt: order.at,
      statedMinutes: stated,
      items,
      rain: weather.rainAt(order.location, order.at),
    };
    if (closedRoll < p.closedShare) return { ...fact, readyAt: null, closedAt: accepted };
    let cook = 0;
    for (let index = 1; index < kitchen.free.length; index += 1)
      if (kitchen.free[index]! < kitchen.free[cook]!) cook = index;
    const start = Math.max(accepted, kitchen.free[cook]!);
    const work =
      stated *
      kitchen.speed *
      (1 + p.perExtraItem * (items - 1)) *
      (isPeakHour(order.at) ? p.rush : 1) *
      (isWeekend(order.at) ? p.weekend : 1) *
      (order.rain ? p.rain : 1) *
      noise *
      MINUTE;
    const ready = Math.round(start + work);
    kitchen.free[cook] = ready;
    return { ...fact, readyAt: ready, closedAt: null };
  });
}
