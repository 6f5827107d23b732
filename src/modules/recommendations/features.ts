/**
 * Feature extraction for the recommendation ranker (issue #24), shared by the trainer (`ml/`) and
 * the server, so that a model is fed the same numbers offline and online.
 *
 * No feature names a dish or a customer: every number is a statistic of the order history
 * (co-ordering, the customer's own habits, popularity by time slot and location cell) or a content
 * property of the candidate dish (section, price, distance). A model trained on the synthetic
 * history therefore ranks any catalog's dishes.
 *
 * `HistoryStats` folds orders in time order; `featureRows` reads it at one instant. The trainer
 * reads before it folds each order (so a training row never sees its own future), the server
 * folds every placed order from the projection and reads at request time.
 */

export const SECTIONS = ['starters', 'mains', 'grill', 'breakfast', 'drinks', 'desserts'] as const;
export type Section = (typeof SECTIONS)[number];
export const SLOTS = ['breakfast', 'lunch', 'dinner', 'late'] as const;
export type Slot = (typeof SLOTS)[number];

/** Africa/Douala is UTC+1 all year (no daylight saving). */
const LOCAL_OFFSET_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Popularity fades with a two-week half-life. */
export const POPULARITY_HALF_LIFE_DAYS = 14;
/** A location cell is 0.02° (about 2.2 km) square: a neighbourhood, never an address. */
export const CELL_DEGREES = 0.02;
/** The customer's distinct dishes that feed the co-ordering score (most recent first). */
const COOC_HISTORY_MAX = 30;

export const FEATURE_NAMES = [
  'customer_item_count_log',
  'customer_item_recency',
  'customer_restaurant_share',
  'customer_section_share',
  'customer_cuisine_share',
  'co_ordering',
  'item_popularity_log',
  'item_slot_share',
  'cell_item_popularity_log',
  'restaurant_popularity_log',
  'price_log',
  'price_vs_customer_log',
  'distance_10km',
  'has_location',
  'customer_orders_log',
  ...SECTIONS.map((section) => `section_${section}`),
  ...SLOTS.map((slot) => `slot_${slot}`),
  'weekend',
  'rain',
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** A dish that can be recommended: what the catalog knows of it. */
export interface CandidateItem {
  itemId: string;
  restaurantId: string;
  section: Section;
  priceMinor: number;
  /** The restaurant's first cuisine. */
  cuisine: string;
  latitude: number;
  longitude: number;
}

/** A placed order, as the projection keeps it (and the generator writes it). */
export interface OrderFact {
  orderId: string;
  customerId: string;
  restaurantId: string;
  lines: { itemId: string; quantity: number }[];
  /** Epoch milliseconds of placement. */
  at: number;
  /** The delivery's location cell, or null (unknown, or erased). */
  cell: string | null;
  /**
   * The weather the order was placed in, for training: the recorded reading of its city and hour
   * (weather/history.ts) or the generator's; absent, the trainers read the season's bucket.
   */
  rain?: boolean;
}

/** The moment and place a ranking is asked for. */
export interface RankingContext {
  at: number;
  rain: boolean;
  location: { latitude: number; longitude: number } | null;
}

/**
 * Chance of rain on a day of each month (0 = January): Douala's long wet season, Yaoundé's two.
 * The generator draws each day's weather from it; the server uses it (≥ 0.5: rain) when the app
 * does not say what the weather is.
 */
export const RAIN_CHANCE = {
  douala: [0.1, 0.15, 0.35, 0.5, 0.55, 0.7, 0.85, 0.85, 0.8, 0.6, 0.3, 0.1],
  yaounde: [0.05, 0.1, 0.4, 0.55, 0.5, 0.3, 0.15, 0.2, 0.5, 0.6, 0.35, 0.1],
} as const;

/** Douala's and Yaoundé's centres: the season's calendars, and the weather warmed at each refresh. */
export const CITY_CENTRES = {
  douala: { latitude: 4.0511, longitude: 9.7679 },
  yaounde: { latitude: 3.848, longitude: 11.5021 },
} as const;

export type WeatherCity = keyof typeof CITY_CENTRES;

/** The city whose season (and recorded weather) a place reads: the nearer one, Douala without a place. */
export function nearerCity(location: { latitude: number; longitude: number } | null): WeatherCity {
  return location !== null &&
    distanceKm(location, CITY_CENTRES.yaounde) < distanceKm(location, CITY_CENTRES.douala)
    ? 'yaounde'
    : 'douala';
}

/** The season's chance of rain on a day at a place (the nearer city's calendar; Douala's without a place). */
export function rainChance(at: number, location: { latitude: number; longitude: number } | null): number {
  const month = new Date(at + LOCAL_OFFSET_MS).getUTCMonth();
  return RAIN_CHANCE[nearerCity(location)][month]!;
}

/** The season's weather bucket at a place: rain when the day's chance is at least one half. */
export function seasonalRain(at: number, location: { latitude: number; longitude: number } | null): boolean {
  return rainChance(at, location) >= 0.5;
}

export function localTime(at: number): { hour: number; weekday: number } {
  const local = new Date(at + LOCAL_OFFSET_MS);
  return { hour: local.getUTCHours(), weekday: local.getUTCDay() };
}

export function slotOf(at: number): Slot {
  const { hour } = localTime(at);
  if (hour >= 5 && hour < 11) return 'breakfast';
  if (hour >= 11 && hour < 16) return 'lunch';
  if (hour >= 16 && hour < 22) return 'dinner';
  return 'late';
}

export function isWeekend(at: number): boolean {
  const { weekday } = localTime(at);
  return weekday === 0 || weekday === 6;
}

export function cellOf(latitude: number, longitude: number): string {
  return `${Math.floor(latitude / CELL_DEGREES)}:${Math.floor(longitude / CELL_DEGREES)}`;
}

/** The centre of a location cell (`cellOf`): the place a replayed order stands for. */
export function cellCentre(cell: string | null): { latitude: number; longitude: number } | null {
  const match = cell === null ? null : /^(-?\d+):(-?\d+)$/.exec(cell);
  if (match === null) return null;
  return {
    latitude: (Number(match[1]) + 0.5) * CELL_DEGREES,
    longitude: (Number(match[2]) + 0.5) * CELL_DEGREES,
  };
}

/** A menu category's section from its French or English name; a main course when unknown. */
export function sectionOfCategory(nameFr: string, nameEn: string | null): Section {
  const text = `${nameFr} ${nameEn ?? ''}`.toLowerCase();
  if (/petit|breakfast/.test(text)) return 'breakfast';
  if (/boisson|drink|jus|juice/.test(text)) return 'drinks';
  if (/dessert|sucr|pâtiss|patiss/.test(text)) return 'desserts';
  if (/grill|braise/.test(text)) return 'grill';
  if (/entr[ée]e|starter|snack/.test(text)) return 'starters';
  return 'mains';
}

export function distanceKm(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLng = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLng / 2) ** 2;
  return 12_742 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A count that halves every `POPULARITY_HALF_LIFE_DAYS`, read at any later instant. */
class Decayed {
  value = 0;
  at = 0;
  add(at: number, weight: number): void {
    this.value = this.read(at) + weight;
    this.at = Math.max(this.at, at);
  }
  read(at: number): number {
    if (this.value === 0) return 0;
    const days = Math.max(0, at - this.at) / DAY_MS;
    return this.value * Math.pow(0.5, days / POPULARITY_HALF_LIFE_DAYS);
  }
}

interface CustomerState {
  orders: number;
  /** Per dish: orders and the last one's time; insertion order refreshed, so the newest is last. */
  items: Map<string, { count: number; last: number }>;
  restaurants: Map<string, number>;
  sections: number[];
  cuisines: Map<string, number>;
  spendSum: number;
  spendCount: number;
}

interface ItemState {
  popularity: Decayed;
  slots: number[];
  /** Distinct customers who ordered it (the co-ordering norm). */
  customers: number;
  /** Dense number of the dish in this history (0, 1, …): an index into per-request arrays. */
  index: number;
}

/**
 * The order history as the ranker sees it. `lookup` gives a dish's content (section, price,
 * restaurant); lines of dishes it does not know are skipped.
 */
export class HistoryStats {
  readonly customers = new Map<string, CustomerState>();
  readonly items = new Map<string, ItemState>();
  readonly restaurants = new Map<string, Decayed>();
  readonly cells = new Map<string, Map<string, Decayed>>();
  /**
   * Distinct customers who ordered both dishes (symmetric, sparse): per dish id, the other dishes'
   * states (so a request reads their norms without a lookup by id) and the count.
   */
  readonly coordering = new Map<string, Map<ItemState, number>>();
  orders = 0;
  latest = 0;

  constructor(private readonly lookup: (itemId: string) => CandidateItem | undefined) {}

  add(order: OrderFact): void {
    this.orders += 1;
    this.latest = Math.max(this.latest, order.at);
    const slot = SLOTS.indexOf(slotOf(order.at));
    let customer = this.customers.get(order.customerId);
    if (customer === undefined) {
      customer = {
        orders: 0,
        items: new Map(),
        restaurants: new Map(),
        sections: SECTIONS.map(() => 0),
        cuisines: new Map(),
        spendSum: 0,
        spendCount: 0,
      };
      this.customers.set(order.customerId, customer);
    }
    customer.orders += 1;
    customer.restaurants.set(order.restaurantId, (customer.restaurants.get(order.restaurantId) ?? 0) + 1);
    let restaurant = this.restaurants.get(order.restaurantId);
    if (restaurant === undefined) this.restaurants.set(order.restaurantId, (restaurant = new Decayed()));
    restaurant.add(order.at, 1);
    const seen = new Set<string>();
    for (const line of order.lines) {
      const content = this.lookup(line.itemId);
      if (content === undefined || seen.has(line.itemId)) continue;
      seen.add(line.itemId);
      let item = this.items.get(line.itemId);
      if (item === undefined) {
        item = { popularity: new Decayed(), slots: SLOTS.map(() => 0), customers: 0, index: this.items.size };
        this.items.set(line.itemId, item);
      }
      item.popularity.add(order.at, 1);
      item.slots[slot]! += 1;
      if (order.cell !== null) {
        let cell = this.cells.get(order.cell);
        if (cell === undefined) this.cells.set(order.cell, (cell = new Map()));
        let counter = cell.get(line.itemId);
        if (counter === undefined) cell.set(line.itemId, (counter = new Decayed()));
        counter.add(order.at, 1);
      }
      const previous = customer.items.get(line.itemId);
      if (previous === undefined) {
        // A new dish for this customer: it is co-ordered with each dish they had before.
        item.customers += 1;
        for (const other of customer.items.keys()) {
          this.bump(line.itemId, this.items.get(other)!);
          this.bump(other, item);
        }
      } else customer.items.delete(line.itemId);
      customer.items.set(line.itemId, { count: (previous?.count ?? 0) + 1, last: order.at });
      customer.sections[SECTIONS.indexOf(content.section)]! += 1;
      customer.cuisines.set(content.cuisine, (customer.cuisines.get(content.cuisine) ?? 0) + 1);
      customer.spendSum += content.priceMinor;
      customer.spendCount += 1;
    }
  }

  private bump(a: string, b: ItemState): void {
    let row = this.coordering.get(a);
    if (row === undefined) this.coordering.set(a, (row = new Map()));
    row.set(b, (row.get(b) ?? 0) + 1);
  }

  /** The customer's dishes, most recent first. */
  recentItems(customerId: string, limit: number): string[] {
    const customer = this.customers.get(customerId);
    if (customer === undefined) return [];
    return [...customer.items.keys()].reverse().slice(0, limit);
  }

  popularity(itemId: string, at: number): number {
    return this.items.get(itemId)?.popularity.read(at) ?? 0;
  }
}

/**
 * One row of `FEATURE_COUNT` numbers per candidate, row-major, for `customerId` (null: a guest)
 * at `context`.
 */
export function featureRows(
  stats: HistoryStats,
  customerId: string | null,
  context: RankingContext,
  candidates: readonly CandidateItem[],
): Float32Array {
  const rows = new Float32Array(candidates.length * FEATURE_COUNT);
  const customer = customerId === null ? undefined : stats.customers.get(customerId);
  const slot = SLOTS.indexOf(slotOf(context.at));
  const weekend = isWeekend(context.at) ? 1 : 0;
  const cell =
    context.location === null
      ? undefined
      : stats.cells.get(cellOf(context.location.latitude, context.location.longitude));
  const sectionTotal = customer === undefined ? 0 : customer.sections.reduce((a, b) => a + b, 0);
  const avgPrice =
    customer === undefined || customer.spendCount === 0 ? 0 : customer.spendSum / customer.spendCount;

  // Co-ordering: for each of the customer's recent dishes h, every dish i ordered by the same
  // customers scores cooc(h, i) / sqrt(n(h) n(i)), averaged over h.
  // Summed per dish index (ItemState.index) in an array: a request adds about 10,000 terms for a
  // customer with 30 dishes, which a map keyed by dish id made the costliest part of a request.
  let cooc: Float64Array | undefined;
  if (customer !== undefined) {
    const history = stats.recentItems(customerId!, COOC_HISTORY_MAX);
    for (const h of history) {
      const row = stats.coordering.get(h);
      const nh = stats.items.get(h)?.customers ?? 0;
      if (row === undefined || nh === 0) continue;
      cooc ??= new Float64Array(stats.items.size);
      for (const [i, together] of row) {
        const ni = i.customers;
        if (ni === 0) continue;
        cooc[i.index]! += together / Math.sqrt(nh * ni) / history.length;
      }
    }
  }

  for (let index = 0; index < candidates.length; index += 1) {
    const candidate = candidates[index]!;
    const base = index * FEATURE_COUNT;
    const mine = customer?.items.get(candidate.itemId);
    const item = stats.items.get(candidate.itemId);
    const slotTotal = item === undefined ? 0 : item.slots.reduce((a, b) => a + b, 0);
    const restaurant = stats.restaurants.get(candidate.restaurantId);
    const section = SECTIONS.indexOf(candidate.section);
    let f = base;
    rows[f++] = Math.log1p(mine?.count ?? 0);
    rows[f++] = mine === undefined ? 0 : Math.exp(-Math.max(0, context.at - mine.last) / DAY_MS / 14);
    rows[f++] =
      customer === undefined || customer.orders === 0
        ? 0
        : (customer.restaurants.get(candidate.restaurantId) ?? 0) / customer.orders;
    rows[f++] = sectionTotal === 0 ? 0 : customer!.sections[section]! / sectionTotal;
    rows[f++] = sectionTotal === 0 ? 0 : (customer!.cuisines.get(candidate.cuisine) ?? 0) / sectionTotal;
    rows[f++] = cooc === undefined || item === undefined ? 0 : cooc[item.index]!;
    rows[f++] = Math.log1p(item?.popularity.read(context.at) ?? 0);
    rows[f++] = item === undefined ? 0.25 : (item.slots[slot]! + 1) / (slotTotal + 4);
    rows[f++] = Math.log1p(cell?.get(candidate.itemId)?.read(context.at) ?? 0);
    rows[f++] = Math.log1p(restaurant?.read(context.at) ?? 0);
    rows[f++] = Math.log(Math.max(candidate.priceMinor, 50) / 1000);
    rows[f++] = avgPrice === 0 ? 0 : Math.log(Math.max(candidate.priceMinor, 50) / avgPrice);
    rows[f++] = context.location === null ? 0 : distanceKm(context.location, candidate) / 10;
    rows[f++] = context.location === null ? 0 : 1;
    rows[f++] = Math.log1p(customer?.orders ?? 0);
    for (let s = 0; s < SECTIONS.length; s += 1) rows[f++] = s === section ? 1 : 0;
    for (let s = 0; s < SLOTS.length; s += 1) rows[f++] = s === slot ? 1 : 0;
    rows[f++] = weekend;
    rows[f++] = context.rain ? 1 : 0;
  }
  return rows;
}
