/**
 * A seeded synthetic order history for Douala and Yaoundé (issue #24), for training and offline
 * evaluation. Nothing here is committed as data: the same parameters give the same history.
 *
 * The catalog is the demo catalog's fixture (`generateCatalogFixture`, seed 2026), extended to
 * `restaurants` restaurants: its first six are exactly the demo seed's restaurants, item ids
 * included. Customers have hidden traits the model never sees: a taste vector over dishes, cuisine
 * likes, a budget, favourite restaurants near home, a workplace for weekday lunches, meal-slot
 * habits, weekend and rain sensitivity, and a habit of reordering. Weather is a daily rain draw
 * per city from its season.
 *
 * Output: `OrderFact`s, the shape the recommendations projection keeps of an `OrderCreated`
 * event (customer, restaurant, lines, time, delivery cell), plus the day's rain per city (the
 * context the app sends with a request).
 */
import {
  CITIES,
  DISHES,
  generateCatalogFixture,
  seededRandom,
  type FixtureRestaurant,
} from '../../src/modules/catalog/fixtures.js';
import {
  cellOf,
  distanceKm,
  isWeekend,
  RAIN_CHANCE,
  SLOTS,
  type CandidateItem,
  type OrderFact,
  type Section,
  type Slot,
} from '../../src/modules/recommendations/features.js';
import type { WeatherRecord } from '../../src/modules/recommendations/weather/history.js';

export const GENERATOR_PARAMS = {
  seed: 24,
  catalogSeed: 2026,
  restaurants: 40,
  itemsPerRestaurant: 30,
  customers: 4000,
  /** Monday 4 May 2026, Africa/Douala midnight. */
  start: Date.UTC(2026, 4, 3, 23),
  weeks: 16,
  /** Mean orders per customer per day (each customer's own rate is lognormal around it). */
  meanDailyRate: 0.12,
  tasteDimensions: 4,
} as const;

export type GeneratorParams = typeof GENERATOR_PARAMS;
/** Parameters a bench or a test may change (a smaller history); the committed models use none. */
export type GeneratorOverrides = { [K in keyof GeneratorParams]?: number };

export interface GeneratedHistory {
  params: GeneratorParams;
  restaurants: FixtureRestaurant[];
  items: CandidateItem[];
  itemsByCity: Record<City, CandidateItem[]>;
  cityOfItem: Map<string, City>;
  orders: (OrderFact & { city: City; rain: boolean; location: { latitude: number; longitude: number } })[];
  customers: number;
  /** Did it rain on day `d` (0 = the start's local day) in each city: the demand forecast's truth. */
  rainByCityDay: Record<City, boolean[]>;
  /**
   * The history's weather as the server records it (weather/history.ts): each city's every hour,
   * the rain of the generated day it falls in (05:00 to 05:00 local). The trainers label orders from it (`WeatherLog`), as the retrains do from
   * `weather_readings`.
   */
  weather: WeatherRecord[];
}

type City = keyof typeof CITIES;
const DAY_MS = 86_400_000;

const RAIN = RAIN_CHANCE;

/** How much a slot suits a section (log-utility); breakfast dishes at breakfast, drinks rarely alone. */
const SECTION_SLOT: Record<Slot, Record<Section, number>> = {
  breakfast: { starters: -0.5, mains: -1.2, grill: -2, breakfast: 2.2, drinks: -0.8, desserts: -1.5 },
  lunch: { starters: 0, mains: 1.2, grill: 0.3, breakfast: -1.5, drinks: -1, desserts: -1 },
  dinner: { starters: 0, mains: 0.8, grill: 1.2, breakfast: -2, drinks: -1, desserts: -0.8 },
  late: { starters: 0.4, mains: 0, grill: 1.5, breakfast: -2, drinks: -0.5, desserts: -0.5 },
};

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function poisson(random: () => number, mean: number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let s = p;
  const u = random();
  while (u > s && k < 20) {
    k += 1;
    p *= mean / k;
    s += p;
  }
  return k;
}

function pickWeighted<T>(random: () => number, list: readonly T[], weights: readonly number[]): T {
  let total = 0;
  for (const weight of weights) total += weight;
  let roll = random() * total;
  for (let index = 0; index < list.length; index += 1) {
    roll -= weights[index]!;
    if (roll <= 0) return list[index]!;
  }
  return list[list.length - 1]!;
}

/** The base dish of a menu item (its name without the variant suffix). */
function baseDishIndex(nameFr: string): number {
  let best = 0;
  let bestLength = -1;
  DISHES.forEach((dish, index) => {
    if (nameFr.startsWith(dish.fr) && dish.fr.length > bestLength) {
      best = index;
      bestLength = dish.fr.length;
    }
  });
  return best;
}

/** The candidate items of the fixture: section from the category, cuisine from the restaurant. */
export function candidatesOf(restaurants: FixtureRestaurant[]): CandidateItem[] {
  return restaurants.flatMap((restaurant) =>
    restaurant.items.map((item) => ({
      itemId: item.id,
      restaurantId: restaurant.id,
      section: restaurant.categories.find((category) => category.id === item.categoryId)!.section,
      priceMinor: item.discountPrice ?? item.price,
      cuisine: restaurant.cuisines[0] ?? 'cameroonian',
      latitude: restaurant.latitude,
      longitude: restaurant.longitude,
    })),
  );
}

export function generateHistory(overrides: GeneratorOverrides = {}): GeneratedHistory {
  const params = { ...GENERATOR_PARAMS, ...overrides } as GeneratorParams;
  const random = seededRandom(params.seed);
  const restaurants = generateCatalogFixture({
    seed: params.catalogSeed,
    restaurants: params.restaurants,
    itemsPerRestaurant: params.itemsPerRestaurant,
    // Owners do not draw from the stream, so the first restaurants are the demo seed's.
    ownerIds: ['00000000-0000-4000-8000-000000000000'],
  });
  const items = candidatesOf(restaurants);
  const itemById = new Map(items.map((item) => [item.itemId, item]));
  const cityOfItem = new Map<string, City>();
  const itemsByCity: Record<City, CandidateItem[]> = { douala: [], yaounde: [] };
  const restaurantsByCity: Record<City, FixtureRestaurant[]> = { douala: [], yaounde: [] };
  for (const restaurant of restaurants) restaurantsByCity[restaurant.city].push(restaurant);
  const restaurantCity = new Map(restaurants.map((r) => [r.id, r.city]));
  for (const item of items) {
    const city = restaurantCity.get(item.restaurantId)!;
    cityOfItem.set(item.itemId, city);
    itemsByCity[city].push(item);
  }
  // Hidden dish traits: a taste vector per base dish, an appeal per menu item.
  const k = params.tasteDimensions;
  const dishVectors = DISHES.map(() => Array.from({ length: k }, () => normal(random)));
  const nameOf = new Map(restaurants.flatMap((r) => r.items.map((item) => [item.id, item.nameFr] as const)));
  const itemDish = new Map(items.map((item) => [item.itemId, baseDishIndex(nameOf.get(item.itemId)!)]));
  const appeal = new Map(items.map((item) => [item.itemId, normal(random) * 0.6]));
  const cuisines = [...new Set(items.map((item) => item.cuisine))];

  const orders: GeneratedHistory['orders'] = [];
  const days = params.weeks * 7;
  const rainByCityDay: Record<City, boolean[]> = {
    douala: [],
    yaounde: [],
  };
  for (let day = 0; day < days; day += 1) {
    const month = new Date(params.start + day * DAY_MS + 12 * 3_600_000).getUTCMonth();
    for (const city of ['douala', 'yaounde'] as const)
      rainByCityDay[city].push(random() < RAIN[city][month]!);
  }

  let orderSeq = 0;
  for (let c = 0; c < params.customers; c += 1) {
    const city: City = c % 5 < 3 ? 'douala' : 'yaounde';
    const center = CITIES[city].center;
    const place = () => ({
      latitude: center.latitude + (random() - 0.5) * 0.12,
      longitude: center.longitude + (random() - 0.5) * 0.12,
    });
    const home = place();
    const work = random() < 0.6 ? place() : home;
    const taste = Array.from({ length: k }, () => normal(random));
    const cuisineLike = new Map(cuisines.map((cuisine) => [cuisine, normal(random) * 0.7]));
    const budget = 2500 * Math.exp(normal(random) * 0.35);
    const rate = params.meanDailyRate * Math.exp(normal(random) * 0.6 - 0.18);
    const weekendFactor = 0.6 + random() * 1.2;
    const rainFactor = 1 + random() * 0.6;
    const reorder = 0.15 + random() * 0.45;
    const slotWeights = [0.3 + random(), 1 + random() * 2, 1 + random() * 2, random() * 0.6];
    const cityRestaurants = restaurantsByCity[city];
    const near = [...cityRestaurants].sort((a, b) => distanceKm(home, a) - distanceKm(home, b));
    const favourites = new Set(
      [near[Math.floor(random() * 3)], near[Math.floor(random() * 6)]]
        .filter((r) => r !== undefined)
        .map((r) => r.id),
    );
    const customerId = `synthetic-${c}`;
    const history = new Map<string, number>();
    const candidates = itemsByCity[city];

    const utility = (item: CandidateItem, slot: Slot, rain: boolean, weekend: boolean, at: typeof home) => {
      const vector = dishVectors[itemDish.get(item.itemId)!]!;
      let dot = 0;
      for (let d = 0; d < k; d += 1) dot += taste[d]! * vector[d]!;
      let u = 0.7 * dot + (cuisineLike.get(item.cuisine) ?? 0) + SECTION_SLOT[slot][item.section];
      u += appeal.get(item.itemId)!;
      u -= 1.3 * Math.abs(Math.log(item.priceMinor / budget));
      u -= 0.25 * distanceKm(at, item);
      if (favourites.has(item.restaurantId)) u += 1.2;
      if (rain && (item.section === 'mains' || item.section === 'grill')) u += 0.5;
      if (rain && item.section === 'drinks') u -= 0.4;
      if (weekend && (item.section === 'grill' || item.section === 'desserts')) u += 0.4;
      return u;
    };

    for (let day = 0; day < days; day += 1) {
      const dayStart = params.start + day * DAY_MS;
      const weekend = isWeekend(dayStart + 12 * 3_600_000);
      const rain = rainByCityDay[city][day]!;
      const mean = rate * (weekend ? weekendFactor : 1) * (rain ? rainFactor : 1);
      const count = poisson(random, mean);
      for (let n = 0; n < count; n += 1) {
        const weights = weekend ? [slotWeights[0]! * 0.6, ...slotWeights.slice(1)] : slotWeights;
        const slot = pickWeighted(random, SLOTS, weights);
        const hour = { breakfast: 6, lunch: 11, dinner: 17, late: 22 }[slot] + random() * 5;
        const at = Math.round(dayStart + hour * 3_600_000);
        const where = slot === 'lunch' && !weekend ? work : home;
        let main: CandidateItem;
        const past = [...history.keys()];
        if (past.length > 0 && random() < reorder) {
          const pastItems = past.map((id) => itemById.get(id)!);
          main = pickWeighted(
            random,
            pastItems,
            pastItems.map((item) => history.get(item.itemId)! * Math.exp(SECTION_SLOT[slot][item.section])),
          );
        } else {
          const weightsOfItems = candidates.map((item) =>
            Math.exp(utility(item, slot, rain, weekend, where)),
          );
          main = pickWeighted(random, candidates, weightsOfItems);
        }
        const lines = [{ itemId: main.itemId, quantity: 1 + (random() < 0.15 ? 1 : 0) }];
        const extraRoll = random();
        const extraSection: Section | null =
          extraRoll < 0.35 ? 'drinks' : extraRoll < 0.5 ? 'desserts' : null;
        if (extraSection !== null && main.section !== extraSection) {
          const extras = candidates.filter(
            (item) => item.restaurantId === main.restaurantId && item.section === extraSection,
          );
          if (extras.length > 0) {
            const extra = pickWeighted(
              random,
              extras,
              extras.map((item) =>
                Math.exp(
                  utility(item, 'lunch', rain, weekend, where) + 2 * (history.has(item.itemId) ? 1 : 0),
                ),
              ),
            );
            lines.push({ itemId: extra.itemId, quantity: 1 });
          }
        }
        for (const line of lines) history.set(line.itemId, (history.get(line.itemId) ?? 0) + 1);
        orderSeq += 1;
        orders.push({
          orderId: `synthetic-order-${orderSeq}`,
          customerId,
          restaurantId: main.restaurantId,
          lines,
          at,
          cell: cellOf(where.latitude, where.longitude),
          location: where,
          city,
          rain,
        });
      }
    }
  }
  orders.sort((a, b) => a.at - b.at || a.orderId.localeCompare(b.orderId));
  return {
    params,
    restaurants,
    items,
    itemsByCity,
    cityOfItem,
    orders,
    customers: params.customers,
    rainByCityDay,
    weather: (['douala', 'yaounde'] as const).flatMap((city) =>
      rainByCityDay[city].flatMap((rain, day) =>
        Array.from({ length: 24 }, (_, hour) => ({
          city,
          // A generated day's weather runs from 05:00 to 05:00 (its late orders end by 03:00).
          hour: params.start + day * DAY_MS + (5 + hour) * 3_600_000,
          rain,
        })),
      ),
    ),
  };
}
