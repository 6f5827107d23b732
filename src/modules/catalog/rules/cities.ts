/**
 * Cities as data (issue #26), the pure part: what a city record must satisfy and how a name a
 * client sends is matched to one. No I/O.
 */

export const CITY_ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,39}$';
/** A city's bounding box may span at most this many degrees each way (≈ 220 km): a city, not a region. */
export const MAX_CITY_SPAN_DEGREES = 2;
/** Limits on the per-city rules an admin may set (XAF, integers). */
export const MAX_CITY_DELIVERY_FEE_XAF = 10_000;
export const MAX_CITY_MINIMUM_ORDER_XAF = 100_000;
export const MAX_CITY_DELIVERY_FEE_PER_KM_XAF = 2_000;
/** A city's cap on delivery distance: at most a restaurant's own largest radius (30 km). */
export const MIN_CITY_DELIVERY_DISTANCE_M = 500;
export const MAX_CITY_DELIVERY_DISTANCE_M = 30_000;
/** Dispatch's matching radii a city may set (km, in steps of 0.5): a city, not a region. */
export const MIN_CITY_DISPATCH_RADIUS_KM = 0.5;
/** A city's commission on restaurants (percent): half the food at most. */
export const MAX_CITY_COMMISSION_PERCENT = 50;
export const MAX_CITY_DISPATCH_RADIUS_KM = 50;

export interface CityBounds {
  south: number;
  west: number;
  north: number;
  east: number;
}

export interface CityCenter {
  latitude: number;
  longitude: number;
}

/** Per-city rules; every absent rule falls back to the global configuration. */
export interface CityRules {
  /** The delivery fee's base (XAF); absent: 500. */
  deliveryFeeXaf?: number;
  /** The delivery fee per km (XAF, a multiple of 10: charged per started 100 m); absent: 100. */
  deliveryFeePerKmXaf?: number;
  /** Smallest order subtotal accepted (XAF). */
  minimumOrderXaf?: number;
  /** Service open in the city (orders accepted); absent = open. */
  serviceOpen?: boolean;
  /** Hours orders are accepted, local time, `HH:MM-HH:MM` (overnight allowed); absent = always. */
  serviceHours?: string;
  /** Largest restaurant-to-customer distance (m), over any restaurant's own radius; absent = none. */
  maxDeliveryDistanceM?: number;
  /** Tax rate (percent, at most 4 decimals); absent: TAX_RATE_PERCENT. */
  taxRatePercent?: number;
  /** Customer support hours, local time, `HH:MM-HH:MM`. */
  supportHours?: string;
  /**
   * The platform's commission on restaurants in the city (percent, at most 2 decimals, ≤ 50),
   * recorded on each order at placement; between the platform's tiers and a restaurant's override.
   */
  commissionPercent?: number;
  /** Dispatch's first matching radius around the restaurant (km); absent: DISPATCH_RADIUS_KM. */
  dispatchRadiusKm?: number;
  /** How far each new round widens it (km); absent: DISPATCH_RADIUS_STEP_KM. */
  dispatchRadiusStepKm?: number;
  /** The widest it gets (km, at least the first radius); absent: DISPATCH_MAX_RADIUS_KM. */
  dispatchMaxRadiusKm?: number;
}

export interface City {
  id: string;
  name: { fr: string; en: string };
  country: string;
  timeZone: string;
  currency: 'XAF';
  languages: string[];
  active: boolean;
  center: CityCenter;
  bounds: CityBounds;
  rules: CityRules;
}

/** The same normal form restaurants' free-text cities were stored in: lower case, no accents, dashes. */
export function normalizeCityName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/\s+/g, '-');
}

/** The city a client's `city` names: its id, or its French or English name in any case or accent. */
export function matchCity<T extends Pick<City, 'id' | 'name'>>(
  cities: readonly T[],
  input: string,
): T | undefined {
  const wanted = normalizeCityName(input);
  return cities.find(
    (city) =>
      city.id === wanted ||
      normalizeCityName(city.name.fr) === wanted ||
      normalizeCityName(city.name.en) === wanted,
  );
}

export function isTimeZone(zone: string): boolean {
  if (zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** What is wrong with a city's geometry and time zone, as `{path, message}` lines (empty = valid). */
export function cityProblems(city: {
  timeZone: string;
  center: CityCenter;
  bounds: CityBounds;
  rules: CityRules;
}): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const { bounds, center } = city;
  if (!isTimeZone(city.timeZone))
    problems.push({ path: 'timeZone', message: 'not an IANA time zone (e.g. Africa/Douala)' });
  if (!(bounds.south < bounds.north)) problems.push({ path: 'bounds', message: 'south must be below north' });
  if (!(bounds.west < bounds.east)) problems.push({ path: 'bounds', message: 'west must be below east' });
  if (
    bounds.north - bounds.south > MAX_CITY_SPAN_DEGREES ||
    bounds.east - bounds.west > MAX_CITY_SPAN_DEGREES
  )
    problems.push({
      path: 'bounds',
      message: `a city spans at most ${MAX_CITY_SPAN_DEGREES} degrees each way`,
    });
  if (!insideBounds(bounds, center))
    problems.push({ path: 'center', message: 'the centre must lie inside the bounds' });
  for (const key of ['supportHours', 'serviceHours'] as const) {
    const window = city.rules[key];
    if (window !== undefined && !/^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/.test(window))
      problems.push({ path: `rules.${key}`, message: 'HH:MM-HH:MM' });
  }
  const { dispatchRadiusKm, dispatchMaxRadiusKm } = city.rules;
  if (
    dispatchRadiusKm !== undefined &&
    dispatchMaxRadiusKm !== undefined &&
    dispatchMaxRadiusKm < dispatchRadiusKm
  )
    problems.push({
      path: 'rules.dispatchMaxRadiusKm',
      message: 'the widest matching radius cannot be below the first (dispatchRadiusKm)',
    });
  const commission = city.rules.commissionPercent;
  if (commission !== undefined && !/^\d{1,2}(\.\d{1,2})?$/.test(String(commission)))
    problems.push({ path: 'rules.commissionPercent', message: 'a percentage with at most 2 decimals' });
  const rate = city.rules.taxRatePercent;
  if (rate !== undefined && !/^\d{1,3}(\.\d{1,4})?$/.test(String(rate)))
    problems.push({ path: 'rules.taxRatePercent', message: 'a percentage with at most 4 decimals' });
  return problems;
}

/**
 * A percentage with at most 2 decimals as the ledger's rate, a fraction with at most 4 decimals
 * (12.5 → "0.125"), exactly: by moving the decimal point, never by floating-point division.
 */
export function percentToRate(percent: number): string {
  const text = String(percent);
  if (!/^\d{1,3}(\.\d{1,4})?$/.test(text)) throw new RangeError(`not a percentage: ${text}`);
  const [whole, fraction = ''] = text.split('.');
  const digits = `${whole!.padStart(3, '0')}${fraction}`; // 012|5 → 0.125
  const integer = digits.slice(0, -2 - fraction.length).replace(/^0+(?=\d)/, '');
  const decimals = digits.slice(-2 - fraction.length).replace(/0+$/, '');
  return decimals === '' ? integer : `${integer}.${decimals}`;
}

export function insideBounds(bounds: CityBounds, point: CityCenter): boolean {
  return (
    point.latitude >= bounds.south &&
    point.latitude <= bounds.north &&
    point.longitude >= bounds.west &&
    point.longitude <= bounds.east
  );
}
