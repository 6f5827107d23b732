/**
 * Distances and delivery estimates. Haversine on a sphere is within 0.5 % of the ellipsoid at
 * Cameroon's latitudes, far below the error of "how long a moto-taxi takes across Douala".
 * The SQL twin in the search repository uses the same constants, so filters and answers agree.
 */
export const EARTH_RADIUS_M = 6_371_000;
/** Streets are not straight lines: observed road distance ≈ 1.3 × great-circle in both cities. */
export const ROAD_FACTOR = 1.3;
/** A moto courier in city traffic, metres per minute (≈ 20 km/h). */
export const COURIER_METRES_PER_MINUTE = 333;
/** Pick-up and hand-over at both ends. */
export const HANDOVER_MINUTES = 5;
/** The largest delivery radius a restaurant may declare, and the largest search radius. */
export const MAX_DELIVERY_RADIUS_KM = 30;
export const MAX_SEARCH_RADIUS_KM = 50;

export interface Point {
  latitude: number;
  longitude: number;
}

const radians = (degrees: number) => (degrees * Math.PI) / 180;

export function haversineMeters(a: Point, b: Point): number {
  const deltaLatitude = radians(b.latitude - a.latitude);
  const deltaLongitude = radians(b.longitude - a.longitude);
  const h =
    Math.sin(deltaLatitude / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(deltaLongitude / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Minutes from order to door: preparation, travel by road, hand-over. */
export function deliveryEstimateMinutes(prepTimeMinutes: number, distanceMeters: number): number {
  return (
    prepTimeMinutes + Math.ceil((distanceMeters * ROAD_FACTOR) / COURIER_METRES_PER_MINUTE) + HANDOVER_MINUTES
  );
}

export function isValidPoint(point: Partial<Point>): point is Point {
  const { latitude, longitude } = point;
  return (
    typeof latitude === 'number' &&
    typeof longitude === 'number' &&
    Number.isFinite(latitude) &&
    Number.isFinite(longitude) &&
    latitude >= -90 &&
    latitude <= 90 &&
    longitude >= -180 &&
    longitude <= 180
  );
}

/** A latitude/longitude box that contains every point within `radiusMeters` (index pre-filter). */
export function boundingBox(
  center: Point,
  radiusMeters: number,
): { minLat: number; maxLat: number; minLng: number; maxLng: number } {
  const latitudeDelta = (radiusMeters / EARTH_RADIUS_M) * (180 / Math.PI);
  const cosine = Math.max(0.01, Math.cos(radians(center.latitude)));
  const longitudeDelta = latitudeDelta / cosine;
  return {
    minLat: center.latitude - latitudeDelta,
    maxLat: center.latitude + latitudeDelta,
    minLng: center.longitude - longitudeDelta,
    maxLng: center.longitude + longitudeDelta,
  };
}
