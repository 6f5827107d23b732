/**
 * The weather cache (issue #24): a request never waits for the provider, a reading serves its
 * cell for the cache time, a failing provider is asked again only after a pause, and the last
 * reading (then the season) answers meanwhile. The provider here is the simulator's interface
 * driven by the test (an external service's stand-in), with a clock the test moves.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { seasonalRain } from '../features.js';
import type { Place, WeatherNow, WeatherProvider } from './port.js';
import { rainBucket } from './port.js';
import { simulatedWeather } from './simulator.js';
import { createWeatherService, WEATHER_MAX_CELLS, weatherCellOf } from './weather-service.js';

const DOUALA = { latitude: 4.0611, longitude: 9.7719 };
const SETTINGS = { cacheSeconds: 900, staleSeconds: 3_600, timeoutMs: 200, retryAfterSeconds: 60 };
// 1 July 2026: Douala's wet season (the season says rain), so a dry reading is told apart.
const JULY = Date.UTC(2026, 6, 1, 12);

function scripted() {
  const calls: Place[] = [];
  let answer: (place: Place) => Promise<WeatherNow> = async () => ({
    rain: false,
    precipitationMm: 0,
    weatherCode: 1,
    observedAt: new Date(JULY).toISOString(),
  });
  const provider: WeatherProvider = {
    name: 'open-meteo',
    current: (place) => {
      calls.push(place);
      return answer(place);
    },
  };
  return { provider, calls, set: (next: typeof answer) => (answer = next) };
}

function service(provider: WeatherProvider, clock: { now: number }) {
  return createWeatherService({
    provider,
    settings: SETTINGS,
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
  });
}

describe('the weather service', () => {
  it('answers the season at once on a miss, then the provider’s reading for the cell, fetched once', async () => {
    const clock = { now: JULY };
    const { provider, calls } = scripted();
    const weather = service(provider, clock);
    expect(seasonalRain(JULY, DOUALA)).toBe(true);
    expect(weather.rainAt(DOUALA, JULY)).toEqual({ rain: true, source: 'season', observedAt: null });
    await weather.warm([]); // let the fetch started behind the request settle
    await new Promise((resolve) => setImmediate(resolve));
    expect(weather.rainAt(DOUALA, JULY)).toMatchObject({ rain: false, source: 'provider' });
    // Another place of the same cell is the same question: one call, for the cell's centre.
    expect(weather.rainAt({ latitude: 4.07, longitude: 9.78 }, JULY).source).toBe('provider');
    expect(calls).toEqual([{ latitude: 4.1, longitude: 9.8 }]);
    clock.now += 899_000;
    weather.rainAt(DOUALA, clock.now);
    expect(calls).toHaveLength(1);
    clock.now += 2_000;
    weather.rainAt(DOUALA, clock.now);
    expect(calls).toHaveLength(2);
  });

  it('gives the provider’s chance of rain tomorrow from a fresh or stale reading, else null (the season)', async () => {
    const clock = { now: JULY };
    const { provider, set } = scripted();
    const weather = service(provider, clock);
    expect(weather.tomorrowRainChance(DOUALA)).toBeNull(); // nothing read yet
    await weather.warm([DOUALA]);
    expect(weather.tomorrowRainChance(DOUALA)).toBeNull(); // a reading without one
    set(async () => ({
      rain: false,
      precipitationMm: 0,
      weatherCode: 1,
      observedAt: new Date(clock.now).toISOString(),
      tomorrowRainChance: 0.3,
    }));
    clock.now += 901_000;
    await weather.warm([DOUALA]);
    expect(weather.tomorrowRainChance(DOUALA)).toBe(0.3);
    expect(weather.tomorrowRainChance(null)).toBeNull();
    clock.now += 3_599_000; // still within the stale time
    expect(weather.tomorrowRainChance(DOUALA)).toBe(0.3);
    clock.now += 2_000; // past it: the season
    expect(weather.tomorrowRainChance(DOUALA)).toBeNull();
  });

  it('serves the last reading while the provider fails, asks again only after the pause, then the season', async () => {
    const clock = { now: JULY };
    const { provider, calls, set } = scripted();
    const weather = service(provider, clock);
    await weather.warm([DOUALA]);
    set(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    clock.now += 901_000;
    expect(weather.rainAt(DOUALA, clock.now)).toMatchObject({ rain: false, source: 'stale' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(2);
    expect(weather.status().lastError).toContain('ECONNREFUSED');
    // Within the pause: no new call, still the stale reading.
    clock.now += 30_000;
    expect(weather.rainAt(DOUALA, clock.now).source).toBe('stale');
    expect(calls).toHaveLength(2);
    clock.now += 31_000;
    weather.rainAt(DOUALA, clock.now);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(3);
    // Older than the stale limit: the season.
    clock.now = JULY + 3_601_000;
    expect(weather.rainAt(DOUALA, clock.now)).toEqual({ rain: true, source: 'season', observedAt: null });
  });

  it('gives up on a provider slower than the timeout', async () => {
    const clock = { now: JULY };
    // A provider that never answers by itself: only the service's timeout ends the call.
    const hanging: WeatherProvider = {
      name: 'open-meteo',
      current: (_place, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    };
    const weather = service(hanging, clock);
    const started = Date.now();
    await weather.warm([DOUALA]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(weather.status().lastError).toMatch(/TimeoutError/);
    expect(weather.rainAt(DOUALA, JULY).source).toBe('season');
  });

  it('keeps at most its bound of cells, and a place of none gets the season', async () => {
    const clock = { now: JULY };
    const { provider } = scripted();
    const weather = service(provider, clock);
    const places = Array.from({ length: WEATHER_MAX_CELLS + 5 }, (_, index) => ({
      latitude: 2 + Math.floor(index / 40) / 10,
      longitude: 9 + (index % 40) / 10,
    }));
    expect(new Set(places.map(weatherCellOf)).size).toBe(places.length);
    for (let start = 0; start < places.length; start += 8) await weather.warm(places.slice(start, start + 8));
    expect(weather.status().cells).toBe(WEATHER_MAX_CELLS);
    expect(weather.rainAt(null, JULY)).toEqual({ rain: true, source: 'season', observedAt: null });
  });
});

describe('the rain bucket and the simulator', () => {
  it('counts drizzle, rain, showers and storms as rain, and a trace of precipitation as dry', () => {
    expect(rainBucket(0, 61)).toBe(true);
    expect(rainBucket(0, 81)).toBe(true);
    expect(rainBucket(0, 95)).toBe(true);
    expect(rainBucket(0.1, 3)).toBe(false);
    expect(rainBucket(0.5, 3)).toBe(true);
  });

  it('simulates the season: mostly rain in Douala’s July, mostly dry in January, stable within an hour', async () => {
    const share = async (month: number) => {
      let rainy = 0;
      for (let day = 0; day < 200; day += 1) {
        const simulator = simulatedWeather({ now: () => Date.UTC(2026, month, 1) + day * 3_600_000 * 5 });
        if ((await simulator.current(DOUALA, AbortSignal.timeout(1000))).rain) rainy += 1;
      }
      return rainy / 200;
    };
    expect(await share(6)).toBeGreaterThan(0.7);
    expect(await share(0)).toBeLessThan(0.25);
    const fixed = simulatedWeather({ now: () => JULY });
    const first = await fixed.current(DOUALA, AbortSignal.timeout(1000));
    expect(await fixed.current(DOUALA, AbortSignal.timeout(1000))).toEqual(first);
  });
});
