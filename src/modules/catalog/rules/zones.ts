/**
 * Zones within a city and the delivery terms at a point (issue #26), the pure part: no I/O.
 *
 * A zone is a set of H3 cells (`h3-js`), kept compacted (a parent stands for its seven
 * children), and optionally the polygon an admin drew (the apps' map draws it; its cells are
 * `polygonToCells` at the configured resolution). The zone of a point is found by looking up the
 * point's cell and its ancestors in an in-memory map (`indexZones`, `zoneAt`): a handful of map
 * reads whatever the number of zones or vertices (docs/catalog.md, "Zones").
 *
 * Every reader (order placement and its quote, search, dispatch) asks `deliveryTermsAt` for the
 * city's and zone's rules: one place decides where the platform delivers and at what fee.
 */
import {
  cellArea,
  cellToChildrenSize,
  cellToLatLng,
  cellToParent,
  cellsToMultiPolygon,
  compactCells,
  getResolution,
  isValidCell,
  latLngToCell,
  polygonToCells,
  uncompactCells,
} from 'h3-js';
import { percentToRate, type City, type CityRules } from './cities.js';
import { WEEKDAYS, type Weekday } from './hours.js';

export const ZONE_ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,39}$';
export const MIN_ZONE_VERTICES = 3;
export const MAX_ZONE_VERTICES = 100;
export const MAX_ZONES_PER_CITY = 100;
/** The most zones a restaurant names as its delivery area (a CHECK in the table too). */
export const MAX_RESTAURANT_DELIVERY_ZONES = 20;
export const MAX_SURGES_PER_ZONE = 8;
/** The H3 resolution zones are cut at unless configured (`ZONE_H3_RESOLUTION`): cells of ~0.1 km². */
export const DEFAULT_ZONE_H3_RESOLUTION = 9;
/** The resolutions a deployment may configure: 7 (~5 km², coarse) to 10 (~0.015 km², a street). */
export const MIN_ZONE_H3_RESOLUTION = 7;
export const MAX_ZONE_H3_RESOLUTION = 10;
/** The coarsest cell an admin may name (a compacted set's parents): ~250 km². */
export const MIN_CELL_RESOLUTION = 5;
/** The most cells a zone or a restaurant's area covers, counted at its resolution (uncompacted). */
export const MAX_ZONE_CELLS = 50_000;
/** The most cell ids a request may list (a compacted set needs far fewer). */
export const MAX_LISTED_CELLS = 5_000;
/** A zone's fee adjustment and each surge stay within these bounds (XAF, integers). */
export const MIN_ZONE_FEE_ADJUSTMENT_XAF = -5_000;
export const MAX_ZONE_FEE_ADJUSTMENT_XAF = 10_000;

/** The global fee rule (orders' pricing): 500 XAF + 100 XAF per km, per started 100 m. */
export const DEFAULT_BASE_DELIVERY_FEE_XAF = 500;
export const DEFAULT_DELIVERY_FEE_PER_KM_XAF = 100;

export interface ZonePoint {
  latitude: number;
  longitude: number;
}

/** An amount added to the delivery fee in a window of local time (rush hour, rain, late night). */
export interface FeeSurge {
  /** Days the window starts on (local); absent = every day. */
  days?: Weekday[];
  /** `HH:MM-HH:MM`, local; a window ending at or before its start runs past midnight. */
  window: string;
  addXaf: number;
}

export interface Zone {
  id: string;
  cityId: string;
  name: string;
  /** The outline an admin drew (the apps' map); null when the zone was given as cells only. */
  polygon: ZonePoint[] | null;
  /** The zone's H3 cells, compacted; what `zoneAt` looks points up in. */
  cells: string[];
  /** The resolution the cells were cut at (the finest in `cells`). */
  resolution: number;
  active: boolean;
  /** False: the platform does not deliver to points in this zone (a port, a military area). */
  delivers: boolean;
  /** Added to every delivery fee to this zone (may be negative: a promoted district). */
  feeAdjustmentXaf: number;
  surges: FeeSurge[];
}

export type DeliveryRefusal =
  'city_inactive' | 'service_closed' | 'outside_service_hours' | 'outside_zones' | 'zone_not_served';

export interface DeliveryFeeRule {
  baseXaf: number;
  per100MetresXaf: number;
  /** The zone's adjustment plus the surges in force. */
  adjustmentXaf: number;
}

/** What a delivery to a point of a city costs and whether it may happen, at an instant. */
export interface DeliveryTerms {
  cityId: string;
  /** The zone the point lies in (the smallest when zones overlap); null when the city has none. */
  zoneId: string | null;
  refusal?: DeliveryRefusal;
  fee: DeliveryFeeRule;
  minimumOrderXaf: number;
  /** The city's cap on the restaurant-to-customer distance; null: the restaurant's radius alone. */
  maxDeliveryDistanceM: number | null;
  /** The city's tax rate as a decimal string; null: the configured TAX_RATE_PERCENT. */
  taxRatePercent: string | null;
  /** The city's commission on restaurants as the ledger's rate ("0.125"); null: the platform's tiers. */
  commissionRate: string | null;
  /** The part of `fee.adjustmentXaf` that is the zone's surges in force (0: none); zone statistics. */
  surgeXaf: number;
  /** Dispatch's matching radii in the city (km); null: dispatch's configured default. */
  dispatch: { radiusKm: number | null; radiusStepKm: number | null; maxRadiusKm: number | null };
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

export function isWindow(text: string): boolean {
  const match = WINDOW.exec(text);
  if (match === null) return false;
  return !(match[3] === '24' && match[4] !== '00');
}

function windowMinutes(text: string): { from: number; to: number } {
  const match = WINDOW.exec(text);
  if (match === null) throw new RangeError(`not a window: ${text}`);
  return {
    from: Number(match[1]) * 60 + Number(match[2]),
    to: Number(match[3]) * 60 + Number(match[4]),
  };
}

// One formatter per time zone: building one costs far more than using it (cities share a few zones).
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 100;

/** The weekday and minute of the day at `at` in `timeZone`. */
export function localClock(at: Date, timeZone: string): { day: Weekday; minute: number } {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = part('weekday').toLowerCase().slice(0, 3) as Weekday;
  return { day, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

/**
 * Whether a local clock lies in a window; with `days`, the window must have started on one of
 * them (the part of an overnight window after midnight belongs to the day before).
 */
export function inWindow(clock: { day: Weekday; minute: number }, window: string, days?: Weekday[]): boolean {
  const { from, to } = windowMinutes(window);
  const dayAllowed = (day: Weekday) => days === undefined || days.includes(day);
  const previous = WEEKDAYS[(WEEKDAYS.indexOf(clock.day) + 6) % 7]!;
  if (from < to) return clock.minute >= from && clock.minute < to && dayAllowed(clock.day);
  // Overnight (or the whole day when from === to).
  if (clock.minute >= from) return dayAllowed(clock.day);
  return clock.minute < to && dayAllowed(previous);
}

/** Ray casting on (longitude, latitude): true inside, false outside (a point on an edge may go either way). */
export function pointInPolygon(point: ZonePoint, polygon: readonly ZonePoint[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    const crosses =
      a.latitude > point.latitude !== b.latitude > point.latitude &&
      point.longitude <
        ((b.longitude - a.longitude) * (point.latitude - a.latitude)) / (b.latitude - a.latitude) +
          a.longitude;
    if (crosses) inside = !inside;
  }
  return inside;
}

/** The polygon's area in square degrees (shoelace): picks the most specific of overlapping zones. */
export function polygonArea(polygon: readonly ZonePoint[]): number {
  let twice = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    twice += polygon[j]!.longitude * polygon[i]!.latitude - polygon[i]!.longitude * polygon[j]!.latitude;
  }
  return Math.abs(twice) / 2;
}

function orientation(p: ZonePoint, q: ZonePoint, r: ZonePoint): number {
  const value =
    (q.latitude - p.latitude) * (r.longitude - q.longitude) -
    (q.longitude - p.longitude) * (r.latitude - q.latitude);
  return Math.sign(value);
}

function segmentsCross(a: ZonePoint, b: ZonePoint, c: ZonePoint, d: ZonePoint): boolean {
  const o1 = orientation(a, b, c);
  const o2 = orientation(a, b, d);
  const o3 = orientation(c, d, a);
  const o4 = orientation(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  // Collinear overlaps count as crossing: a degenerate outline is refused.
  const onSegment = (p: ZonePoint, q: ZonePoint, r: ZonePoint) =>
    Math.min(p.latitude, r.latitude) <= q.latitude &&
    q.latitude <= Math.max(p.latitude, r.latitude) &&
    Math.min(p.longitude, r.longitude) <= q.longitude &&
    q.longitude <= Math.max(p.longitude, r.longitude);
  return (
    (o1 === 0 && onSegment(a, c, b)) ||
    (o2 === 0 && onSegment(a, d, b)) ||
    (o3 === 0 && onSegment(c, a, d)) ||
    (o4 === 0 && onSegment(c, b, d))
  );
}

/** True when two edges that do not share a vertex touch or cross (O(n²), n ≤ MAX_ZONE_VERTICES). */
export function selfIntersects(polygon: readonly ZonePoint[]): boolean {
  const n = polygon.length;
  for (let i = 0; i < n; i += 1) {
    for (let j = i + 1; j < n; j += 1) {
      const adjacent = j === i + 1 || (i === 0 && j === n - 1);
      if (adjacent) continue;
      if (segmentsCross(polygon[i]!, polygon[(i + 1) % n]!, polygon[j]!, polygon[(j + 1) % n]!)) return true;
    }
  }
  return false;
}

type Problem = { path: string; message: string };
type Bounds = City['bounds'];

function withinBounds(point: ZonePoint, bounds: Bounds): boolean {
  return (
    point.latitude >= bounds.south &&
    point.latitude <= bounds.north &&
    point.longitude >= bounds.west &&
    point.longitude <= bounds.east
  );
}

/** What is wrong with an outline inside `bounds`, as `{path, message}` lines (empty = valid). */
export function polygonProblems(polygon: readonly ZonePoint[], bounds: Bounds, path = 'polygon'): Problem[] {
  const problems: Problem[] = [];
  if (polygon.length < MIN_ZONE_VERTICES || polygon.length > MAX_ZONE_VERTICES)
    problems.push({ path, message: `${MIN_ZONE_VERTICES} to ${MAX_ZONE_VERTICES} vertices` });
  polygon.forEach((vertex, index) => {
    if (!withinBounds(vertex, bounds))
      problems.push({ path: `${path}/${index}`, message: "outside the city's bounds" });
  });
  if (polygon.length >= MIN_ZONE_VERTICES && problems.length === 0) {
    if (selfIntersects(polygon)) problems.push({ path, message: 'the outline crosses itself' });
    else if (polygonArea(polygon) === 0) problems.push({ path, message: 'the outline has no area' });
  }
  return problems;
}

/**
 * What is wrong with a set of H3 cell ids inside `bounds` at `resolution` (empty = valid): each
 * a valid cell id, of `resolution` or coarser down to MIN_CELL_RESOLUTION (a compacted set),
 * its centre inside the bounds, none listed twice or inside another listed cell, and at most
 * MAX_ZONE_CELLS cells once counted at `resolution`.
 */
export function cellProblems(
  cells: readonly string[],
  bounds: Bounds,
  resolution: number,
  path = 'cells',
): Problem[] {
  const problems: Problem[] = [];
  if (cells.length === 0) return [{ path, message: 'at least one cell' }];
  if (cells.length > MAX_LISTED_CELLS) return [{ path, message: `at most ${MAX_LISTED_CELLS} cell ids` }];
  const seen = new Set<string>();
  const valid: string[] = [];
  cells.forEach((cell, index) => {
    if (problems.length >= 20) return; // enough to read
    const at = `${path}/${index}`;
    if (!isValidCell(cell)) return void problems.push({ path: at, message: 'not an H3 cell id' });
    const res = getResolution(cell);
    if (res > resolution || res < MIN_CELL_RESOLUTION)
      return void problems.push({ path: at, message: `resolution ${MIN_CELL_RESOLUTION} to ${resolution}` });
    if (seen.has(cell)) return void problems.push({ path: at, message: 'listed twice' });
    seen.add(cell);
    const [latitude, longitude] = cellToLatLng(cell);
    if (!withinBounds({ latitude, longitude }, bounds))
      return void problems.push({ path: at, message: "outside the city's bounds" });
    valid.push(cell);
  });
  if (problems.length > 0) return problems;
  for (const cell of valid) {
    for (let res = getResolution(cell) - 1; res >= MIN_CELL_RESOLUTION; res -= 1) {
      if (seen.has(cellToParent(cell, res))) {
        problems.push({ path, message: `${cell} lies inside ${cellToParent(cell, res)}, also listed` });
        break;
      }
    }
  }
  if (problems.length > 0) return problems;
  if (cellCount(valid, resolution) > MAX_ZONE_CELLS)
    problems.push({ path, message: `at most ${MAX_ZONE_CELLS} cells of resolution ${resolution}` });
  return problems;
}

/** How many cells of `resolution` a (compacted) set covers. */
export function cellCount(cells: readonly string[], resolution: number): number {
  return cells.reduce((sum, cell) => sum + cellToChildrenSize(cell, resolution), 0);
}

/**
 * The cells of an outline at `resolution` (those whose centre lies inside it, H3's rule),
 * compacted; empty when the outline is smaller than a cell.
 */
export function polygonCells(polygon: readonly ZonePoint[], resolution: number): string[] {
  const ring = polygon.map((p) => [p.latitude, p.longitude]);
  return compactCells(polygonToCells(ring, resolution));
}

/** The cells a zone or a restaurant's area is given by: its cells, else its polygon's. */
export function areaCells(
  input: { polygon?: readonly ZonePoint[] | null | undefined; cells?: readonly string[] | null | undefined },
  resolution: number,
): string[] {
  if (input.cells !== undefined && input.cells !== null)
    return compactCells(
      [...new Set(input.cells)].flatMap((cell) =>
        getResolution(cell) === resolution ? [cell] : uncompactCells([cell], resolution),
      ),
    );
  if (input.polygon !== undefined && input.polygon !== null) return polygonCells(input.polygon, resolution);
  return [];
}

/**
 * What is wrong with an area given as a polygon and/or cells inside `bounds` (empty = valid):
 * one of them at least, each valid, and at least one cell (an outline smaller than a cell of
 * `resolution` covers none), at most MAX_ZONE_CELLS.
 */
export function areaProblems(
  input: { polygon?: readonly ZonePoint[] | null | undefined; cells?: readonly string[] | null | undefined },
  bounds: Bounds,
  resolution: number,
): Problem[] {
  const hasPolygon = input.polygon !== undefined && input.polygon !== null;
  const hasCells = input.cells !== undefined && input.cells !== null;
  if (!hasPolygon && !hasCells) return [{ path: '', message: 'a polygon or cells' }];
  const problems = [
    ...(hasPolygon ? polygonProblems(input.polygon!, bounds) : []),
    ...(hasCells ? cellProblems(input.cells!, bounds, resolution) : []),
  ];
  if (problems.length > 0 || hasCells) return problems;
  const cells = polygonCells(input.polygon!, resolution);
  if (cells.length === 0)
    return [
      {
        path: 'polygon',
        message: `smaller than one H3 cell of resolution ${resolution}; draw it wider or give cells`,
      },
    ];
  if (cellCount(cells, resolution) > MAX_ZONE_CELLS || cells.length > MAX_LISTED_CELLS)
    return [
      { path: 'polygon', message: `covers more than ${MAX_ZONE_CELLS} cells of resolution ${resolution}` },
    ];
  return [];
}

/** What is wrong with a zone of `city`, as `{path, message}` lines (empty = valid). */
export function zoneProblems(
  zone: Pick<Zone, 'polygon' | 'surges' | 'feeAdjustmentXaf'> & { cells?: readonly string[] | null },
  city: Pick<City, 'bounds'>,
  resolution: number = DEFAULT_ZONE_H3_RESOLUTION,
): Problem[] {
  const problems = areaProblems(zone, city.bounds, resolution);
  zone.surges.forEach((surge, index) => {
    if (!isWindow(surge.window)) problems.push({ path: `surges/${index}/window`, message: 'HH:MM-HH:MM' });
  });
  return problems;
}

/**
 * The zone's outline: the polygon drawn, else the outer ring of its cells' largest piece (what
 * a reader that needs a shape, such as USSD's zone centre, uses).
 */
export function zoneOutline(zone: Pick<Zone, 'polygon' | 'cells' | 'resolution'>): ZonePoint[] {
  if (zone.polygon !== null) return zone.polygon;
  const pieces = cellsToMultiPolygon(uncompactCells(zone.cells, zone.resolution));
  let best: ZonePoint[] = [];
  let bestArea = -1;
  for (const piece of pieces) {
    const ring = (piece[0] ?? []).map(([latitude, longitude]) => ({
      latitude: latitude!,
      longitude: longitude!,
    }));
    const area = polygonArea(ring);
    if (area > bestArea) [best, bestArea] = [ring, area];
  }
  return best;
}

/** The cell ids containing a point, from resolution 15 down to MIN_CELL_RESOLUTION. */
export function pointCellPath(point: ZonePoint, finest = 15): string[] {
  const cell = latLngToCell(point.latitude, point.longitude, finest);
  const path = [cell];
  for (let res = finest - 1; res >= MIN_CELL_RESOLUTION; res -= 1) path.push(cellToParent(cell, res));
  return path;
}

/** Whether a point lies in a (compacted) set of cells. */
export function pointInCells(point: ZonePoint, cells: ReadonlySet<string>): boolean {
  return pointCellPath(point).some((cell) => cells.has(cell));
}

/** A city's zones by cell: built once per directory load, read on every delivery check. */
export interface ZoneIndex {
  zones: readonly Zone[];
  /** Whether any zone is active (a city without active zones delivers wherever restaurants reach). */
  hasActive: boolean;
  /** Each cell of an active zone, with the zones that list it. */
  byCell: Map<string, Zone[]>;
  /** The resolutions present, finest first. */
  resolutions: number[];
  /** Each zone's area in km² (the sum of its cells'): the smallest of overlapping zones wins. */
  areas: Map<string, number>;
}

export function indexZones(zones: readonly Zone[]): ZoneIndex {
  const byCell = new Map<string, Zone[]>();
  const resolutions = new Set<number>();
  const areas = new Map<string, number>();
  for (const zone of zones) {
    if (!zone.active) continue;
    let area = 0;
    for (const cell of zone.cells) {
      byCell.set(cell, [...(byCell.get(cell) ?? []), zone]);
      resolutions.add(getResolution(cell));
      area += cellArea(cell, 'km2');
    }
    areas.set(zone.id, area);
  }
  return {
    zones,
    hasActive: zones.some((z) => z.active),
    byCell,
    resolutions: [...resolutions].sort((a, b) => b - a),
    areas,
  };
}

/**
 * The zone of a city a point lies in: among active zones whose cells contain the point's cell,
 * the smallest (a surge district inside a delivery area wins), then the first id. At most one
 * map read per resolution present: no scan of zones or vertices.
 */
export function zoneAt(index: ZoneIndex, point: ZonePoint): Zone | undefined {
  if (index.resolutions.length === 0) return undefined;
  const finest = latLngToCell(point.latitude, point.longitude, index.resolutions[0]!);
  let best: { zone: Zone; area: number } | undefined;
  for (const res of index.resolutions) {
    const cell = res === index.resolutions[0] ? finest : cellToParent(finest, res);
    for (const zone of index.byCell.get(cell) ?? []) {
      const area = index.areas.get(zone.id) ?? 0;
      if (best === undefined || area < best.area || (area === best.area && zone.id < best.zone.id))
        best = { zone, area };
    }
  }
  return best?.zone;
}

function refusalOf(
  city: City,
  clock: { day: Weekday; minute: number },
  zones: ZoneIndex,
  zone: Zone | undefined,
): DeliveryRefusal | undefined {
  const rules = city.rules;
  if (!city.active) return 'city_inactive';
  if (rules.serviceOpen === false) return 'service_closed';
  if (rules.serviceHours !== undefined && !inWindow(clock, rules.serviceHours))
    return 'outside_service_hours';
  // A city without active zones delivers wherever its restaurants reach.
  if (zones.hasActive && zone === undefined) return 'outside_zones';
  if (zone !== undefined && !zone.delivers) return 'zone_not_served';
  return undefined;
}

/** The delivery terms of `city` at `point` and instant `at` (the city's local time). */
export function deliveryTermsAt(city: City, zones: ZoneIndex, point: ZonePoint, at: Date): DeliveryTerms {
  const rules: CityRules = city.rules;
  const clock = localClock(at, city.timeZone);
  const zone = zoneAt(zones, point);
  const surges =
    zone?.surges
      .filter((surge) => inWindow(clock, surge.window, surge.days))
      .reduce((s, x) => s + x.addXaf, 0) ?? 0;
  const refusal = refusalOf(city, clock, zones, zone);
  return {
    cityId: city.id,
    zoneId: zone?.id ?? null,
    ...(refusal === undefined ? {} : { refusal }),
    fee: {
      baseXaf: rules.deliveryFeeXaf ?? DEFAULT_BASE_DELIVERY_FEE_XAF,
      per100MetresXaf: (rules.deliveryFeePerKmXaf ?? DEFAULT_DELIVERY_FEE_PER_KM_XAF) / 10,
      adjustmentXaf: (zone?.feeAdjustmentXaf ?? 0) + surges,
    },
    minimumOrderXaf: rules.minimumOrderXaf ?? 0,
    maxDeliveryDistanceM: rules.maxDeliveryDistanceM ?? null,
    taxRatePercent: rules.taxRatePercent === undefined ? null : String(rules.taxRatePercent),
    commissionRate: rules.commissionPercent === undefined ? null : percentToRate(rules.commissionPercent),
    surgeXaf: surges,
    dispatch: {
      radiusKm: rules.dispatchRadiusKm ?? null,
      radiusStepKm: rules.dispatchRadiusStepKm ?? null,
      maxRadiusKm: rules.dispatchMaxRadiusKm ?? null,
    },
  };
}

/** Why a restaurant does not deliver to a point, once the city's terms are applied. */
export type ReachRefusal =
  DeliveryRefusal | 'outside_radius' | 'outside_restaurant_zones' | 'outside_restaurant_area';

/** Whether a point in zone `zoneId` lies in a restaurant's own delivery zones (none set: yes). */
export function inRestaurantZones(deliveryZones: readonly string[] | null, zoneId: string | null): boolean {
  return deliveryZones === null || (zoneId !== null && deliveryZones.includes(zoneId));
}

/**
 * Whether a restaurant `distanceM` away reaches the point under the city's terms: the city's
 * refusal first (zones, service hours, service closed), then the nearer of the restaurant's
 * radius and the city's distance cap. The profile's `deliversHere` and `orders.checkDelivery`
 * answer by this, as placement and search do, so no reader promises what placement refuses.
 */
export function reachUnderTerms(
  terms: Pick<DeliveryTerms, 'refusal' | 'maxDeliveryDistanceM' | 'zoneId'> & {
    /** The restaurant's own area or zones exclude the point (delivery-areas.ts `restaurantTerms`). */
    restaurantRefusal?: 'outside_restaurant_zones' | 'outside_restaurant_area';
  },
  distanceM: number,
  restaurantRadiusM: number,
  deliveryZones: readonly string[] | null = null,
): { reachM: number; refusal?: ReachRefusal } {
  const reachM =
    terms.maxDeliveryDistanceM === null
      ? restaurantRadiusM
      : Math.min(restaurantRadiusM, terms.maxDeliveryDistanceM);
  if (terms.refusal !== undefined) return { reachM, refusal: terms.refusal };
  // A restaurant whose area is a set of its city's zones delivers only inside them (issue #26).
  if (!inRestaurantZones(deliveryZones, terms.zoneId)) return { reachM, refusal: 'outside_restaurant_zones' };
  if (terms.restaurantRefusal !== undefined) return { reachM, refusal: terms.restaurantRefusal };
  return distanceM <= reachM ? { reachM } : { reachM, refusal: 'outside_radius' };
}
