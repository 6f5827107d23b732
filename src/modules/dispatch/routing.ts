/**
 * The routing port: travel distance and time between two points for a vehicle. The dispatcher and
 * ETAs (issue #20, later) use the port, never a formula. The adapter here is haversine × a road
 * factor per city (Douala, Yaoundé, others) at a mean urban speed per vehicle, all from config;
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
}

export interface HaversineRoutingOptions {
  cities: readonly City[];
  defaultRoadFactor: number;
  speedKmh: Record<Vehicle, number>;
}

export function haversineRoadFactor(from: GeoPoint, options: HaversineRoutingOptions): number {
  let best: { city: City; distance: number } | undefined;
  for (const city of options.cities) {
    const distance = distanceMeters(from, city);
    if (distance <= city.radiusKm * 1000 && (best === undefined || distance < best.distance))
      best = { city, distance };
  }
  return best?.city.roadFactor ?? options.defaultRoadFactor;
}

export function createHaversineRouting(options: HaversineRoutingOptions): RoutingPort {
  return {
    async travel(from, to, vehicle) {
      const road = distanceMeters(from, to) * haversineRoadFactor(from, options);
      const metresPerSecond = (options.speedKmh[vehicle] * 1000) / 3600;
      return { distanceMeters: Math.round(road), durationSeconds: Math.round(road / metresPerSecond) };
    },
  };
}

/** The cities the platform serves first, with their road factors from config. */
export function haversineFromConfig(config: {
  ROUTING_ROAD_FACTOR_DOUALA: number;
  ROUTING_ROAD_FACTOR_YAOUNDE: number;
  ROUTING_ROAD_FACTOR_DEFAULT: number;
  ROUTING_SPEED_KMH_MOTORBIKE: number;
  ROUTING_SPEED_KMH_CAR: number;
  ROUTING_SPEED_KMH_BICYCLE: number;
}): RoutingPort {
  return createHaversineRouting({
    cities: [
      {
        name: 'Douala',
        latitude: 4.0511,
        longitude: 9.7679,
        radiusKm: 30,
        roadFactor: config.ROUTING_ROAD_FACTOR_DOUALA,
      },
      {
        name: 'Yaoundé',
        latitude: 3.848,
        longitude: 11.5021,
        radiusKm: 30,
        roadFactor: config.ROUTING_ROAD_FACTOR_YAOUNDE,
      },
    ],
    defaultRoadFactor: config.ROUTING_ROAD_FACTOR_DEFAULT,
    speedKmh: {
      motorbike: config.ROUTING_SPEED_KMH_MOTORBIKE,
      car: config.ROUTING_SPEED_KMH_CAR,
      bicycle: config.ROUTING_SPEED_KMH_BICYCLE,
    },
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
