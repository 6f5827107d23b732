/**
 * Preparation-time predictions (issue #24, spec §5.2): orders' `PreparationPort`. At each refresh
 * the kitchen's state is read from the projection (`reco_orders`) into a fresh `KitchenStats`: each
 * restaurant's mean preparation time over the last `HISTORY_DAYS` (one aggregate query), and the
 * orders placed in the last three hours with their ready and end times (the load). A placement then
 * asks `estimate`, answered from memory (the features and one ONNX run, no query): the model's
 * minutes, or undefined while no model or no kitchen state is loaded (the stated time is kept).
 * The `rain` feature is the weather service's cached reading at the restaurant (never waited for:
 * a miss answers the season's bucket and fetches behind), or the season's bucket without a service.
 */
import { sql } from 'kysely';
import { seasonalRain } from './features.js';
import type { PreparationEstimate, PreparationPort } from '../orders/index.js';
import {
  boundedMinutes,
  KitchenStats,
  OPEN_WINDOW_MS,
  PREPARATION_MAX_MINUTES,
  preparationFeatures,
} from './preparation.js';
import type { RegressionModel, RegressionStatus } from './regression-model.js';
import { HISTORY_DAYS } from './service.js';
import type { RecommendationsDb } from './tables.js';
import type { WeatherService } from './weather/weather-service.js';

export interface PreparationService extends PreparationPort {
  /** Re-reads the kitchens' state and reloads a changed model. */
  refresh(): Promise<void>;
  status(): { model: RegressionStatus; restaurants: number; openOrders: number; refreshedAt: string | null };
}

export function createPreparation(options: {
  db: RecommendationsDb;
  model: RegressionModel;
  weather?: WeatherService;
  now?: () => Date;
}): PreparationService {
  const { db, model, weather } = options;
  const now = options.now ?? (() => new Date());
  let kitchen: KitchenStats | undefined;
  let restaurants = 0;
  let openOrders = 0;
  let refreshedAt: string | null = null;

  async function refresh(): Promise<void> {
    const at = now();
    const history = await db
      .selectFrom('reco_orders')
      .select([
        'restaurant_id',
        (eb) => eb.fn.countAll<string>().as('count'),
        sql<string>`sum(extract(epoch from ready_at - placed_at) / 60)`.as('minutes'),
      ])
      .where('ready_at', 'is not', null)
      .where('placed_at', '>=', new Date(at.getTime() - HISTORY_DAYS * 86_400_000))
      // A time beyond the model's bound is a forgotten order, not a kitchen's pace.
      .where(
        sql<boolean>`ready_at - placed_at between interval '0' and ${`${PREPARATION_MAX_MINUTES} minutes`}::interval`,
      )
      .groupBy('restaurant_id')
      .execute();
    const recent = await db
      .selectFrom('reco_orders')
      .select(['order_id', 'restaurant_id', 'placed_at', 'ready_at', 'closed_at'])
      .where('placed_at', '>=', new Date(at.getTime() - OPEN_WINDOW_MS))
      .orderBy('placed_at')
      .execute();
    const next = new KitchenStats();
    for (const row of history) next.addCompleted(row.restaurant_id, Number(row.minutes), Number(row.count));
    for (const row of recent) {
      next.addRecent({
        orderId: row.order_id,
        restaurantId: row.restaurant_id,
        placedAt: row.placed_at!.getTime(),
        readyAt: row.ready_at?.getTime() ?? null,
        closedAt: row.closed_at?.getTime() ?? null,
      });
    }
    kitchen = next;
    restaurants = history.length;
    openOrders = recent.filter((row) => row.ready_at === null && row.closed_at === null).length;
    await model.reloadIfChanged();
    refreshedAt = now().toISOString();
  }

  return {
    refresh,
    async estimate(query): Promise<PreparationEstimate | undefined> {
      const version = model.status().version;
      if (kitchen === undefined || !model.status().loaded || version === null) return undefined;
      const at = query.at.getTime();
      const place = query.place ?? null;
      const rain = weather === undefined ? seasonalRain(at, place) : weather.rainAt(place, at).rain;
      const row = preparationFeatures(kitchen, {
        restaurantId: query.restaurantId,
        statedMinutes: query.statedMinutes,
        items: query.items,
        at,
        rain,
      });
      const predicted = await model.predict(row, 1);
      if (predicted === undefined) return undefined;
      return { minutes: boundedMinutes(predicted[0]!), modelVersion: version };
    },
    status: () => ({ model: model.status(), restaurants, openOrders, refreshedAt }),
  };
}
