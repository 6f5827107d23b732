/**
 * Open-Meteo's forecast API as the weather port (https://open-meteo.com/en/docs): no key, free for
 * non-commercial use (a commercial deployment sets WEATHER_OPEN_METEO_BASE_URL to its customer
 * endpoint, `https://customer-api.open-meteo.com`, and the key in WEATHER_OPEN_METEO_API_KEY).
 * One GET per place: `/v1/forecast?latitude=&longitude=&current=precipitation,weather_code
 * &daily=precipitation_probability_max&forecast_days=2`, whose answer carries `current: { time,
 * interval, precipitation, weather_code }` and `daily: { time: [today, tomorrow],
 * precipitation_probability_max: [%, %] }` (days in UTC with timezone=GMT; a null or missing
 * daily value leaves tomorrow's chance unknown, never the current reading refused).
 */
import Type from 'typebox';
import { Value } from 'typebox/value';
import { rainBucket, type Place, type WeatherNow, type WeatherProvider } from './port.js';

const CurrentAnswer = Type.Object({
  current: Type.Object({
    time: Type.String({ maxLength: 40 }),
    precipitation: Type.Number({ minimum: 0, maximum: 1_000 }),
    weather_code: Type.Integer({ minimum: 0, maximum: 99 }),
  }),
});
const DailyAnswer = Type.Object({
  daily: Type.Object({
    time: Type.Array(Type.String({ maxLength: 40 }), { maxItems: 16 }),
    precipitation_probability_max: Type.Array(
      Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
      { maxItems: 16 },
    ),
  }),
});

/** Tomorrow's chance of rain (0–1) from the daily part, when it is there and readable. */
function tomorrowChanceOf(body: unknown): number | undefined {
  if (!Value.Check(DailyAnswer, body)) return undefined;
  const percent = body.daily.precipitation_probability_max[1];
  return typeof percent === 'number' ? percent / 100 : undefined;
}

/** Answers larger than this are not Open-Meteo's current weather. */
const MAX_ANSWER_BYTES = 64 * 1024;

export class WeatherProviderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeatherProviderError';
  }
}

export function openMeteoWeather(options: { baseUrl: string; apiKey?: string }): WeatherProvider {
  const base = options.baseUrl.replace(/\/$/, '');
  return {
    name: 'open-meteo',
    async current(place: Place, signal: AbortSignal): Promise<WeatherNow> {
      const query = new URLSearchParams({
        latitude: place.latitude.toFixed(4),
        longitude: place.longitude.toFixed(4),
        current: 'precipitation,weather_code',
        daily: 'precipitation_probability_max',
        forecast_days: '2',
        timezone: 'GMT',
      });
      if (options.apiKey !== undefined) query.set('apikey', options.apiKey);
      const response = await fetch(`${base}/v1/forecast?${query.toString()}`, {
        signal,
        headers: { accept: 'application/json' },
      });
      const text = await response.text();
      if (!response.ok) throw new WeatherProviderError(`open-meteo answered HTTP ${response.status}`);
      if (text.length > MAX_ANSWER_BYTES) throw new WeatherProviderError('open-meteo answered too much');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new WeatherProviderError('open-meteo answered something that is not JSON', { cause: error });
      }
      if (!Value.Check(CurrentAnswer, body))
        throw new WeatherProviderError('open-meteo answered without current precipitation and weather code');
      const { time, precipitation, weather_code: code } = body.current;
      // Open-Meteo's times are ISO 8601 without a zone; timezone=GMT makes them UTC.
      const observedAt = new Date(`${time}${/Z|[+-]\d\d:?\d\d$/.test(time) ? '' : 'Z'}`);
      if (Number.isNaN(observedAt.getTime()))
        throw new WeatherProviderError('open-meteo answered a time that is not one');
      const tomorrowRainChance = tomorrowChanceOf(body);
      return {
        rain: rainBucket(precipitation, code),
        precipitationMm: precipitation,
        weatherCode: code,
        observedAt: observedAt.toISOString(),
        ...(tomorrowRainChance === undefined ? {} : { tomorrowRainChance }),
      };
    },
  };
}
