/**
 * A deterministic catalog for tests, benchmarks and the demo: restaurants across Douala and
 * Yaoundé serving Cameroonian dishes under French and English names, with modifier groups,
 * breakfast schedules, stock counts (some sold out), overnight hours and ratings.
 * Same seed, same catalog, ids included: benchmarks and tests can name rows without looking.
 */
import { sql, type Kysely } from 'kysely';
import { ownTables } from '../../db/own-tables.js';
import { createCatalogRepository } from './repository.js';
import { cuisineText } from './restaurants.js';
import type { CatalogTables } from './tables.js';
import type { Cuisine } from './rules/cuisines.js';
import {
  closedPeriods,
  periodsLiteral,
  weeklyRanges,
  weekRangesLiteral,
  WEEKDAYS,
  type AvailabilityWindow,
  type WeeklyHours,
} from './rules/hours.js';
import type { ModifierOption } from './rules/menu.js';

/** mulberry32: small, fast, good enough for fixtures, and the same on every Node. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (Math.floor(random() * 4) + 8).toString(16);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

type Section = 'starters' | 'mains' | 'grill' | 'breakfast' | 'drinks' | 'desserts';
interface Dish {
  fr: string;
  en: string;
  section: Section;
  price: [number, number];
  cuisine: Cuisine;
  sides?: boolean;
  spice?: boolean;
}

export const DISHES: Dish[] = [
  {
    fr: 'Ndolè aux crevettes',
    en: 'Ndole with shrimp',
    section: 'mains',
    price: [2500, 4500],
    cuisine: 'cameroonian',
    sides: true,
  },
  {
    fr: 'Ndolè viande',
    en: 'Ndole with beef',
    section: 'mains',
    price: [2000, 3500],
    cuisine: 'cameroonian',
    sides: true,
  },
  { fr: 'Poulet DG', en: 'Chicken DG', section: 'mains', price: [3500, 6500], cuisine: 'cameroonian' },
  {
    fr: 'Eru et water fufu',
    en: 'Eru with water fufu',
    section: 'mains',
    price: [2000, 3500],
    cuisine: 'cameroonian',
  },
  {
    fr: 'Achu sauce jaune',
    en: 'Achu with yellow soup',
    section: 'mains',
    price: [2500, 4000],
    cuisine: 'cameroonian',
  },
  {
    fr: 'Koki et plantain',
    en: 'Koki with plantain',
    section: 'mains',
    price: [1000, 2000],
    cuisine: 'cameroonian',
  },
  {
    fr: 'Mbongo tchobi poisson',
    en: 'Mbongo tchobi fish',
    section: 'mains',
    price: [3000, 5000],
    cuisine: 'cameroonian',
    sides: true,
  },
  {
    fr: 'Okok sucré',
    en: 'Sweet okok',
    section: 'mains',
    price: [1500, 2500],
    cuisine: 'cameroonian',
    sides: true,
  },
  {
    fr: 'Kondrè de chèvre',
    en: 'Goat kondre',
    section: 'mains',
    price: [3000, 5000],
    cuisine: 'cameroonian',
  },
  {
    fr: 'Sanga',
    en: 'Sanga (corn and greens)',
    section: 'mains',
    price: [1500, 2500],
    cuisine: 'cameroonian',
  },
  {
    fr: 'Taro sauce jaune',
    en: 'Taro with yellow sauce',
    section: 'mains',
    price: [2500, 4000],
    cuisine: 'cameroonian',
  },
  {
    fr: 'Bobolo et poisson',
    en: 'Bobolo with fish',
    section: 'mains',
    price: [2500, 4000],
    cuisine: 'cameroonian',
  },
  {
    fr: 'Sauce gombo',
    en: 'Okra soup',
    section: 'mains',
    price: [2000, 3500],
    cuisine: 'cameroonian',
    sides: true,
  },
  {
    fr: 'Folong aux arachides',
    en: 'Folong with groundnuts',
    section: 'mains',
    price: [1500, 3000],
    cuisine: 'cameroonian',
    sides: true,
  },
  { fr: 'Nkui', en: 'Nkui soup', section: 'mains', price: [2000, 3500], cuisine: 'cameroonian' },
  { fr: 'Egusi pudding', en: 'Egusi pudding', section: 'mains', price: [1500, 3000], cuisine: 'cameroonian' },
  { fr: 'Riz jollof', en: 'Jollof rice', section: 'mains', price: [1500, 3000], cuisine: 'west_african' },
  {
    fr: 'Pepper soup de poisson',
    en: 'Fish pepper soup',
    section: 'starters',
    price: [2000, 3500],
    cuisine: 'west_african',
    spice: true,
  },
  {
    fr: 'Soya de bœuf',
    en: 'Beef suya',
    section: 'grill',
    price: [500, 2000],
    cuisine: 'street_food',
    spice: true,
  },
  {
    fr: 'Poisson braisé',
    en: 'Grilled fish',
    section: 'grill',
    price: [3000, 6500],
    cuisine: 'fish_seafood',
    sides: true,
    spice: true,
  },
  {
    fr: 'Bar braisé',
    en: 'Grilled sea bass',
    section: 'grill',
    price: [4000, 8000],
    cuisine: 'fish_seafood',
    sides: true,
    spice: true,
  },
  {
    fr: 'Maquereau braisé',
    en: 'Grilled mackerel',
    section: 'grill',
    price: [2000, 3500],
    cuisine: 'fish_seafood',
    sides: true,
    spice: true,
  },
  {
    fr: 'Poulet braisé',
    en: 'Grilled chicken',
    section: 'grill',
    price: [3000, 5500],
    cuisine: 'chicken',
    sides: true,
    spice: true,
  },
  {
    fr: 'Porc braisé',
    en: 'Grilled pork',
    section: 'grill',
    price: [2500, 4500],
    cuisine: 'grill',
    sides: true,
    spice: true,
  },
  {
    fr: 'Brochettes de chèvre',
    en: 'Goat skewers',
    section: 'grill',
    price: [500, 1500],
    cuisine: 'grill',
    spice: true,
  },
  {
    fr: 'Kati-kati',
    en: 'Kati-kati grilled chicken',
    section: 'grill',
    price: [3000, 5000],
    cuisine: 'chicken',
    sides: true,
  },
  {
    fr: 'Beignets-haricots',
    en: 'Puff-puff and beans',
    section: 'breakfast',
    price: [500, 1000],
    cuisine: 'street_food',
  },
  {
    fr: 'Bouillie de maïs',
    en: 'Corn porridge',
    section: 'breakfast',
    price: [300, 700],
    cuisine: 'breakfast',
  },
  {
    fr: 'Pain chargé',
    en: 'Loaded baguette',
    section: 'breakfast',
    price: [500, 1500],
    cuisine: 'breakfast',
  },
  {
    fr: 'Spaghetti omelette',
    en: 'Spaghetti omelette',
    section: 'breakfast',
    price: [700, 1500],
    cuisine: 'breakfast',
  },
  {
    fr: 'Café au lait',
    en: 'Coffee with milk',
    section: 'breakfast',
    price: [300, 800],
    cuisine: 'breakfast',
  },
  {
    fr: 'Plantains frits',
    en: 'Fried plantains',
    section: 'starters',
    price: [500, 1200],
    cuisine: 'cameroonian',
  },
  { fr: 'Accras de morue', en: 'Cod fritters', section: 'starters', price: [1000, 2000], cuisine: 'african' },
  {
    fr: 'Salade avocat',
    en: 'Avocado salad',
    section: 'starters',
    price: [1000, 2000],
    cuisine: 'vegetarian',
  },
  {
    fr: 'Riz sauté au poulet',
    en: 'Chicken fried rice',
    section: 'mains',
    price: [2000, 3500],
    cuisine: 'chinese',
  },
  {
    fr: 'Shawarma poulet',
    en: 'Chicken shawarma',
    section: 'mains',
    price: [1500, 3000],
    cuisine: 'lebanese',
  },
  { fr: 'Burger maison', en: 'House burger', section: 'mains', price: [2500, 4500], cuisine: 'burgers' },
  { fr: 'Pizza margherita', en: 'Margherita pizza', section: 'mains', price: [4000, 7000], cuisine: 'pizza' },
  { fr: 'Jus de foléré', en: 'Hibiscus juice', section: 'drinks', price: [300, 1000], cuisine: 'drinks' },
  { fr: 'Jus de gingembre', en: 'Ginger juice', section: 'drinks', price: [300, 1000], cuisine: 'drinks' },
  { fr: 'Jus de baobab', en: 'Baobab juice', section: 'drinks', price: [500, 1200], cuisine: 'drinks' },
  { fr: 'Eau minérale', en: 'Mineral water', section: 'drinks', price: [300, 600], cuisine: 'drinks' },
  { fr: 'Bière 33 Export', en: '33 Export beer', section: 'drinks', price: [600, 1000], cuisine: 'drinks' },
  { fr: 'Top pamplemousse', en: 'Grapefruit soda', section: 'drinks', price: [400, 700], cuisine: 'drinks' },
  { fr: 'Salade de fruits', en: 'Fruit salad', section: 'desserts', price: [500, 1500], cuisine: 'desserts' },
  { fr: 'Beignets sucrés', en: 'Sweet doughnuts', section: 'desserts', price: [200, 600], cuisine: 'bakery' },
  {
    fr: 'Glace vanille',
    en: 'Vanilla ice cream',
    section: 'desserts',
    price: [800, 2000],
    cuisine: 'desserts',
  },
];

const VARIANTS: { fr: string; en: string; factor: number }[] = [
  { fr: '', en: '', factor: 1 },
  { fr: ' (grande portion)', en: ' (large)', factor: 1.4 },
  { fr: ' du chef', en: " chef's special", factor: 1.2 },
  { fr: ' maison', en: ' house style', factor: 1.1 },
];

const SECTIONS: Record<Section, { fr: string; en: string }> = {
  starters: { fr: 'Entrées', en: 'Starters' },
  mains: { fr: 'Plats', en: 'Mains' },
  grill: { fr: 'Grillades', en: 'Grill' },
  breakfast: { fr: 'Petit-déjeuner', en: 'Breakfast' },
  drinks: { fr: 'Boissons', en: 'Drinks' },
  desserts: { fr: 'Desserts', en: 'Desserts' },
};

export const CITIES = {
  douala: {
    center: { latitude: 4.0511, longitude: 9.7679 },
    districts: [
      'Akwa',
      'Bonapriso',
      'Bonanjo',
      'Deido',
      'Bonabéri',
      'Makepe',
      'Bali',
      'Logpom',
      'Kotto',
      'Ndokoti',
      'Bepanda',
      'New Bell',
      'Yassa',
      'PK14',
    ],
  },
  yaounde: {
    center: { latitude: 3.848, longitude: 11.5021 },
    districts: [
      'Bastos',
      'Mvog-Mbi',
      'Mokolo',
      'Essos',
      'Biyem-Assi',
      'Nlongkak',
      'Omnisport',
      'Mvan',
      'Ngousso',
      'Emana',
      'Melen',
      'Etoudi',
    ],
  },
} as const;

const PEOPLE = [
  'Mama Ngono',
  'Tantine Brigitte',
  'Ya Foning',
  'Mami Nyanga',
  'Papa Essomba',
  'Mbarga',
  'Ngo Biyong',
  'Atangana',
  'Manga',
  'Fotso',
  'Tchoupo',
  'Ekwalla',
  'Abena',
  'Ndongo',
  'Kamga',
];
const PATTERNS = [
  'Chez {p}',
  'Maquis {p}',
  'Le Coin de {d}',
  'Saveurs de {d}',
  '{p} Grill',
  'La Braise de {d}',
  'Tourne-dos {p}',
  'Le Palais du Ndolè',
  'Restaurant {p}',
  'Snack {d}',
];

const HOURS_VARIANTS: WeeklyHours[] = [
  Object.fromEntries(WEEKDAYS.map((day) => [day, [{ opens: '08:00', closes: '23:00' }]])),
  // A maquis that runs overnight at the weekend.
  {
    ...Object.fromEntries(WEEKDAYS.slice(0, 4).map((day) => [day, [{ opens: '11:00', closes: '23:00' }]])),
    fri: [{ opens: '11:00', closes: '03:00' }],
    sat: [{ opens: '12:00', closes: '04:00' }],
    sun: [{ opens: '12:00', closes: '22:00' }],
  },
  // Breakfast and lunch, closed on Sunday.
  Object.fromEntries(WEEKDAYS.slice(0, 6).map((day) => [day, [{ opens: '06:00', closes: '15:00' }]])),
  // Split service.
  Object.fromEntries(
    WEEKDAYS.map((day) => [
      day,
      [
        { opens: '10:00', closes: '14:30' },
        { opens: '18:00', closes: '23:30' },
      ],
    ]),
  ),
  Object.fromEntries(WEEKDAYS.map((day) => [day, [{ opens: '00:00', closes: '24:00' }]])),
];

const WEEKENDS: AvailabilityWindow[] = [{ days: ['sat', 'sun'], opens: '00:00', closes: '00:00' }];
const BREAKFAST_SCHEDULE: AvailabilityWindow[] = [{ days: [...WEEKDAYS], opens: '06:00', closes: '11:00' }];

export interface FixtureItem {
  id: string;
  categoryId: string;
  nameFr: string;
  nameEn: string;
  price: number;
  discountPrice: number | null;
  costPrice: number;
  prepTimeMinutes: number;
  stock: number | null;
  schedule: AvailabilityWindow[] | null;
  allergens: string[];
  position: number;
  modifierGroups: {
    id: string;
    nameFr: string;
    nameEn: string;
    min: number;
    max: number;
    options: ModifierOption[];
  }[];
}

export interface FixtureRestaurant {
  id: string;
  ownerId: string;
  name: string;
  city: keyof typeof CITIES;
  district: string;
  latitude: number;
  longitude: number;
  cuisines: Cuisine[];
  deliveryRadiusM: number;
  prepTimeMinutes: number;
  openingHours: WeeklyHours;
  ratingSum: number;
  ratingCount: number;
  categories: { id: string; section: Section; position: number; schedule: AvailabilityWindow[] | null }[];
  items: FixtureItem[];
}

export interface FixtureOptions {
  seed?: number;
  restaurants?: number;
  itemsPerRestaurant?: number;
  /** Owners cycle through these; otherwise each restaurant gets a made-up owner id. */
  ownerIds?: string[];
}

/** Fisher-Yates: unlike sort with a random comparator, the same on every engine. */
function shuffle<T>(random: () => number, list: readonly T[]): T[] {
  const copy = [...list];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function priceIn(random: () => number, [low, high]: [number, number], factor: number): number {
  return Math.round(((low + random() * (high - low)) * factor) / 50) * 50;
}

function modifierGroups(random: () => number, dish: Dish): FixtureItem['modifierGroups'] {
  const option = (fr: string, en: string, priceDelta: number): ModifierOption => ({
    id: uuidFrom(random),
    name: { fr, en },
    priceDelta,
    available: true,
  });
  const groups: FixtureItem['modifierGroups'] = [];
  if (dish.sides === true) {
    groups.push({
      id: uuidFrom(random),
      nameFr: 'Accompagnement',
      nameEn: 'Side',
      min: 1,
      max: 1,
      options: [
        option('Miondo', 'Miondo', 0),
        option('Plantain mûr', 'Ripe plantain', 200),
        option('Bâton de manioc', 'Cassava stick', 0),
        option('Riz blanc', 'White rice', 0),
        option('Frites de plantain', 'Plantain chips', 300),
      ],
    });
  }
  if (dish.spice === true) {
    groups.push({
      id: uuidFrom(random),
      nameFr: 'Piment',
      nameEn: 'Chilli',
      min: 0,
      max: 1,
      options: [
        option('Sans piment', 'No chilli', 0),
        option('Piment doux', 'Mild', 0),
        option('Piment fort', 'Hot', 0),
      ],
    });
  }
  if (dish.section === 'mains' && random() < 0.3) {
    groups.push({
      id: uuidFrom(random),
      nameFr: 'Suppléments',
      nameEn: 'Extras',
      min: 0,
      max: 3,
      options: [
        option('Œuf', 'Egg', 200),
        option('Avocat', 'Avocado', 300),
        option('Viande en plus', 'Extra meat', 700),
      ],
    });
  }
  return groups;
}

function generateRestaurant(
  random: () => number,
  index: number,
  options: Required<Pick<FixtureOptions, 'itemsPerRestaurant'>> & FixtureOptions,
): FixtureRestaurant {
  const city: keyof typeof CITIES = index % 5 < 3 ? 'douala' : 'yaounde';
  const district = pick(random, CITIES[city].districts);
  const name = pick(random, PATTERNS).replace('{p}', pick(random, PEOPLE)).replace('{d}', district);
  const center = CITIES[city].center;
  const id = uuidFrom(random);
  // Dishes: a random subset, with variants, until the menu holds the wanted count.
  const dishes = shuffle(random, DISHES);
  const chosen: { dish: Dish; variant: (typeof VARIANTS)[number] }[] = [];
  for (const variant of VARIANTS) {
    for (const dish of dishes) {
      if (chosen.length >= options.itemsPerRestaurant) break;
      if (variant.fr === '' || random() < 0.5) chosen.push({ dish, variant });
    }
  }
  const sections = [...new Set(chosen.map((entry) => entry.dish.section))];
  const categories = sections.map((section, position) => ({
    id: uuidFrom(random),
    section,
    position,
    schedule: section === 'breakfast' ? BREAKFAST_SCHEDULE : null,
  }));
  const items = chosen.map(({ dish, variant }, position): FixtureItem => {
    const price = priceIn(random, dish.price, variant.factor);
    const stockRoll = random();
    return {
      id: uuidFrom(random),
      categoryId: categories.find((category) => category.section === dish.section)!.id,
      nameFr: `${dish.fr}${variant.fr}`,
      nameEn: `${dish.en}${variant.en}`,
      price,
      discountPrice: random() < 0.1 ? Math.round((price * 0.85) / 50) * 50 : null,
      costPrice: Math.round((price * 0.45) / 50) * 50,
      prepTimeMinutes: dish.section === 'drinks' ? 2 : 10 + Math.floor(random() * 30),
      stock: stockRoll < 0.05 ? 0 : stockRoll < 0.2 ? 5 + Math.floor(random() * 30) : null,
      schedule: dish.section === 'mains' && random() < 0.05 ? WEEKENDS : null,
      allergens: dish.fr.includes('crevettes')
        ? ['crustaceans']
        : dish.fr.includes('arachides') || dish.fr.includes('Ndolè')
          ? ['peanuts']
          : [],
      position,
      modifierGroups: modifierGroups(random, dish),
    };
  });
  const cuisines = [...new Set(chosen.map((entry) => entry.dish.cuisine))]
    .sort(
      (a, b) =>
        chosen.filter((entry) => entry.dish.cuisine === b).length -
        chosen.filter((entry) => entry.dish.cuisine === a).length,
    )
    .slice(0, 4);
  const ratingCount = Math.floor(random() * 200);
  return {
    id,
    ownerId:
      options.ownerIds !== undefined && options.ownerIds.length > 0
        ? options.ownerIds[index % options.ownerIds.length]!
        : uuidFrom(random),
    name,
    city,
    district,
    latitude: Math.round((center.latitude + (random() - 0.5) * 0.12) * 1e6) / 1e6,
    longitude: Math.round((center.longitude + (random() - 0.5) * 0.12) * 1e6) / 1e6,
    cuisines,
    deliveryRadiusM: (3 + Math.floor(random() * 10)) * 1000,
    prepTimeMinutes: 10 + Math.floor(random() * 30),
    openingHours: pick(random, HOURS_VARIANTS),
    ratingSum: Math.round(ratingCount * (3 + random() * 2)),
    ratingCount,
    categories,
    items,
  };
}

export function generateCatalogFixture(options: FixtureOptions = {}): FixtureRestaurant[] {
  const random = seededRandom(options.seed ?? 237);
  const count = options.restaurants ?? 200;
  const itemsPerRestaurant = Math.min(options.itemsPerRestaurant ?? 26, 120);
  return uniqueNames(
    Array.from({ length: count }, (_, index) =>
      generateRestaurant(random, index, { ...options, itemsPerRestaurant }),
    ),
  );
}

/**
 * Two restaurants with one name confuse a customer choosing between them: a repeated name gets
 * its district, then a number. Done after generation so that no random draw moves (the same
 * seed still gives the same catalog otherwise).
 */
function uniqueNames(restaurants: FixtureRestaurant[]): FixtureRestaurant[] {
  const taken = new Set<string>();
  return restaurants.map((restaurant) => {
    let name = restaurant.name;
    if (taken.has(name) && !name.includes(restaurant.district)) name = `${name} (${restaurant.district})`;
    for (let suffix = 2; taken.has(name); suffix += 1) name = `${restaurant.name} ${suffix}`;
    taken.add(name);
    return name === restaurant.name ? restaurant : { ...restaurant, name };
  });
}

/** Rows per INSERT: bounded so one statement stays well under PostgreSQL's parameter limit. */
const INSERT_BATCH = 500;

async function insertBatches<T>(rows: T[], insert: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += INSERT_BATCH)
    await insert(rows.slice(start, start + INSERT_BATCH));
}

/** Writes the fixture (restaurants active unless told otherwise) and computes search columns. */
export async function insertCatalogFixture<DB extends CatalogTables>(
  database: Kysely<DB>,
  restaurants: FixtureRestaurant[],
  options: { status?: 'active' | 'pending_verification' } = {},
): Promise<void> {
  const db = ownTables<CatalogTables, DB>(database);
  const repository = createCatalogRepository(db);
  await db.transaction().execute(async (transaction) => {
    await insertBatches(restaurants, (batch) =>
      transaction
        .insertInto('restaurants')
        .values(
          batch.map((restaurant) => ({
            id: restaurant.id,
            owner_id: restaurant.ownerId,
            name: restaurant.name,
            legal_name: `${restaurant.name} SARL`,
            tax_id: `M${restaurant.id.replace(/-/g, '').slice(0, 12).toUpperCase()}A`,
            description_fr: `Cuisine camerounaise à ${restaurant.district}`,
            description_en: `Cameroonian food in ${restaurant.district}`,
            documents: '[]',
            contact_phone: null,
            contact_email: null,
            cuisines: restaurant.cuisines,
            city: restaurant.city,
            address: `${restaurant.district}, ${restaurant.city === 'douala' ? 'Douala' : 'Yaoundé'}`,
            latitude: restaurant.latitude,
            longitude: restaurant.longitude,
            delivery_radius_m: restaurant.deliveryRadiusM,
            prep_time_minutes: restaurant.prepTimeMinutes,
            opening_hours: JSON.stringify(restaurant.openingHours),
            closures: JSON.stringify({ closures: [], holidays: [] }),
            open_week_minutes: weekRangesLiteral(weeklyRanges(restaurant.openingHours)),
            closed_periods: periodsLiteral(closedPeriods({ closures: [], holidays: [] }).periods),
            status: options.status ?? 'active',
            status_reason: null,
            status_changed_at: null,
            status_changed_by: null,
            rating_sum: BigInt(restaurant.ratingSum),
            rating_count: restaurant.ratingCount,
            updated_at: new Date(),
          })),
        )
        .execute(),
    );
    const categories = restaurants.flatMap((restaurant) =>
      restaurant.categories.map((category) => ({ restaurant, category })),
    );
    await insertBatches(categories, (batch) =>
      transaction
        .insertInto('menu_categories')
        .values(
          batch.map(({ restaurant, category }) => ({
            id: category.id,
            restaurant_id: restaurant.id,
            name_fr: SECTIONS[category.section].fr,
            name_en: SECTIONS[category.section].en,
            position: category.position,
            schedule: category.schedule === null ? null : JSON.stringify(category.schedule),
            archived_at: null,
            updated_at: new Date(),
          })),
        )
        .execute(),
    );
    const items = restaurants.flatMap((restaurant) => restaurant.items.map((item) => ({ restaurant, item })));
    await insertBatches(items, (batch) =>
      transaction
        .insertInto('menu_items')
        .values(
          batch.map(({ restaurant, item }) => ({
            id: item.id,
            restaurant_id: restaurant.id,
            category_id: item.categoryId,
            name_fr: item.nameFr,
            name_en: item.nameEn,
            description_fr: null,
            description_en: null,
            price: item.price,
            discount_price: item.discountPrice,
            cost_price: item.costPrice,
            images: [`https://img.example.cm/${item.id.slice(0, 8)}.webp`],
            allergens: item.allergens,
            nutrition: null,
            prep_time_minutes: item.prepTimeMinutes,
            schedule: item.schedule === null ? null : JSON.stringify(item.schedule),
            stock: item.stock,
            position: item.position,
            archived_at: null,
            updated_at: new Date(),
          })),
        )
        .execute(),
    );
    const groups = items.flatMap(({ restaurant, item }) =>
      item.modifierGroups.map((group, position) => ({ restaurant, item, group, position })),
    );
    await insertBatches(groups, (batch) =>
      transaction
        .insertInto('menu_modifier_groups')
        .values(
          batch.map(({ restaurant, item, group, position }) => ({
            id: group.id,
            restaurant_id: restaurant.id,
            item_id: item.id,
            name_fr: group.nameFr,
            name_en: group.nameEn,
            min_selections: group.min,
            max_selections: group.max,
            options: JSON.stringify(group.options),
            position,
            archived_at: null,
            updated_at: new Date(),
          })),
        )
        .execute(),
    );
    const ids = restaurants.map((restaurant) => restaurant.id);
    const names = sql`catalog_normalize(name_fr || coalesce(' ' || name_en, ''))`;
    await sql`UPDATE menu_items SET search_text = ${names},
      search_vector = to_tsvector('simple', ${names}) || to_tsvector('french', ${names}) || to_tsvector('english', ${names})
      WHERE restaurant_id = ANY(${ids}::uuid[])`.execute(transaction);
    for (const restaurant of restaurants)
      await repository.refreshRestaurantDerived(restaurant.id, cuisineText(restaurant.cuisines), transaction);
  });
}
