import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemandForecasts } from '../../../src/modules/recommendations/demand-service.js';
import {
  dayStart,
  DEMAND_FEATURE_NAMES,
  localDayIndex,
  zoneOfCell,
} from '../../../src/modules/recommendations/demand.js';
import { cellCentre, cellOf } from '../../../src/modules/recommendations/features.js';
import { loadRegressionModel } from '../../../src/modules/recommendations/regression-model.js';
import type { WeatherProvider } from '../../../src/modules/recommendations/weather/port.js';
import { createWeatherService } from '../../../src/modules/recommendations/weather/weather-service.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';

/**
 * Issue #24, spec §9.3: `GET /v1/admin/forecasts/demand` forecasts tomorrow's orders per hour,
 * per restaurant and per zone, from the placed orders of the last two weeks (the projection's
 * rows, written here with past placement times, which the order flow cannot do).
 */
const HOUR = 3_600_000;
// Garoua: far from every other test's deliveries, so these zones are this test's alone.
const BUSY_CELL = cellOf(9.3, 13.4);
const QUIET_CELL = cellOf(9.5, 13.8);
const busy = randomUUID();
const quiet = randomUUID();

async function seedHistory(app: TestApp, today: number) {
  const rows = [];
  for (let day = today - 14; day < today; day += 1) {
    // The busy restaurant: three lunches (12 h) and one dinner (19 h) a day; the quiet one: one dinner.
    for (const [restaurant, cell, hour, count] of [
      [busy, BUSY_CELL, 12, 3],
      [busy, BUSY_CELL, 19, 1],
      [quiet, QUIET_CELL, 19, 1],
    ] as const) {
      for (let n = 0; n < count; n += 1) {
        const at = new Date(dayStart(day) + hour * HOUR + (10 + n) * 60_000);
        rows.push({
          order_id: randomUUID(),
          customer_id: randomUUID(),
          restaurant_id: restaurant,
          lines: JSON.stringify([{ itemId: randomUUID(), quantity: 1 }]),
          cell,
          created_at: at,
          placed_at: at,
        });
      }
    }
  }
  await app.services.db.insertInto('reco_orders').values(rows).execute();
}

type Series = {
  restaurantId: string | null;
  zone: string | null;
  forecast: number[];
  forecastTotal: number;
  actual: number[] | null;
};

describe('GET /v1/admin/forecasts/demand', () => {
  let app: TestApp;
  let support: CreatedUser;
  let admin: CreatedUser;
  let customer: CreatedUser;
  const today = localDayIndex(Date.now());

  beforeAll(async () => {
    app = await createTestApp();
    await app.services.identity.keyRing.signingKey();
    [support, admin, customer] = await Promise.all([
      createUser(app, { roles: ['support'] }),
      createUser(app, { roles: ['admin'] }),
      createUser(app, { roles: ['customer'] }),
    ]);
    await seedHistory(app, today);
  });
  afterAll(async () => app?.close());

  const forecast = (query: string, user: CreatedUser = support) =>
    app.app.inject({
      method: 'GET',
      url: `/v1/admin/forecasts/demand${query}`,
      headers: authHeader(user.accessToken),
    });

  it('forecasts tomorrow per restaurant from the model: the busy hours and the busy restaurant first', async () => {
    const response = await forecast('?limit=500');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ by: 'restaurant', source: 'model', modelVersion: '2' });
    expect(body.date).toBe(new Date(dayStart(today + 1) + 2 * HOUR).toISOString().slice(0, 10));
    expect(body.total.actual).toBeNull();
    const mine = body.series.filter(
      (entry: Series) => entry.restaurantId === busy || entry.restaurantId === quiet,
    );
    expect(mine.map((entry: Series) => entry.restaurantId)).toEqual([busy, quiet]);
    const [b, q] = mine as Series[];
    expect(b!.forecast).toHaveLength(24);
    // Lunch at the busy restaurant is its peak, well above a night hour; about 3 orders.
    expect(b!.forecast[12]).toBe(Math.max(...b!.forecast));
    expect(b!.forecast[12]).toBeGreaterThan(1.5);
    expect(b!.forecast[12]).toBeLessThan(4.5);
    expect(b!.forecast[3]).toBeLessThan(0.5);
    // The model leans on the hourly profile shared by all series (the synthetic restaurants share
    // one), so the quiet restaurant's lunch is forecast too; its dinner is still above the night.
    expect(q!.forecast[19]).toBeGreaterThan(q!.forecast[3]!);
    expect(b!.forecastTotal).toBeGreaterThan(q!.forecastTotal);
    expect(body.series.length).toBeGreaterThanOrEqual(2);
    // The admin reads the same forecast (from the cache).
    const again = await forecast('?limit=500', admin);
    expect(again.statusCode).toBe(200);
    expect(again.json().generatedAt).toBe(body.generatedAt);
  });

  it('forecasts per zone, and gives what happened for a day that has begun', async () => {
    const zones = await forecast('?by=zone&limit=500');
    expect(zones.statusCode, zones.body).toBe(200);
    const busyZone = zones.json().series.find((entry: Series) => entry.zone === zoneOfCell(BUSY_CELL));
    expect(busyZone).toMatchObject({ restaurantId: null, bounds: { degrees: 0.06 } });
    expect(busyZone.forecast[12]).toBe(Math.max(...busyZone.forecast));

    const yesterday = new Date(dayStart(today - 1) + 2 * HOUR).toISOString().slice(0, 10);
    const past = await forecast(`?date=${yesterday}&limit=500`);
    expect(past.statusCode, past.body).toBe(200);
    const b = past.json().series.find((entry: Series) => entry.restaurantId === busy);
    expect(b.actual[12]).toBe(3);
    expect(b.actual[19]).toBe(1);
    expect(b.actual.reduce((sum: number, value: number) => sum + value, 0)).toBe(4);
  });

  it('is for staff only, and refuses bad input with a problem', async () => {
    expect((await forecast('', customer)).statusCode).toBe(403);
    expect((await app.app.inject({ method: 'GET', url: '/v1/admin/forecasts/demand' })).statusCode).toBe(401);
    const far = new Date(dayStart(today + 3) + 2 * HOUR).toISOString().slice(0, 10);
    const cases: [string, string | undefined][] = [
      [`?date=${far}`, 'forecast_out_of_range'],
      ['?date=2020-01-01', 'forecast_out_of_range'],
      ['?date=2026-02-30', 'invalid_date'],
      ['?date=tomorrow', undefined],
      ['?date=2026-12-07%00', undefined],
      ['?by=city', undefined],
      ['?limit=0', undefined],
      ['?limit=501', undefined],
      ['?limit=null', undefined],
      [`?by=${'z'.repeat(10_000)}`, undefined],
      ['?restaurantId=x', undefined],
    ];
    for (const [query, code] of cases) {
      const response = await forecast(query);
      expect(response.statusCode, query).toBe(400);
      expect(response.headers['content-type'], query).toContain('application/problem+json');
      if (code !== undefined) expect(response.json().code, query).toBe(code);
    }
  });
});

describe('without a demand model', () => {
  let app: TestApp;
  let support: CreatedUser;
  const today = localDayIndex(Date.now());
  beforeAll(async () => {
    app = await createTestApp({ env: { DEMAND_MODEL_PATH: 'ml/model/absent.onnx' } });
    await app.services.identity.keyRing.signingKey();
    support = await createUser(app, { roles: ['support'] });
    await seedHistory(app, today);
  });
  afterAll(async () => app?.close());

  it('serves the seasonal-naive forecast (the same hour a week before) and readiness says so', async () => {
    const response = await app.app.inject({
      method: 'GET',
      url: '/v1/admin/forecasts/demand?limit=500',
      headers: authHeader(support.accessToken),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ source: 'seasonal_naive', modelVersion: null });
    const b = response.json().series.find((entry: Series) => entry.restaurantId === busy);
    expect(b.forecast[12]).toBe(3);
    expect(b.forecast[19]).toBe(1);
    expect(b.forecastTotal).toBe(4);
    const ready = await app.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(
      ready.json().checks.find((entry: { name: string }) => entry.name === 'demand-model'),
    ).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^no model: seasonal-naive forecast served \(.*absent/),
    });
  });
});

describe('the weather in the demand forecast', () => {
  let app: TestApp;
  const today = localDayIndex(Date.now());
  // Maroua: this describe's own cell, far from every other test's deliveries.
  const CELL = cellOf(10.6, 14.3);
  const restaurant = randomUUID();
  /** A provider that always answers the same weather (the external service, stood in for). */
  const provider = (rain: boolean, tomorrowRainChance?: number): WeatherProvider => ({
    name: 'simulator',
    current: async () => ({
      rain,
      precipitationMm: rain ? 4 : 0,
      weatherCode: rain ? 63 : 1,
      observedAt: new Date().toISOString(),
      ...(tomorrowRainChance === undefined ? {} : { tomorrowRainChance }),
    }),
  });
  const settings = { cacheSeconds: 900, staleSeconds: 10_800, timeoutMs: 1_000, retryAfterSeconds: 60 };
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    app = await createTestApp();
    const rows = [];
    let n = 0;
    for (let day = today - 14; day < today; day += 1)
      for (const hour of [12, 12, 13, 19, 20]) {
        n += 1;
        const at = new Date(dayStart(day) + hour * HOUR + n * 1_000);
        rows.push({
          order_id: randomUUID(),
          customer_id: randomUUID(),
          restaurant_id: restaurant,
          lines: JSON.stringify([{ itemId: randomUUID(), quantity: 1 }]),
          cell: CELL,
          created_at: at,
          placed_at: at,
        });
      }
    await app.services.db.insertInto('reco_orders').values(rows).execute();
  });
  afterAll(async () => app?.close());

  async function forecastWith(rain: boolean | null, day: number, tomorrowRainChance?: number) {
    const model = await loadRegressionModel('ml/model/demand.onnx', DEMAND_FEATURE_NAMES, 'orders');
    const weather =
      rain === null
        ? undefined
        : createWeatherService({ provider: provider(rain, tomorrowRainChance), settings, logger });
    // The reading is fetched ahead, as the refresh warms the cities: a forecast never waits for it.
    await weather?.warm([cellCentre(CELL)!]);
    const forecasts = createDemandForecasts({
      db: app.services.db as unknown as Parameters<typeof createDemandForecasts>[0]['db'],
      model,
      ...(weather === undefined ? {} : { weather }),
    });
    const date = new Date(dayStart(day) + 2 * HOUR).toISOString().slice(0, 10);
    const answer = await forecasts.forecast({ by: 'restaurant', date, limit: 500 });
    await model.close();
    return answer.series.find((entry) => entry.restaurantId === restaurant)!;
  }

  it('forecasts more orders today when it rains than when it is dry; tomorrow reads the provider’s chance of rain for it, or the season', async () => {
    const rainy = await forecastWith(true, today);
    const dry = await forecastWith(false, today);
    const season = await forecastWith(null, today);
    expect(rainy.forecastTotal).toBeGreaterThan(dry.forecastTotal);
    // The rush hours carry the difference (the weather scales the hourly profile).
    expect(rainy.forecast[12]!).toBeGreaterThan(dry.forecast[12]!);
    // Without a provider, the season's chance: between the two.
    expect(season.forecastTotal).toBeGreaterThanOrEqual(dry.forecastTotal);
    expect(season.forecastTotal).toBeLessThanOrEqual(rainy.forecastTotal);
    // Tomorrow: today's rain says nothing of it; the provider's chance of rain for tomorrow does.
    const [rainyNowOnly, dryNowOnly, seasonTomorrow] = [
      await forecastWith(true, today + 1),
      await forecastWith(false, today + 1),
      await forecastWith(null, today + 1),
    ];
    expect(rainyNowOnly.forecast).toEqual(dryNowOnly.forecast);
    expect(rainyNowOnly.forecast).toEqual(seasonTomorrow.forecast);
    const [wetTomorrow, dryTomorrow] = [
      await forecastWith(false, today + 1, 1),
      await forecastWith(true, today + 1, 0),
    ];
    expect(wetTomorrow.forecastTotal).toBeGreaterThan(dryTomorrow.forecastTotal);
    expect(wetTomorrow.forecast[12]!).toBeGreaterThan(dryTomorrow.forecast[12]!);
    // The season lies between a sure rain and a sure dry day.
    expect(seasonTomorrow.forecastTotal).toBeGreaterThanOrEqual(dryTomorrow.forecastTotal);
    expect(seasonTomorrow.forecastTotal).toBeLessThanOrEqual(wetTomorrow.forecastTotal);
  });
});
