import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openMeteoWeather,
  WeatherProviderError,
} from '../../../src/modules/recommendations/weather/open-meteo.js';
import { seasonalRain } from '../../../src/modules/recommendations/features.js';
import { freePort } from '../../helpers/ports.js';
import { NEAR, orderWorld, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/**
 * Issue #24: the Open-Meteo adapter over HTTP, against a local server that answers as Open-Meteo's
 * documented forecast API does (a recorded answer), and the ranker reading it through the app.
 */
type Handler = (request: IncomingMessage, response: ServerResponse) => void;
let server: Server;
let base: string;
let handler: Handler;
const requests: URL[] = [];

/**
 * Open-Meteo's answer to `current=precipitation,weather_code&daily=precipitation_probability_max
 * &forecast_days=2&timezone=GMT` (recorded shape).
 */
const recorded = (precipitation: number, code: number, probabilities: (number | null)[] = [80, 65]) => ({
  latitude: 4.0625,
  longitude: 9.8125,
  generationtime_ms: 0.031,
  utc_offset_seconds: 0,
  timezone: 'GMT',
  timezone_abbreviation: 'GMT',
  elevation: 13,
  current_units: { time: 'iso8601', interval: 'seconds', precipitation: 'mm', weather_code: 'wmo code' },
  current: { time: '2026-12-06T11:30', interval: 900, precipitation, weather_code: code },
  daily_units: { time: 'iso8601', precipitation_probability_max: '%' },
  daily: { time: ['2026-12-06', '2026-12-07'], precipitation_probability_max: probabilities },
});
const json =
  (body: unknown, status = 200): Handler =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

beforeAll(async () => {
  const port = await freePort();
  handler = json(recorded(1.2, 63));
  server = createServer((request, response) => {
    requests.push(new URL(request.url ?? '/', 'http://localhost'));
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the Open-Meteo adapter', () => {
  const weather = () => openMeteoWeather({ baseUrl: base });

  it('asks for the current precipitation and weather code at the place, and reads the answer', async () => {
    handler = json(recorded(1.2, 63));
    const now = await weather().current({ latitude: 4.0611, longitude: 9.7719 }, AbortSignal.timeout(5_000));
    expect(now).toEqual({
      rain: true,
      precipitationMm: 1.2,
      weatherCode: 63,
      observedAt: '2026-12-06T11:30:00.000Z',
      tomorrowRainChance: 0.65,
    });
    const asked = requests.at(-1)!;
    expect(asked.pathname).toBe('/v1/forecast');
    expect(Object.fromEntries(asked.searchParams)).toEqual({
      latitude: '4.0611',
      longitude: '9.7719',
      current: 'precipitation,weather_code',
      daily: 'precipitation_probability_max',
      forecast_days: '2',
      timezone: 'GMT',
    });
    handler = json(recorded(0, 2));
    expect((await weather().current(NEAR, AbortSignal.timeout(5_000))).rain).toBe(false);
    // Tomorrow's chance unknown (null, missing, or an answer without the daily part, or one out of
    // range): the current reading still stands, tomorrow is left to the season.
    for (const body of [
      recorded(0, 2, [10, null]),
      recorded(0, 2, [10]),
      { ...recorded(0, 2), daily: undefined },
      recorded(0, 2, [10, 140]),
    ]) {
      handler = json(body);
      const reading = await weather().current(NEAR, AbortSignal.timeout(5_000));
      expect(reading.rain).toBe(false);
      expect(reading.tomorrowRainChance).toBeUndefined();
    }
  });

  it('refuses an HTTP error, an answer that is not JSON, and one without the current weather', async () => {
    handler = json({ error: true, reason: 'Parameter current is invalid' }, 400);
    await expect(weather().current(NEAR, AbortSignal.timeout(5_000))).rejects.toThrow(/HTTP 400/);
    handler = (_request, response) => response.end('<html>maintenance</html>');
    await expect(weather().current(NEAR, AbortSignal.timeout(5_000))).rejects.toBeInstanceOf(
      WeatherProviderError,
    );
    handler = json({ ...recorded(0, 2), current: { time: '2026-12-06T11:30' } });
    await expect(weather().current(NEAR, AbortSignal.timeout(5_000))).rejects.toThrow(/without current/);
    handler = json(recorded(-3, 2));
    await expect(weather().current(NEAR, AbortSignal.timeout(5_000))).rejects.toThrow(/without current/);
  });

  it('gives up when the provider does not answer within the timeout', async () => {
    handler = () => undefined; // never answers
    await expect(weather().current(NEAR, AbortSignal.timeout(300))).rejects.toThrow(/abort|timeout/i);
  });
});

describe('the ranker’s weather, through the app', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    handler = json(recorded(2.5, 63));
    world = await orderWorld({
      WEATHER_PROVIDER: 'open-meteo',
      WEATHER_OPEN_METEO_BASE_URL: base,
      WEATHER_TIMEOUT_MS: '2000',
      WEATHER_RETRY_AFTER_SECONDS: '1',
    });
  });
  afterAll(async () => world?.testApp.close());

  it('answers at once, then with the provider’s rain; the app’s own word wins; readiness names the provider', async () => {
    handler = json(recorded(2.5, 63));
    const at = Date.now();
    // A season that says dry tells the provider's rain apart (else the test says so and still runs).
    const seasonSaysRain = seasonalRain(at, NEAR);
    const ask = (extra = '') =>
      world.testApp.app.inject({
        method: 'GET',
        url: `/v1/recommendations?lat=${NEAR.latitude}&lng=${NEAR.longitude}${extra}`,
      });
    const first = await ask();
    expect(first.statusCode, first.body).toBe(200);
    expect(['season', 'provider']).toContain(first.json().context.weatherSource);
    const later = await until(
      async () => (await ask()).json().context as { weather: string; weatherSource: string },
      (context) => context.weatherSource === 'provider',
      30_000,
    );
    expect(later.weather).toBe('rain');
    if (!seasonSaysRain)
      expect(
        first.json().context.weather === 'dry' || first.json().context.weatherSource === 'provider',
      ).toBe(true);
    const told = await ask('&weather=dry');
    expect(told.json().context).toMatchObject({ weather: 'dry', weatherSource: 'app' });
    const ready = await world.testApp.app.inject({ method: 'GET', url: '/health/ready' });
    const check = ready.json().checks.find((entry: { name: string }) => entry.name === 'weather');
    expect(check.detail).toMatch(/^open-meteo: \d+ places cached, last reading 20/);
  }, 60_000);
});
