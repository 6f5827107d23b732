/**
 * The routing port: travel distance and time between two points for a vehicle. The dispatcher and
 * ETAs (issue #20) use the port, never a formula. The adapter here is haversine × a road factor
 * per city (Douala, Yaoundé, others) at a mean urban speed per vehicle times a speed factor by
 * hour (per city, falling back to the default table), all from config;
 * a maps API adapter can stand behind the same port.
 */
import { distanceMeters, type GeoPoint } from './geo.js';
import type { Vehicle } from './fix-rules.js';
import { createYandexRouting } from './yandex-routing.js';

export interface Travel {
  distanceMeters: number;
  durationSeconds: number;
}

export interface RoutingPort {
  travel(from: GeoPoint, to: GeoPoint, vehicle: Vehicle): Promise<Travel>;
}

export interface City extends GeoPoint {
  name: string;
  /** Road distance over straight-line distance. */
  roadFactor: number;
  /** Points within this distance of the centre belong to the city. */
  radiusKm: number;
  /** The city's own 24 speed factors by Douala hour; absent: the default table. */
  speedFactorByHour?: readonly number[] | undefined;
}

export interface HaversineRoutingOptions {
  cities: readonly City[];
  defaultRoadFactor: number;
  speedKmh: Record<Vehicle, number>;
  /** 24 factors on the speed, one per hour of the day in Douala (rush hours are slower); a city's own table wins. */
  speedFactorByHour?: readonly number[] | undefined;
  now?: () => number;
}

const DOUALA_OFFSET_MS = 3_600_000;

/**
 * `7-10:0.7,16-20:0.6` → 24 speed factors by Douala hour (from inclusive, to exclusive; a range
 * may wrap midnight, `22-5:0.9`; other hours 1). A bad table stops the boot naming the variable.
 */
export function parseSpeedFactorsByHour(text: string, name = 'ROUTING_SPEED_FACTORS_BY_HOUR'): number[] {
  const factors = Array.from({ length: 24 }, () => 1);
  if (text.trim() === '') return factors;
  for (const part of text.split(',')) {
    const match = /^(\d{1,2})-(\d{1,2}):(\d+(?:\.\d+)?)$/.exec(part.trim());
    const from = Number(match?.[1]);
    const to = Number(match?.[2]);
    const factor = Number(match?.[3]);
    if (match === null || from > 23 || to > 24 || from === to || factor < 0.1 || factor > 2)
      throw new RangeError(`${name}: "${part}" is not from-to:factor (hours 0-24, factor 0.1-2)`);
    const hours = (to - from + 24) % 24 || 24; // 0-24 is the whole day
    for (let step = 0; step < hours; step++) factors[(from + step) % 24] = factor;
  }
  return factors;
}

/** The hour of the day in Douala (UTC+1, no daylight saving). */
export function doualaHour(atMs: number): number {
  return new Date(atMs + DOUALA_OFFSET_MS).getUTCHours();
}

/** The city a trip starting at `from` belongs to (the nearest whose radius holds it), if any. */
export function cityOf(from: GeoPoint, cities: readonly City[]): City | undefined {
  let best: { city: City; distance: number } | undefined;
  for (const city of cities) {
    const distance = distanceMeters(from, city);
    if (distance <= city.radiusKm * 1000 && (best === undefined || distance < best.distance))
      best = { city, distance };
  }
  return best?.city;
}

export function haversineRoadFactor(from: GeoPoint, options: HaversineRoutingOptions): number {
  return cityOf(from, options.cities)?.roadFactor ?? options.defaultRoadFactor;
}

/** The speed factor at `atMs` for a trip from `from`: its city's table, else the default one, else 1. */
export function speedFactorAt(from: GeoPoint, atMs: number, options: HaversineRoutingOptions): number {
  const table = cityOf(from, options.cities)?.speedFactorByHour ?? options.speedFactorByHour;
  return table?.[doualaHour(atMs)] ?? 1;
}

export function createHaversineRouting(options: HaversineRoutingOptions): RoutingPort {
  return {
    async travel(from, to, vehicle) {
      const road = distanceMeters(from, to) * haversineRoadFactor(from, options);
      const factor = speedFactorAt(from, (options.now ?? Date.now)(), options);
      const metresPerSecond = (options.speedKmh[vehicle] * factor * 1000) / 3600;
      return { distanceMeters: Math.round(road), durationSeconds: Math.round(road / metresPerSecond) };
    },
  };
}

/** The cities the platform serves first, with their road factors from config. */
export function haversineFromConfig(
  config: {
    ROUTING_ROAD_FACTOR_DOUALA: number;
    ROUTING_ROAD_FACTOR_YAOUNDE: number;
    ROUTING_ROAD_FACTOR_DEFAULT: number;
    ROUTING_SPEED_KMH_MOTORBIKE: number;
    ROUTING_SPEED_KMH_CAR: number;
    ROUTING_SPEED_KMH_BICYCLE: number;
    ROUTING_SPEED_FACTORS_BY_HOUR?: string;
    ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA?: string | undefined;
    ROUTING_SPEED_FACTORS_BY_HOUR_YAOUNDE?: string | undefined;
  },
  now?: () => number,
): RoutingPort {
  // A city's table when it has one (empty or unset: the default table applies there too).
  const cityTable = (text: string | undefined, name: string) =>
    text === undefined || text.trim() === '' ? undefined : parseSpeedFactorsByHour(text, name);
  return createHaversineRouting({
    cities: [
      {
        name: 'Douala',
        latitude: 4.0511,
        longitude: 9.7679,
        radiusKm: 30,
        roadFactor: config.ROUTING_ROAD_FACTOR_DOUALA,
        speedFactorByHour: cityTable(
          config.ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA,
          'ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA',
        ),
      },
      {
        name: 'Yaoundé',
        latitude: 3.848,
        longitude: 11.5021,
        radiusKm: 30,
        roadFactor: config.ROUTING_ROAD_FACTOR_YAOUNDE,
        speedFactorByHour: cityTable(
          config.ROUTING_SPEED_FACTORS_BY_HOUR_YAOUNDE,
          'ROUTING_SPEED_FACTORS_BY_HOUR_YAOUNDE',
        ),
      },
    ],
    defaultRoadFactor: config.ROUTING_ROAD_FACTOR_DEFAULT,
    speedKmh: {
      motorbike: config.ROUTING_SPEED_KMH_MOTORBIKE,
      car: config.ROUTING_SPEED_KMH_CAR,
      bicycle: config.ROUTING_SPEED_KMH_BICYCLE,
    },
    speedFactorByHour: parseSpeedFactorsByHour(config.ROUTING_SPEED_FACTORS_BY_HOUR ?? ''),
    ...(now === undefined ? {} : { now }),
  });
}

/**
 * The routing port from config: Yandex's Distance Matrix when YANDEX_MAPS_API_KEY is set, with
 * the haversine estimate answering whenever the API fails; the haversine estimate alone otherwise.
 */
export function routingFromConfig(
  config: Parameters<typeof haversineFromConfig>[0] & {
    YANDEX_MAPS_API_KEY?: string | undefined;
    ROUTING_YANDEX_BASE_URL: string;
    ROUTING_TIMEOUT_MS: number;
  },
  onFallback?: (reason: string) => void,
): RoutingPort {
  const haversine = haversineFromConfig(config);
  if (config.YANDEX_MAPS_API_KEY === undefined || config.YANDEX_MAPS_API_KEY === '') return haversine;
  return createYandexRouting({
    apiKey: config.YANDEX_MAPS_API_KEY,
    baseUrl: config.ROUTING_YANDEX_BASE_URL,
    timeoutMs: config.ROUTING_TIMEOUT_MS,
    fallback: haversine,
    bicycleSpeedKmh: config.ROUTING_SPEED_KMH_BICYCLE,
    ...(onFallback === undefined ? {} : { onFallback }),
  });
}
