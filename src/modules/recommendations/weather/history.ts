/**
 * The weather history (issue #24): the readings the weather service fetched, one per city and
 * hour, so that the retrains label each past order with the weather of its hour (the season's
 * bucket only for hours without a reading). The synthetic history of `ml/` records its weather in
 * the same shape (`WeatherRecord`), so the trainers and the retrains read one source, `WeatherLog`.
 *
 * - **Recorded** (`record`) after each successful fetch, under the city nearer the place asked
 *   (`nearerCity`, the season's own rule) when it lies within `CITY_RADIUS_KM` of that city's
 *   centre, and under the hour of the provider's reading (UTC). The first reading of a city-hour
 *   is kept: a retried or a second instance's write of the same city-hour changes nothing.
 * - **Bounded**: rows older than `WEATHER_HISTORY_DAYS` are deleted (`prune`, at most hourly from
 *   the refresh); the retrains read 120 days.
 * - **Read** (`read`) as a `WeatherLog` over a time range, one query.
 */
import { sql } from 'kysely';
import { CITY_CENTRES, distanceKm, nearerCity, seasonalRain, type WeatherCity } from '../features.js';
import type { RecommendationsDb } from '../tables.js';
import type { Place, WeatherNow } from './port.js';

const HOUR_MS = 3_600_000;
/** Readings kept (days); the retrains read the last 120. */
export const WEATHER_HISTORY_DAYS = 180;
/** A reading farther than this from both cities' centres is not a city's weather (not recorded). */
export const CITY_RADIUS_KM = 40;

/** One city's weather in one hour (`hour`: epoch ms of the hour's start, UTC). */
export interface WeatherRecord {
  city: WeatherCity;
  hour: number;
  rain: boolean;
}

export const hourOf = (at: number) => Math.floor(at / HOUR_MS) * HOUR_MS;

/** The city a place's weather is recorded under, or null when it is near neither city. */
export function recordedCityOf(place: Place): WeatherCity | null {
  const city = nearerCity(place);
  return distanceKm(place, CITY_CENTRES[city]) <= CITY_RADIUS_KM ? city : null;
}

/** Past weather by city and hour, with the season's bucket for hours without a record. */
export class WeatherLog {
  private readonly byKey = new Map<string, boolean>();

  constructor(records: Iterable<WeatherRecord>) {
    // The first record of a city-hour wins, as in the table.
    for (const record of records) {
      const key = `${record.city}|${hourOf(record.hour)}`;
      if (!this.byKey.has(key)) this.byKey.set(key, record.rain);
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The recorded rain bucket at a place in the hour of `at`, or undefined (none recorded). */
  recorded(place: Place | null, at: number): boolean | undefined {
    if (place === null) return undefined;
    const city = recordedCityOf(place);
    return city === null ? undefined : this.byKey.get(`${city}|${hourOf(at)}`);
  }

  /** The weather a past order is labelled with: the recorded bucket of its hour, else the season's. */
  rainAt(place: Place | null, at: number): boolean {
    return this.recorded(place, at) ?? seasonalRain(at, place);
  }
}

export interface WeatherHistory {
  /** Records a fetched reading (at most one per city-hour; a repeat changes nothing). */
  record(place: Place, reading: WeatherNow, provider: string, fetchedAt: number): Promise<void>;
  /** The records of [since, until) as a log (at most 120 days' worth is asked for). */
  read(since: Date, until: Date): Promise<WeatherLog>;
  /** Deletes the records older than `WEATHER_HISTORY_DAYS` before `now`; returns how many. */
  prune(now: Date): Promise<number>;
}

export function createWeatherHistory(db: RecommendationsDb): WeatherHistory {
  return {
    async record(place, reading, provider, fetchedAt) {
      const city = recordedCityOf(place);
      if (city === null) return;
      const observed = Date.parse(reading.observedAt);
      const observedAt = Number.isFinite(observed) ? observed : fetchedAt;
      await db
        .insertInto('weather_readings')
        .values({
          city,
          hour: new Date(hourOf(observedAt)),
          rain: reading.rain,
          precipitation_mm: Math.max(0, reading.precipitationMm),
          weather_code: reading.weatherCode,
          observed_at: new Date(observedAt),
          cell: `${Math.round(place.latitude * 10)}:${Math.round(place.longitude * 10)}`,
          provider,
        })
        .onConflict((conflict) => conflict.columns(['city', 'hour']).doNothing())
        .execute();
    },
    async read(since, until) {
      const rows = await db
        .selectFrom('weather_readings')
        .select(['city', 'hour', 'rain'])
        .where('hour', '>=', new Date(hourOf(since.getTime())))
        .where('hour', '<', until)
        .orderBy('city')
        .orderBy('hour')
        .execute();
      return new WeatherLog(
        rows.map((row) => ({ city: row.city, hour: row.hour.getTime(), rain: row.rain })),
      );
    },
    async prune(now) {
      const result = await db
        .deleteFrom('weather_readings')
        .where('hour', '<', sql<Date>`${now}::timestamptz - make_interval(days => ${WEATHER_HISTORY_DAYS})`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
