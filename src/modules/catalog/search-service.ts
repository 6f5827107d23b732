/**
 * Discovery: `GET /v1/restaurants` (text, filters, sorts, facets, cursors) and autocomplete.
 * Checks every parameter that the schema cannot (cuisine codes, a point needed by a distance
 * sort, a cursor from another query) before any SQL runs.
 */
import { pointCellPath } from './rules/zones.js';
import { catalogErrors } from './errors.js';
import type { DomainError } from '../../shared/errors.js';
import { localize, type Language } from './menu-view.js';
import { CUISINES, CUISINE_CODES, unknownCuisines } from './rules/cuisines.js';
import { decodeCursor, encodeCursor, fingerprint } from './rules/cursor.js';
import { localTime } from './rules/hours.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_AUTOCOMPLETE,
  MIN_QUERY_LENGTH,
  normalizeText,
  prefixTsquery,
  priceTier,
  queryWords,
  resolveSort,
} from './rules/search.js';
import type { SearchInput } from './schemas.js';
import type {
  MatchedItemRow,
  SearchQuery,
  SearchRepository,
  SearchResult,
  SearchRow,
} from './search-repository.js';

function bad(code: string, detail: string): DomainError {
  return catalogErrors.of('validation', code, detail);
}

function cuisinesOf(input: SearchInput): string[] {
  const cuisines = [
    ...new Set(
      (input.cuisine ?? [])
        .flatMap((value) => value.split(','))
        .map((value) => value.trim())
        .filter((value) => value.length > 0),
    ),
  ];
  const unknown = unknownCuisines(cuisines);
  if (unknown.length > 0) {
    throw catalogErrors.of('validation', 'unknown_cuisine', `Unknown cuisine: ${unknown.join(', ')}.`, {
      details: { unknown, known: CUISINE_CODES },
    });
  }
  return cuisines;
}

/** Turns the query string into a SearchQuery, or a 400 naming what is wrong. */
/**
 * A coordinate to 7 decimals (about a centimetre): finer is noise, and a subnormal number such as
 * 1.5e-323 is refused by PostgreSQL's float8 ("value out of range: underflow"), which was a 500.
 */
const toCentimetre = (degrees: number) => Math.round(degrees * 1e7) / 1e7;

/** `cityId`: the city filter (`input.city`) resolved to an active city's id by the caller. */
export function parseSearch(input: SearchInput, instant: Date, cityId?: string): SearchQuery {
  const text = normalizeText(input.q ?? '');
  const words = queryWords(text);
  if (text.length > 0 && (text.length < MIN_QUERY_LENGTH || words.length === 0)) {
    throw bad('query_too_short', `Search text needs at least ${MIN_QUERY_LENGTH} letters or digits.`);
  }
  if ((input.lat === undefined) !== (input.lng === undefined))
    throw bad('invalid_coordinates', 'Send lat and lng together.');
  const point =
    input.lat === undefined || input.lng === undefined
      ? undefined
      : { latitude: toCentimetre(input.lat), longitude: toCentimetre(input.lng) };
  if (point === undefined && input.radiusKm !== undefined)
    throw bad('point_required', 'radiusKm needs lat and lng.');
  if (point === undefined && input.maxDeliveryMinutes !== undefined)
    throw bad('point_required', 'maxDeliveryMinutes needs lat and lng.');
  if (point === undefined && (input.sort === 'distance' || input.sort === 'delivery_time'))
    throw bad('point_required', `Sorting by ${input.sort} needs lat and lng.`);
  if (input.priceMin !== undefined && input.priceMax !== undefined && input.priceMin > input.priceMax) {
    throw bad('invalid_price_range', 'priceMin must not exceed priceMax.');
  }
  const cuisines = cuisinesOf(input);
  const sort = resolveSort(input.sort, words.length > 0, point !== undefined);
  const query: SearchQuery = {
    words,
    tsquery: prefixTsquery(words),
    text: words.join(' '),
    cuisines,
    openNow: input.openNow === true,
    sort,
    limit: input.limit ?? DEFAULT_PAGE_SIZE,
    now: instant,
    minuteOfWeek: localTime(instant).minuteOfWeek,
    ...(input.priceMin === undefined ? {} : { priceMin: input.priceMin }),
    ...(input.priceMax === undefined ? {} : { priceMax: input.priceMax }),
    ...(input.minRating === undefined ? {} : { minRating: input.minRating }),
    ...(input.maxDeliveryMinutes === undefined ? {} : { maxDeliveryMinutes: input.maxDeliveryMinutes }),
    ...(point === undefined ? {} : { point }),
    ...(input.radiusKm === undefined ? {} : { radiusM: input.radiusKm * 1000 }),
    deliversOnly: point !== undefined && input.radiusKm === undefined,
    ...(cityId === undefined ? {} : { city: cityId }),
  };
  if (input.cursor !== undefined) {
    const cursor = decodeCursor(input.cursor);
    if (
      cursor === undefined ||
      cursor.fingerprint !== queryFingerprint(query) ||
      typeof cursor.keys[0] !== 'number'
    ) {
      throw bad('invalid_cursor', 'The cursor is malformed or belongs to another search.');
    }
    query.after = { key: cursor.keys[0], id: cursor.id };
  }
  return query;
}

/** What a cursor is bound to: everything but the page position and the clock. */
function queryFingerprint(query: SearchQuery): string {
  const {
    // Derived from the cities' rules at the time: a zone changed mid-walk keeps the cursor valid.
    undeliverableCities: _undeliverable,
    cityDistanceCapsM: _caps,
    cityZonesAtPoint: _zones,
    pointCells: _cells,
    after: _after,
    now: _now,
    minuteOfWeek: _minute,
    limit: _limit,
    tsquery: _tsquery,
    ...rest
  } = query;
  return fingerprint(rest);
}

function matchedItemView(item: MatchedItemRow, language: Language) {
  return {
    id: item.id,
    name: localize(
      item.name_en === null ? { fr: item.name_fr } : { fr: item.name_fr, en: item.name_en },
      language,
    )!,
    price: item.price,
    ...(item.discount_price === null ? {} : { discountPrice: item.discount_price }),
    ...(item.image === null ? {} : { image: item.image }),
  };
}

function itemView(row: SearchRow, matched: MatchedItemRow[] | undefined, language: Language) {
  return {
    id: row.id,
    name: row.name,
    cuisines: row.cuisines,
    city: row.city,
    address: row.address,
    rating: { average: row.rating_average, count: row.rating_count },
    priceAverage: row.price_average,
    priceTier: priceTier(row.price_average),
    openNow: row.open_now,
    deliveryMinutes: row.delivery_minutes,
    ...(row.distance_m === null ? {} : { distanceM: row.distance_m }),
    ...(row.delivers_here === null ? {} : { deliversHere: row.delivers_here }),
    ...(matched === undefined
      ? {}
      : { matchedItems: matched.map((item) => matchedItemView(item, language)) }),
  };
}

/** Corrections per query word: how many, how long they are kept, and how many words are kept. */
const CORRECTIONS_PER_WORD = 3;
const CORRECTIONS_TTL_MS = 60_000;
const CORRECTIONS_MAX_WORDS = 10_000;

/**
 * Typo corrections from the lexicon, remembered per word for a minute: popular searches repeat
 * the same few words, and the lexicon only grows when a menu changes.
 */
function createCorrections(repository: SearchRepository) {
  const cache = new Map<string, { matches: string[]; expiresAtMs: number }>();
  return async (words: string[]): Promise<Map<string, string[]>> => {
    const nowMs = Date.now();
    const result = new Map<string, string[]>();
    const missing: string[] = [];
    for (const word of words) {
      const cached = cache.get(word);
      if (cached !== undefined && cached.expiresAtMs > nowMs) result.set(word, cached.matches);
      else missing.push(word);
    }
    if (missing.length === 0) return result;
    const found = await repository.similarWords(missing, CORRECTIONS_PER_WORD);
    if (cache.size + missing.length > CORRECTIONS_MAX_WORDS) cache.clear();
    for (const word of missing) {
      const matches = found.get(word) ?? [];
      cache.set(word, { matches, expiresAtMs: nowMs + CORRECTIONS_TTL_MS });
      result.set(word, matches);
    }
    return result;
  };
}

/**
 * Search pages are kept for a few seconds per (query, cursor, minute): popular searches repeat,
 * and a catalog write in this process clears them all. Bounded; another instance's writes show
 * within SEARCH_CACHE_TTL_MS.
 */
export const SEARCH_CACHE_TTL_MS = 10_000;

export interface Suggestions {
  restaurants: { id: string; name: string; city: string }[];
  dishes: { name: string; restaurants: number }[];
  cuisines: { code: string; name: string }[];
}
const SEARCH_CACHE_MAX_ENTRIES = 5_000;

/** What search reads of the cities (catalog's city directory): the one place for their rules. */
export interface SearchCities {
  resolve(input: string): Promise<{ id: string }>;
  deliveryTermsEverywhere(
    point: { latitude: number; longitude: number },
    at: Date,
  ): Promise<
    { cityId: string; refusal?: string; maxDeliveryDistanceM: number | null; zoneId: string | null }[]
  >;
}

/** With a point, the cities' delivery terms there, added to the query. */
async function withCityTerms(query: SearchQuery, cities: SearchCities | undefined) {
  if (query.point !== undefined) query.pointCells = pointCellPath(query.point);
  if (cities === undefined || query.point === undefined) return;
  const terms = await cities.deliveryTermsEverywhere(query.point, query.now);
  const undeliverable = terms.filter((t) => t.refusal !== undefined).map((t) => t.cityId);
  const caps = Object.fromEntries(
    terms.filter((t) => t.maxDeliveryDistanceM !== null).map((t) => [t.cityId, t.maxDeliveryDistanceM!]),
  );
  if (undeliverable.length > 0) query.undeliverableCities = undeliverable;
  if (Object.keys(caps).length > 0) query.cityDistanceCapsM = caps;
  const zones = Object.fromEntries(terms.filter((t) => t.zoneId !== null).map((t) => [t.cityId, t.zoneId!]));
  if (Object.keys(zones).length > 0) query.cityZonesAtPoint = zones;
}

export function createSearchService(repository: SearchRepository, now: () => Date, cities?: SearchCities) {
  const corrections = createCorrections(repository);
  const pages = new Map<string, { result: SearchResult; expiresAtMs: number }>();
  const inFlight = new Map<string, Promise<SearchResult>>();
  // Bumped by invalidation, so a query that started before a write never stores its result.
  let cacheGeneration = 0;
  // Autocomplete answers, per (text, size, language): typed a keystroke at a time, they repeat.
  const suggestions = new Map<string, { body: Suggestions; expiresAtMs: number }>();
  let cacheTtlMs = SEARCH_CACHE_TTL_MS;

  async function cachedSearch(query: SearchQuery, generation: number): Promise<SearchResult> {
    if (cacheTtlMs === 0) return repository.search(query);
    const { now: _now, ...keyed } = query;
    const key = JSON.stringify(keyed);
    const nowMs = Date.now();
    const hit = pages.get(key);
    if (hit !== undefined && hit.expiresAtMs > nowMs) return hit.result;
    // Concurrent misses on one key share one query: without this, 50 connections asking for
    // an expired page ran the SQL 50 times.
    const flightKey = `${generation}|${key}`;
    const pending = inFlight.get(flightKey);
    if (pending !== undefined) return pending;
    const promise = repository
      .search(query)
      .then((result) => {
        if (generation === cacheGeneration) {
          if (pages.size >= SEARCH_CACHE_MAX_ENTRIES) pages.clear();
          pages.set(key, { result, expiresAtMs: nowMs + cacheTtlMs });
        }
        return result;
      })
      .finally(() => inFlight.delete(flightKey));
    inFlight.set(flightKey, promise);
    return promise;
  }

  return {
    /** Drops every cached page (any catalog write in this process). */
    invalidate(): void {
      cacheGeneration += 1;
      pages.clear();
      suggestions.clear();
    },
    /** For benchmarks: 0 measures every search against PostgreSQL. */
    setCacheTtlMs(ttlMs: number): void {
      cacheTtlMs = Math.max(0, ttlMs);
      pages.clear();
      suggestions.clear();
    },

    async search(input: SearchInput, language: Language = 'fr') {
      // Taken before any await: a write that lands while this search runs must not be cached over.
      const generation = cacheGeneration;
      if (input.city !== undefined && cities === undefined) throw bad('city_unknown', 'No city filter here.');
      const cityId = input.city === undefined ? undefined : (await cities!.resolve(input.city)).id;
      const query = parseSearch(input, now(), cityId);
      await withCityTerms(query, cities);
      if (query.words.length > 0) query.tsquery = prefixTsquery(query.words, await corrections(query.words));
      const result = await cachedSearch(query, generation);
      const hasMore = result.rows.length > query.limit;
      const rows = hasMore ? result.rows.slice(0, query.limit) : result.rows;
      const last = rows[rows.length - 1];
      return {
        items: rows.map((row) =>
          itemView(row, query.words.length === 0 ? undefined : (result.matchedItems[row.id] ?? []), language),
        ),
        total: result.total,
        sort: query.sort,
        facets: result.facets,
        ...(hasMore && last !== undefined
          ? {
              nextCursor: encodeCursor({
                keys: [last.sort_key],
                id: last.id,
                fingerprint: queryFingerprint(query),
              }),
            }
          : {}),
      };
    },

    async autocomplete(q: string, limit: number | undefined, language: Language): Promise<Suggestions> {
      const text = normalizeText(q);
      const words = queryWords(text);
      const size = Math.min(limit ?? 5, MAX_AUTOCOMPLETE);
      if (text.length < MIN_QUERY_LENGTH || words.length === 0) {
        throw bad('query_too_short', `Autocomplete needs at least ${MIN_QUERY_LENGTH} letters or digits.`);
      }
      const joined = words.join(' ');
      const key = `${joined}|${size}|${language}`;
      const cached = suggestions.get(key);
      if (cached !== undefined && cached.expiresAtMs > Date.now()) return cached.body;
      const tsquery = prefixTsquery(words, await corrections(words));
      const [restaurants, found] = await Promise.all([
        repository.autocompleteRestaurants(joined, size),
        repository.autocompleteDishes(tsquery, joined, size),
      ]);
      const dishes =
        found.length > 0 ? found : await repository.autocompleteDishes(tsquery, joined, size, true);
      const cuisines = CUISINE_CODES.filter((code) => {
        const labels = [code, CUISINES[code].fr, CUISINES[code].en].map(normalizeText);
        return labels.some(
          (label) =>
            label.split(/[^a-z0-9]+/).some((word) => word.startsWith(words[0]!)) || label.includes(joined),
        );
      })
        .slice(0, size)
        .map((code) => ({ code, name: CUISINES[code][language] }));
      const body: Suggestions = {
        restaurants,
        dishes: dishes.map((dish) => ({
          name: localize(
            dish.name_en === null ? { fr: dish.name_fr } : { fr: dish.name_fr, en: dish.name_en },
            language,
          )!,
          restaurants: dish.restaurants,
        })),
        cuisines,
      };
      if (suggestions.size >= SEARCH_CACHE_MAX_ENTRIES) suggestions.clear();
      suggestions.set(key, { body, expiresAtMs: Date.now() + Math.max(cacheTtlMs, 1) });
      return body;
    },
  };
}
