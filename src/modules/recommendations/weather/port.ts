/**
 * The weather port (issue #24): what the ranker's `rain` feature needs to know about the weather
 * at a place now. Adapters: Open-Meteo's forecast API (open-meteo.ts, no key) and a simulator for
 * development and tests (simulator.ts); the cache, timeouts and fallback around them are
 * weather-service.ts.
 */
export interface Place {
  latitude: number;
  longitude: number;
}

export interface WeatherNow {
  /** The bucket the models use: rain (or drizzle, showers, a thunderstorm) now, or dry. */
  rain: boolean;
  /** Precipitation of the provider's current interval, mm. */
  precipitationMm: number;
  /** WMO weather interpretation code (0 clear … 99 thunderstorm with hail). */
  weatherCode: number;
  /** When the provider's reading is for (ISO 8601). */
  observedAt: string;
  /**
   * The provider's chance of rain on the next day (UTC day after `observedAt`'s), 0–1, for
   * tomorrow's demand forecast; absent when the provider gave none.
   */
  tomorrowRainChance?: number;
}

export interface WeatherProvider {
  readonly name: 'open-meteo' | 'simulator';
  /**
   * The weather at a place now, with tomorrow's chance of rain when the provider has it; rejects
   * on a timeout, an HTTP error or an answer it cannot read.
   */
  current(place: Place, signal: AbortSignal): Promise<WeatherNow>;
}

/** WMO codes of drizzle, rain, freezing rain, rain showers and thunderstorms. */
export function isRainCode(code: number): boolean {
  return (code >= 51 && code <= 67) || (code >= 80 && code <= 82) || code >= 95;
}

/** Rain when the code says so or at least 0.2 mm fell in the interval (a trace is not rain). */
export function rainBucket(precipitationMm: number, weatherCode: number): boolean {
  return isRainCode(weatherCode) || precipitationMm >= 0.2;
}
