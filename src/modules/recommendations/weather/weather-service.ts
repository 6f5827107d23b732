/**
 * The weather the models read (issue #24), without ever making a request wait on a provider:
 *
 * - readings are cached per weather cell (0.1°, about 11 km: Open-Meteo's own grid is no finer)
 *   for `cacheSeconds`;
 * - a request whose cell has no fresh reading is answered at once from the last reading if it is
 *   at most `staleSeconds` old, else from the season (`seasonalRain`), and a fetch for the cell
 *   starts behind it (one at a time per cell, at most `maxInFlight` at once), bounded by
 *   `timeoutMs`;
 * - a failed fetch (timeout, HTTP error, an answer that is not the provider's) is logged and not
 *   retried for the cell for `retryAfterSeconds`, so an outage costs one timeout per cell per
 *   minute, not one per request.
 *
 * `warm(places)` fetches the given places (the refresh reactor warms the cities' centres).
 * `onReading`, when given, is told of each successful fetch (the weather history records it,
 * `history.ts`); it is not awaited, and its failure is logged without touching the cache.
 */
import type { Logger } from 'pino';
import { seasonalRain } from '../features.js';
import type { Place, WeatherNow, WeatherProvider } from './port.js';

export type WeatherSource = 'provider' | 'stale' | 'season';

export interface WeatherReading {
  rain: boolean;
  source: WeatherSource;
  /** The provider's reading time, when one is used. */
  observedAt: string | null;
}

export interface WeatherSettings {
  cacheSeconds: number;
  staleSeconds: number;
  timeoutMs: number;
  retryAfterSeconds: number;
}

export interface WeatherService {
  readonly providerName: string;
  /** The rain bucket at a place now, never waiting for the provider. */
  rainAt(place: Place | null, at: number): WeatherReading;
  /**
   * The provider's chance of rain tomorrow at a place (0–1), from a fresh or stale reading that
   * carried one; null otherwise (the caller uses the season). Never waits for the provider.
   */
  tomorrowRainChance(place: Place | null): number | null;
  /** Fetches the places now (each within the timeout); resolves when all are done or failed. */
  warm(places: readonly Place[]): Promise<void>;
  /** For /health/ready: how the last fetch went. */
  status(): { provider: string; cells: number; lastError: string | null; lastSuccessAt: string | null };
}

/** Cells kept at most (a city's deliveries span a few dozen). */
export const WEATHER_MAX_CELLS = 1_000;
const MAX_IN_FLIGHT = 8;

interface Entry {
  reading: WeatherNow | null;
  fetchedAt: number;
  failedAt: number | null;
  inFlight: boolean;
}

export const weatherCellOf = (place: Place) =>
  `${Math.round(place.latitude * 10)}:${Math.round(place.longitude * 10)}`;

/** The centre of a place's cell: every place of a cell asks the provider the same question. */
const centreOf = (place: Place): Place => ({
  latitude: Math.round(place.latitude * 10) / 10,
  longitude: Math.round(place.longitude * 10) / 10,
});

export function createWeatherService(options: {
  provider: WeatherProvider;
  settings: WeatherSettings;
  logger: Logger;
  now?: () => number;
  onReading?: (place: Place, reading: WeatherNow, fetchedAt: number) => Promise<void>;
}): WeatherService {
  const { provider, settings, logger } = options;
  const now = options.now ?? Date.now;
  const cells = new Map<string, Entry>();
  let inFlight = 0;
  let lastError: string | null = null;
  let lastSuccessAt: number | null = null;

  async function fetchCell(key: string, place: Place): Promise<void> {
    const entry = cells.get(key) ?? { reading: null, fetchedAt: 0, failedAt: null, inFlight: false };
    if (entry.inFlight || inFlight >= MAX_IN_FLIGHT) return;
    entry.inFlight = true;
    inFlight += 1;
    if (!cells.has(key)) {
      // Bounded: the oldest cell goes first (Map keeps insertion order).
      if (cells.size >= WEATHER_MAX_CELLS) cells.delete(cells.keys().next().value!);
      cells.set(key, entry);
    }
    try {
      const centre = centreOf(place);
      entry.reading = await provider.current(centre, AbortSignal.timeout(settings.timeoutMs));
      entry.fetchedAt = now();
      entry.failedAt = null;
      lastSuccessAt = entry.fetchedAt;
      options.onReading?.(centre, entry.reading, entry.fetchedAt).catch((error: unknown) => {
        logger.warn({ err: error, cell: key }, 'weather: the reading could not be recorded');
      });
    } catch (error) {
      entry.failedAt = now();
      lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      logger.warn(
        { err: error, provider: provider.name, cell: key },
        'weather: the provider failed; the last reading or the season is used',
      );
    } finally {
      entry.inFlight = false;
      inFlight -= 1;
    }
  }

  function rainAt(place: Place | null, at: number): WeatherReading {
    const season: WeatherReading = { rain: seasonalRain(at, place), source: 'season', observedAt: null };
    if (place === null) return season;
    const key = weatherCellOf(place);
    const entry = cells.get(key);
    const age = entry?.reading === null || entry === undefined ? Infinity : now() - entry.fetchedAt;
    const fresh = age <= settings.cacheSeconds * 1000;
    const resting =
      entry?.failedAt !== null &&
      entry?.failedAt !== undefined &&
      now() - entry.failedAt < settings.retryAfterSeconds * 1000;
    if (!fresh && !resting) void fetchCell(key, place);
    if (entry?.reading === null || entry === undefined) return season;
    if (fresh) return { rain: entry.reading.rain, source: 'provider', observedAt: entry.reading.observedAt };
    if (age <= settings.staleSeconds * 1000)
      return { rain: entry.reading.rain, source: 'stale', observedAt: entry.reading.observedAt };
    return season;
  }

  function tomorrowRainChance(place: Place | null): number | null {
    if (place === null) return null;
    const entry = cells.get(weatherCellOf(place));
    if (entry?.reading === null || entry === undefined) return null;
    if (now() - entry.fetchedAt > settings.staleSeconds * 1000) return null;
    return entry.reading.tomorrowRainChance ?? null;
  }

  return {
    providerName: provider.name,
    rainAt,
    tomorrowRainChance,
    async warm(places) {
      await Promise.all(places.map((place) => fetchCell(weatherCellOf(place), place)));
    },
    status: () => ({
      provider: provider.name,
      cells: cells.size,
      lastError,
      lastSuccessAt: lastSuccessAt === null ? null : new Date(lastSuccessAt).toISOString(),
    }),
  };
}
