/**
 * The demand forecast (issue #24, spec §9.3): orders per hour of one local day, per restaurant or
 * per delivery zone, for dispatch staffing and admins. The history is one aggregate query over
 * `reco_orders` (placed orders per restaurant, cell and hour, days T−15…T, T itself only for the
 * actual counts), the features are `demand.ts`'s, the model `ml/model/demand.onnx`. Without a
 * model the seasonal-naive forecast (the same hour a week before) is served and said so. Answers
 * are kept `CACHE_MS` per (day, grouping).
 *
 * Weather (`DemandWeather`): for today, the weather service's cached reading at the series' place
 * (never waited for; a miss answers the season and fetches behind); for tomorrow, the provider's
 * chance of rain for the next day carried by that reading (Open-Meteo's daily precipitation
 * probability); else the season's chance of rain; the window's days always the season's (no record
 * of past readings is kept). A series'
 * place: a zone's centre, or the centre of one of a restaurant’s delivery cells.
 */
import { sql } from 'kysely';
import {
  dayStart,
  DEMAND_WINDOW_DAYS,
  type DemandWeather,
  DEMAND_FEATURE_COUNT,
  DEMAND_FEATURE_NAMES,
  demandFeatures,
  HourlySeries,
  hourShares,
  localDayIndex,
  zoneBounds,
  zoneOfCell,
} from './demand.js';
import { recommendationsErrors } from './errors.js';
import { cellCentre, rainChance } from './features.js';
import type { RegressionModel } from './regression-model.js';
import type { RecommendationsDb } from './tables.js';
import type { Place } from './weather/port.js';
import type { WeatherService } from './weather/weather-service.js';

export const FORECAST_CACHE_MS = 5 * 60_000;
/** The oldest day a forecast may be asked for (to compare it with what happened). */
export const FORECAST_PAST_DAYS = 60;
export const FORECAST_SERIES_MAX = 500;

export type DemandGrouping = 'restaurant' | 'zone';

export interface DemandSeries {
  restaurantId: string | null;
  zone: string | null;
  bounds: { south: number; west: number; degrees: number } | null;
  forecast: number[];
  forecastTotal: number;
  /** What happened, for a day that has begun; null for tomorrow. */
  actual: number[] | null;
}

export interface DemandForecast {
  date: string;
  by: DemandGrouping;
  source: 'model' | 'seasonal_naive';
  modelVersion: string | null;
  generatedAt: string;
  total: { forecast: number[]; actual: number[] | null };
  series: DemandSeries[];
}

const round = (value: number) => Number(Math.max(0, value).toFixed(2));

function isoDay(day: number): string {
  return new Date(dayStart(day) + 3_600_000).toISOString().slice(0, 10);
}

export function createDemandForecasts(options: {
  db: RecommendationsDb;
  model: RegressionModel;
  weather?: WeatherService;
  now?: () => Date;
}) {
  const { db, model, weather } = options;

  /** The weather features of a series at `place` for the target day (see the header). */
  function weatherOf(place: Place | null, target: number, today: number): DemandWeather {
    const season = (day: number) => rainChance(dayStart(day) + 12 * 3_600_000, place);
    let window = 0;
    for (let day = target + DEMAND_WINDOW_DAYS.from; day <= target + DEMAND_WINDOW_DAYS.to; day += 1)
      window += season(day);
    window /= DEMAND_WINDOW_DAYS.to - DEMAND_WINDOW_DAYS.from + 1;
    let chance = season(target);
    if (target === today && weather !== undefined && place !== null) {
      const reading = weather.rainAt(place, now().getTime());
      if (reading.source !== 'season') chance = reading.rain ? 1 : 0;
    }
    // Tomorrow: the provider's chance of rain for the next day, when its reading carried one.
    if (target === today + 1 && weather !== undefined) chance = weather.tomorrowRainChance(place) ?? chance;
    return { target: chance, window };
  }
  const now = options.now ?? (() => new Date());
  const cache = new Map<string, { at: number; value: DemandForecast }>();

  async function compute(target: number, by: DemandGrouping): Promise<DemandForecast> {
    const rows = await db
      .selectFrom('reco_orders')
      .select([
        'restaurant_id',
        'cell',
        sql<Date>`date_trunc('hour', placed_at)`.as('hour'),
        (eb) => eb.fn.countAll<string>().as('orders'),
      ])
      .where('placed_at', '>=', new Date(dayStart(target - 15)))
      .where('placed_at', '<', new Date(dayStart(target + 1)))
      .groupBy(['restaurant_id', 'cell', sql`date_trunc('hour', placed_at)`])
      .execute();
    const series = new Map<string, HourlySeries>();
    const places = new Map<string, Place>();
    const total = new HourlySeries();
    for (const row of rows) {
      const key = by === 'restaurant' ? row.restaurant_id : zoneOfCell(row.cell);
      if (key === null) continue; // an erased or unknown place has no zone
      if (!places.has(key)) {
        const bounds = by === 'zone' ? zoneBounds(key) : null;
        const place =
          bounds !== null
            ? { latitude: bounds.south + bounds.degrees / 2, longitude: bounds.west + bounds.degrees / 2 }
            : cellCentre(row.cell);
        if (place !== null) places.set(key, place);
      }
      const at = row.hour.getTime();
      const count = Number(row.orders);
      const entry = series.get(key) ?? new HourlySeries();
      entry.add(at, count);
      series.set(key, entry);
      total.add(at, count);
    }
    const keys = [...series.keys()].sort();
    const shares = hourShares(total, target);
    const today = localDayIndex(now().getTime());
    const features = new Float32Array(keys.length * 24 * DEMAND_FEATURE_COUNT);
    keys.forEach((key, index) =>
      features.set(
        demandFeatures(series.get(key)!, shares, target, weatherOf(places.get(key) ?? null, target, today)),
        index * 24 * DEMAND_FEATURE_COUNT,
      ),
    );
    const predicted = keys.length === 0 ? undefined : await model.predict(features, keys.length * 24);
    const lag = DEMAND_FEATURE_NAMES.indexOf('lag_7d');
    const started = localDayIndex(now().getTime()) >= target;
    const result: DemandSeries[] = keys.map((key, index) => {
      const values = Array.from({ length: 24 }, (_, hour) =>
        round(
          predicted === undefined
            ? features[(index * 24 + hour) * DEMAND_FEATURE_COUNT + lag]!
            : predicted[index * 24 + hour]!,
        ),
      );
      const entry = series.get(key)!;
      return {
        restaurantId: by === 'restaurant' ? key : null,
        zone: by === 'zone' ? key : null,
        bounds: by === 'zone' ? zoneBounds(key) : null,
        forecast: values,
        forecastTotal: round(values.reduce((a, b) => a + b, 0)),
        actual: started ? Array.from({ length: 24 }, (_, hour) => entry.at(target, hour)) : null,
      };
    });
    result.sort(
      (a, b) =>
        b.forecastTotal - a.forecastTotal ||
        (a.restaurantId ?? a.zone!).localeCompare(b.restaurantId ?? b.zone!),
    );
    const sumHours = (pick: (entry: DemandSeries) => number[] | null) =>
      Array.from({ length: 24 }, (_, hour) =>
        round(result.reduce((sum, entry) => sum + (pick(entry)?.[hour] ?? 0), 0)),
      );
    const source =
      predicted === undefined && keys.length > 0
        ? 'seasonal_naive'
        : model.status().loaded
          ? 'model'
          : 'seasonal_naive';
    return {
      date: isoDay(target),
      by,
      source,
      modelVersion: source === 'model' ? model.status().version : null,
      generatedAt: now().toISOString(),
      total: {
        forecast: sumHours((entry) => entry.forecast),
        actual: started ? sumHours((entry) => entry.actual) : null,
      },
      series: result,
    };
  }

  return {
    /** `date`: a local day (YYYY-MM-DD), default tomorrow; from FORECAST_PAST_DAYS ago to tomorrow. */
    async forecast(input: { date?: string; by: DemandGrouping; limit: number }): Promise<DemandForecast> {
      const today = localDayIndex(now().getTime());
      let target = today + 1;
      if (input.date !== undefined) {
        const parsed = Date.parse(`${input.date}T00:00:00+01:00`);
        if (!Number.isFinite(parsed) || isoDay(localDayIndex(parsed)) !== input.date)
          throw recommendationsErrors.of(
            'validation',
            'invalid_date',
            'date must be a calendar day, YYYY-MM-DD.',
          );
        target = localDayIndex(parsed);
      }
      if (target > today + 1 || target < today - FORECAST_PAST_DAYS)
        throw recommendationsErrors.of(
          'validation',
          'forecast_out_of_range',
          `A forecast covers a day from ${FORECAST_PAST_DAYS} days ago to tomorrow.`,
          { details: { from: isoDay(today - FORECAST_PAST_DAYS), to: isoDay(today + 1) } },
        );
      await model.reloadIfChanged();
      const key = `${input.by}:${target}:${model.status().version ?? 'none'}`;
      const cached = cache.get(key);
      let value: DemandForecast;
      if (cached !== undefined && now().getTime() - cached.at < FORECAST_CACHE_MS) value = cached.value;
      else {
        value = await compute(target, input.by);
        if (cache.size > 100) cache.clear();
        cache.set(key, { at: now().getTime(), value });
      }
      return { ...value, series: value.series.slice(0, input.limit) };
    },
    status: () => model.status(),
  };
}

export type DemandForecasts = ReturnType<typeof createDemandForecasts>;
