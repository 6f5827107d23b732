import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY_CENTRES } from '../../../src/modules/recommendations/features.js';
import {
  createWeatherHistory,
  hourOf,
  WEATHER_HISTORY_DAYS,
} from '../../../src/modules/recommendations/weather/history.js';
import type { RecommendationsDb } from '../../../src/modules/recommendations/tables.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { until } from '../payments/helpers.js';

/**
 * Issue #24: the weather history. Readings the weather service fetches are recorded per city and
 * hour (once), pruned after the retention, and the preparation retrain labels past orders with
 * them: kitchens slower on the recorded rainy hours are learnt only when the readings are there.
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** A delivery cell in Douala (0.02° squares: its centre is 4.05, 9.77). */
const DOUALA_CELL = '202:488';
let app: TestApp;

beforeAll(async () => {
  // A promotion rewrites the served model: serve a copy.
  const dir = mkdtempSync(join(tmpdir(), 'weather-history-'));
  copyFileSync('ml/model/preparation.onnx', join(dir, 'preparation.onnx'));
  copyFileSync('ml/model/preparation.card.json', join(dir, 'preparation.card.json'));
  app = await createTestApp({
    env: { WEATHER_PROVIDER: 'simulator', PREPARATION_MODEL_PATH: join(dir, 'preparation.onnx') },
  });
});
afterAll(async () => app?.close());

const readings = () =>
  app.services.db.selectFrom('weather_readings').selectAll().orderBy('city').orderBy('hour').execute();

describe('the weather history', () => {
  it('records each city’s fetched reading once per hour, and nothing for a place near neither city', async () => {
    const { db } = app.services;
    // The refresh asks for both cities' weather (behind it); the simulator answers at once.
    await app.services.recommendations.refresh();
    const rows = await until(readings, (found) => found.length === 2);
    expect(rows.map((row) => row.city)).toEqual(['douala', 'yaounde']);
    for (const row of rows) {
      expect(row.provider).toBe('simulator');
      expect(row.hour.getTime()).toBe(hourOf(row.observed_at.getTime()));
      expect(row.hour.getTime()).toBe(hourOf(Date.now()));
    }

    const history = createWeatherHistory(db as unknown as RecommendationsDb);
    const reading = (rain: boolean) => ({
      rain,
      precipitationMm: rain ? 3 : 0,
      weatherCode: rain ? 63 : 1,
      observedAt: new Date(Date.UTC(2026, 10, 2, 9, 15)).toISOString(),
    });
    // The same city-hour again (a retry, another instance, another cell of the city): unchanged.
    await history.record(CITY_CENTRES.douala, reading(true), 'open-meteo', Date.now());
    await history.record(CITY_CENTRES.douala, reading(true), 'open-meteo', Date.now());
    await history.record({ latitude: 4.1, longitude: 9.7 }, reading(false), 'open-meteo', Date.now());
    // Garoua: near neither city, not a city's weather.
    await history.record({ latitude: 9.3, longitude: 13.4 }, reading(true), 'open-meteo', Date.now());
    const after = await readings();
    expect(after).toHaveLength(3);
    const recorded = after.find((row) => row.hour.getTime() === Date.UTC(2026, 10, 2, 9))!;
    expect(recorded).toMatchObject({ city: 'douala', rain: true, weather_code: 63, provider: 'open-meteo' });
    expect(recorded.precipitation_mm).toBe(3);

    const log = await history.read(new Date(Date.UTC(2026, 10, 2)), new Date(Date.UTC(2026, 10, 3)));
    expect(log.size).toBe(1);
    expect(log.recorded({ latitude: 4.05, longitude: 9.77 }, Date.UTC(2026, 10, 2, 9, 59))).toBe(true);
    expect(log.recorded({ latitude: 4.05, longitude: 9.77 }, Date.UTC(2026, 10, 2, 10))).toBeUndefined();
    expect(log.recorded(CITY_CENTRES.yaounde, Date.UTC(2026, 10, 2, 9, 30))).toBeUndefined();
  });

  it('deletes readings older than the retention, keeps the others', async () => {
    const { db } = app.services;
    const old = new Date(hourOf(Date.now() - (WEATHER_HISTORY_DAYS + 1) * DAY));
    const kept = new Date(hourOf(Date.now() - (WEATHER_HISTORY_DAYS - 1) * DAY));
    for (const hour of [old, kept])
      await db
        .insertInto('weather_readings')
        .values({
          city: 'yaounde',
          hour,
          rain: false,
          precipitation_mm: 0,
          weather_code: 0,
          observed_at: hour,
          cell: '38:115',
          provider: 'open-meteo',
        })
        .execute();
    const before = (await readings()).length;
    expect(await createWeatherHistory(db as unknown as RecommendationsDb).prune(new Date())).toBe(1);
    const after = await readings();
    expect(after).toHaveLength(before - 1);
    expect(after.some((row) => row.hour.getTime() === old.getTime())).toBe(false);
    expect(after.some((row) => row.hour.getTime() === kept.getTime())).toBe(true);
  });

  it('labels the preparation retrain’s orders with the recorded weather of their hour', async () => {
    const { db, recommendations } = app.services;
    // 30 days of one Douala kitchen, 60 minutes on the days it rained (every other day) and 25 on
    // the others, whatever the stated 20: the season (December, dry) cannot tell the days apart.
    // Orders 70 minutes apart, so the kitchen's load (open orders) does not tell them apart either.
    const restaurant = randomUUID();
    const now = Date.now();
    const rows = [];
    const weather = [];
    for (let day = 30; day >= 1; day -= 1) {
      const rain = day % 2 === 0;
      const start = now - day * DAY;
      for (let hour = 0; hour < 19; hour += 1) {
        const at = new Date(hourOf(start) + hour * HOUR);
        weather.push({
          city: 'douala' as const,
          hour: at,
          rain,
          precipitation_mm: rain ? 4 : 0,
          weather_code: rain ? 63 : 1,
          observed_at: at,
          cell: '41:98',
          provider: 'open-meteo',
        });
      }
      for (let minute = 0; minute < 15 * 70; minute += 70) {
        const placed = new Date(start + minute * 60_000);
        rows.push({
          order_id: randomUUID(),
          customer_id: randomUUID(),
          restaurant_id: restaurant,
          lines: JSON.stringify([{ itemId: randomUUID(), quantity: 1 }]),
          cell: DOUALA_CELL,
          created_at: placed,
          placed_at: placed,
          stated_prep_minutes: 20,
          ready_at: new Date(placed.getTime() + (rain ? 60 : 25) * 60_000),
          closed_at: null,
        });
      }
    }
    await db.insertInto('reco_orders').values(rows).execute();
    // The readings of those days are the ones the test writes (the simulator's are of this hour).
    await db
      .deleteFrom('weather_readings')
      .where('hour', '<', new Date(hourOf(now)))
      .execute();

    const withoutReadings = await recommendations.retrain.run(new Date(now));
    await db.insertInto('weather_readings').values(weather).execute();
    const withReadings = await recommendations.retrain.run(new Date(now));
    expect(withoutReadings.holdoutRows).toBe(withReadings.holdoutRows);
    expect(withReadings.holdoutRows).toBeGreaterThanOrEqual(200);
    // Without the readings every day looks alike: about half the 35-minute gap is missed.
    expect(withoutReadings.candidateMae!).toBeGreaterThan(10);
    expect(withReadings.candidateMae!).toBeLessThan(withoutReadings.candidateMae! / 2);
  });
});
