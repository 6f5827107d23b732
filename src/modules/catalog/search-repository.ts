/**
 * Restaurant search and autocomplete in PostgreSQL: full-text (simple + French + English, accents
 * removed) OR trigram word similarity for typos, filters, keyset pagination and facet counts in
 * one statement, so a page costs one round trip.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Executor } from './repository.js';
import {
  COURIER_METRES_PER_MINUTE,
  EARTH_RADIUS_M,
  HANDOVER_MINUTES,
  ROAD_FACTOR,
  boundingBox,
  type Point,
} from './rules/geo.js';
import { PRICE_TIER_BOUNDS_XAF, type SearchSort } from './rules/search.js';

export interface SearchQuery {
  /** Normalised words of the free text (empty: no text). */
  words: string[];
  /** The words as a tsquery, each widened with its typo corrections: '(ndolle:* | ndole) & …'. */
  tsquery: string;
  /** The normalised text, for trigram similarity. */
  text: string;
  cuisines: string[];
  priceMin?: number;
  priceMax?: number;
  minRating?: number;
  openNow: boolean;
  maxDeliveryMinutes?: number;
  point?: Point;
  radiusM?: number;
  /**
   * Only restaurants whose delivery radius reaches `point` (a point without an explicit radius:
   * a customer in Douala must not be offered a restaurant 200 km away).
   */
  deliversOnly: boolean;
  /** Only this city's restaurants (`cities.id`). */
  city?: string;
  /**
   * From the cities' delivery terms at `point` (catalog's one place for them): cities whose
   * restaurants cannot deliver there now (outside their zones, a zone not served, service
   * closed), and cities' caps on delivery distance (metres) over the restaurants' own radius.
   */
  undeliverableCities?: string[];
  cityDistanceCapsM?: Record<string, number>;
  /** The zone of the point in each city that has zones there: restaurants' own delivery zones. */
  cityZonesAtPoint?: Record<string, string>;
  /** The H3 cells holding the point, every resolution (5-15): restaurants' own delivery areas. */
  pointCells?: string[];
  sort: SearchSort;
  limit: number;
  after?: { key: number; id: string };
  now: Date;
  minuteOfWeek: number;
}

export interface SearchRow {
  id: string;
  name: string;
  cuisines: string[];
  city: string;
  address: string;
  rating_average: number;
  rating_count: number;
  price_average: number;
  open_now: boolean;
  distance_m: number | null;
  delivery_minutes: number;
  delivers_here: boolean | null;
  sort_key: number;
}

/** A dish of a restaurant on the page that matched the search text (at most MATCHED_ITEMS_PER_RESTAURANT). */
export interface MatchedItemRow {
  id: string;
  name_fr: string;
  name_en: string | null;
  price: number;
  discount_price: number | null;
  image: string | null;
}

/** How many matching dishes are shown under each restaurant of a page. */
export const MATCHED_ITEMS_PER_RESTAURANT = 3;

/** Delivery-time bands of the facets, in minutes (each counts the restaurants at or under it). */
export const DELIVERY_TIME_BANDS_MINUTES = [20, 30, 45, 60] as const;

export interface SearchResult {
  rows: SearchRow[];
  /** Per restaurant id of the page, its dishes that matched the text (empty without text). */
  matchedItems: Record<string, MatchedItemRow[]>;
  total: number;
  facets: {
    cuisines: Record<string, number>;
    openNow: number;
    priceTiers: Record<string, number>;
    ratings: Record<string, number>;
    deliveryTimes: Record<string, number>;
  };
}

function distanceSql(point: Point): RawBuilder<number> {
  return sql<number>`(2 * ${EARTH_RADIUS_M}::float8 * asin(least(1, sqrt(
    power(sin(radians(r.latitude - ${point.latitude}::float8) / 2), 2) +
    cos(radians(${point.latitude}::float8)) * cos(radians(r.latitude)) *
    power(sin(radians(r.longitude - ${point.longitude}::float8) / 2), 2)))))`;
}

function tsquerySql(text: string): RawBuilder<unknown> {
  return sql`(to_tsquery('simple', ${text}) || to_tsquery('french', ${text}) || to_tsquery('english', ${text}))`;
}

function sortKeySql(sort: SearchSort): { key: RawBuilder<number>; descending: boolean } {
  switch (sort) {
    case 'relevance':
      return { key: sql<number>`relevance`, descending: true };
    case 'rating':
      return { key: sql<number>`rating_average`, descending: true };
    case 'price':
      return { key: sql<number>`price_average::float8`, descending: false };
    case 'distance':
      return { key: sql<number>`distance_m`, descending: false };
    case 'delivery_time':
      return { key: sql<number>`delivery_minutes::float8`, descending: false };
    default: {
      const never: never = sort;
      throw new Error(`unknown sort ${String(never)}`);
    }
  }
}

function baseFilters(query: SearchQuery): RawBuilder<unknown>[] {
  const filters: RawBuilder<unknown>[] = [sql`r.status = 'active'`];
  if (query.words.length > 0) {
    filters.push(sql`r.search_vector @@ ${tsquerySql(query.tsquery)}`);
  }
  if (query.city !== undefined) filters.push(sql`r.city = ${query.city}`);
  if (query.priceMin !== undefined) filters.push(sql`r.price_average >= ${query.priceMin}`);
  if (query.priceMax !== undefined) filters.push(sql`r.price_average <= ${query.priceMax}`);
  if (query.minRating !== undefined) filters.push(sql`r.rating_average >= ${query.minRating}`);
  if (query.openNow) {
    filters.push(
      sql`r.open_week_minutes @> ${query.minuteOfWeek}::int AND NOT r.closed_periods @> ${query.now}::timestamptz`,
    );
  }
  if (query.point !== undefined && query.radiusM !== undefined) {
    const box = boundingBox(query.point, query.radiusM);
    // The exact distance test runs once, on the rows this box lets through (see `filtered`).
    filters.push(
      sql`r.latitude BETWEEN ${box.minLat} AND ${box.maxLat} AND r.longitude BETWEEN ${box.minLng} AND ${box.maxLng}`,
    );
  }
  return filters;
}

/** Whether a row's restaurant delivers to the point: its radius, its city's cap and zones. */
function deliversSql(query: SearchQuery): RawBuilder<boolean> {
  const caps = query.cityDistanceCapsM ?? {};
  const radius =
    Object.keys(caps).length === 0
      ? sql`delivery_radius_m`
      : sql`least(delivery_radius_m, coalesce((${JSON.stringify(caps)}::jsonb ->> city)::float8, 'Infinity'))`;
  const excluded = query.undeliverableCities ?? [];
  // A restaurant that names its delivery zones reaches the point only in one of them (an absent
  // zone makes ARRAY[NULL], which no array contains).
  const zones = sql<boolean>`(delivery_zones IS NULL OR delivery_zones @> ARRAY[${JSON.stringify(query.cityZonesAtPoint ?? {})}::jsonb ->> city])`;
  // A restaurant with its own area of H3 cells reaches the point only when one of its (compacted)
  // cells holds it: the point's cell at some resolution is in the set (issue #26).
  const area =
    query.pointCells === undefined
      ? sql<boolean>`true`
      : sql<boolean>`NOT EXISTS (SELECT 1 FROM restaurant_delivery_areas a
          WHERE a.restaurant_id = base.id AND NOT a.cells && ${query.pointCells}::text[])`;
  return excluded.length === 0
    ? sql<boolean>`distance_m <= ${radius} AND ${zones} AND ${area}`
    : sql<boolean>`distance_m <= ${radius} AND ${zones} AND ${area} AND NOT city = ANY(${excluded}::text[])`;
}

export function createSearchRepository(db: Executor) {
  return {
    async search(query: SearchQuery): Promise<SearchResult> {
      // ts_rank reads every matching row's whole vector: only pay for it when it orders the page.
      const relevance =
        query.words.length > 0 && query.sort === 'relevance'
          ? sql`(ts_rank(r.search_vector, ${tsquerySql(query.tsquery)}) + word_similarity(${query.text}, catalog_normalize(r.name))
                 + CASE WHEN catalog_normalize(r.name) LIKE ${`${query.text}%`} THEN 1 ELSE 0 END)::float8`
          : sql`0::float8`;
      const distance = query.point === undefined ? sql`NULL::float8` : distanceSql(query.point);
      const deliveryFilter = sql.join(
        [
          query.maxDeliveryMinutes === undefined
            ? sql`true`
            : sql`delivery_minutes <= ${query.maxDeliveryMinutes}`,
          query.radiusM === undefined ? sql`true` : sql`distance_m <= ${query.radiusM}`,
          query.deliversOnly ? sql`delivers_here` : sql`true`,
        ],
        sql` AND `,
      );
      const cuisineFilter =
        query.cuisines.length === 0 ? sql`true` : sql`cuisines && ${query.cuisines}::text[]`;
      const { key, descending } = sortKeySql(query.sort);
      const after =
        query.after === undefined
          ? sql`true`
          : descending
            ? sql`(${key} < ${query.after.key}::float8 OR (${key} = ${query.after.key}::float8 AND id > ${query.after.id}::uuid))`
            : sql`(${key} > ${query.after.key}::float8 OR (${key} = ${query.after.key}::float8 AND id > ${query.after.id}::uuid))`;
      const order = descending ? sql`${key} DESC, id ASC` : sql`${key} ASC, id ASC`;
      const [tier1, tier2, tier3] = PRICE_TIER_BOUNDS_XAF;
      const deliveryBands = sql.join(
        DELIVERY_TIME_BANDS_MINUTES.map(
          (minutes) => sql`${String(minutes)}::text, count(*) FILTER (WHERE delivery_minutes <= ${minutes})`,
        ),
      );
      // The dishes behind a text match, for the page's restaurants only (at most 51 of them):
      // full-text like the restaurant's own vector, or the whole phrase by trigram similarity.
      const matches =
        query.words.length === 0
          ? sql`SELECT NULL::uuid AS restaurant_id, NULL::json AS items WHERE false`
          : sql`SELECT p.id AS restaurant_id,
                       json_agg(json_build_object('id', m.id, 'name_fr', m.name_fr, 'name_en', m.name_en,
                         'price', m.price, 'discount_price', m.discount_price, 'image', m.images[1])
                         ORDER BY m.score DESC, m.id) AS items
                FROM page p CROSS JOIN LATERAL (
                  SELECT i.id, i.name_fr, i.name_en, i.price, i.discount_price, i.images,
                         word_similarity(${query.text}, i.search_text) AS score
                  FROM menu_items i
                  WHERE i.restaurant_id = p.id AND i.archived_at IS NULL
                    AND (i.search_vector @@ to_tsquery('simple', ${query.tsquery}) OR ${query.text} <% i.search_text)
                  ORDER BY score DESC, i.id LIMIT ${MATCHED_ITEMS_PER_RESTAURANT}) m
                GROUP BY p.id`;
      const result = await sql<{
        items: SearchRow[] | null;
        matched_items: Record<string, MatchedItemRow[]> | null;
        cuisine_facets: Record<string, number> | null;
        summary: Omit<SearchResult['facets'], 'cuisines'> & { total: number };
      }>`
        WITH base AS (
          SELECT r.id, r.name, r.cuisines, r.city, r.address, r.rating_average, r.rating_count, r.price_average,
                 (r.open_week_minutes @> ${query.minuteOfWeek}::int AND NOT r.closed_periods @> ${query.now}::timestamptz) AS open_now,
                 ${distance} AS distance_m,
                 r.delivery_radius_m, r.delivery_zones, r.prep_time_minutes,
                 ${relevance} AS relevance
          FROM restaurants r
          WHERE ${sql.join(baseFilters(query), sql` AND `)}
        ), scored AS (
          SELECT *,
                 prep_time_minutes + ceil(coalesce(distance_m, 0) * ${ROAD_FACTOR}::float8 / ${COURIER_METRES_PER_MINUTE})::int + ${HANDOVER_MINUTES}::int AS delivery_minutes,
                 CASE WHEN distance_m IS NULL THEN NULL ELSE ${deliversSql(query)} END AS delivers_here
          FROM base
        ), filtered AS (
          SELECT * FROM scored WHERE ${deliveryFilter}
        ), chosen AS (
          SELECT * FROM filtered WHERE ${cuisineFilter}
        ), page AS (
          SELECT id, name, cuisines, city, address, rating_average, rating_count, price_average, open_now,
                 round(distance_m)::float8 AS distance_m, delivery_minutes, delivers_here, ${key} AS sort_key
          FROM chosen WHERE ${after} ORDER BY ${order} LIMIT ${query.limit + 1}
        ), matches AS (${matches})
        SELECT
          (SELECT json_agg(page ORDER BY ${descending ? sql`sort_key DESC` : sql`sort_key ASC`}, id ASC) FROM page) AS items,
          (SELECT json_object_agg(restaurant_id, items) FROM matches) AS matched_items,
          (SELECT json_object_agg(cuisine, n) FROM (SELECT cuisine, count(*) AS n FROM filtered, unnest(cuisines) AS cuisine GROUP BY cuisine) c) AS cuisine_facets,
          (SELECT json_build_object(
             'total', count(*),
             'openNow', count(*) FILTER (WHERE open_now),
             'priceTiers', json_build_object(
               '1', count(*) FILTER (WHERE price_average < ${tier1}),
               '2', count(*) FILTER (WHERE price_average >= ${tier1} AND price_average < ${tier2}),
               '3', count(*) FILTER (WHERE price_average >= ${tier2} AND price_average < ${tier3}),
               '4', count(*) FILTER (WHERE price_average >= ${tier3})),
             'ratings', json_build_object(
               '4.5', count(*) FILTER (WHERE rating_average >= 4.5),
               '4', count(*) FILTER (WHERE rating_average >= 4),
               '3', count(*) FILTER (WHERE rating_average >= 3)),
             'deliveryTimes', json_build_object(${deliveryBands}))
           FROM chosen) AS summary`.execute(db);
      const row = result.rows[0]!;
      const { total, ...facets } = row.summary;
      return {
        rows: row.items ?? [],
        matchedItems: row.matched_items ?? {},
        total,
        facets: { cuisines: row.cuisine_facets ?? {}, ...facets },
      };
    },

    /** For each query word, up to `perWord` lexicon words close to it (typo corrections). */
    async similarWords(words: string[], perWord: number): Promise<Map<string, string[]>> {
      const result = await sql<{ query: string; match: string }>`
        SELECT q.word AS query, l.word AS match
        FROM unnest(${words}::text[]) AS q(word)
        CROSS JOIN LATERAL (
          SELECT word FROM search_lexicon
          WHERE word % q.word AND word <> q.word
          ORDER BY similarity(word, q.word) DESC, word
          LIMIT ${perWord}
        ) l`.execute(db);
      const matches = new Map<string, string[]>();
      for (const row of result.rows) matches.set(row.query, [...(matches.get(row.query) ?? []), row.match]);
      return matches;
    },

    async autocompleteRestaurants(
      text: string,
      limit: number,
    ): Promise<{ id: string; name: string; city: string }[]> {
      const result = await sql<{ id: string; name: string; city: string }>`
        SELECT id, name, city FROM restaurants
        WHERE status = 'active' AND (catalog_normalize(name) LIKE ${`%${text}%`} OR ${text} <% catalog_normalize(name))
        ORDER BY (catalog_normalize(name) LIKE ${`${text}%`}) DESC, word_similarity(${text}, catalog_normalize(name)) DESC, rating_average DESC, id
        LIMIT ${limit}`.execute(db);
      return result.rows;
    },

    /**
     * Dishes by full-text (typo-corrected tsquery, indexed). `fuzzy` matches the whole phrase by
     * trigram word similarity instead: it reads every item (~30 ms on the fixture), so the
     * service only uses it when the full-text pass finds nothing ("poulet dj").
     */
    async autocompleteDishes(
      tsquery: string,
      text: string,
      limit: number,
      fuzzy = false,
    ): Promise<{ name_fr: string; name_en: string | null; restaurants: number }[]> {
      const match = fuzzy
        ? sql`${text} <% i.search_text`
        : sql`i.search_vector @@ to_tsquery('simple', ${tsquery})`;
      const result = await sql<{ name_fr: string; name_en: string | null; restaurants: string }>`
        SELECT min(i.name_fr) AS name_fr, min(i.name_en) AS name_en, count(DISTINCT i.restaurant_id) AS restaurants,
               max(word_similarity(${text}, i.search_text)) AS score
        FROM menu_items i JOIN restaurants r ON r.id = i.restaurant_id AND r.status = 'active'
        WHERE i.archived_at IS NULL AND ${match}
        GROUP BY i.search_text
        ORDER BY score DESC, restaurants DESC, 1
        LIMIT ${limit}`.execute(db);
      return result.rows.map((row) => ({
        name_fr: row.name_fr,
        name_en: row.name_en,
        restaurants: Number(row.restaurants),
      }));
    },
  };
}

export type SearchRepository = ReturnType<typeof createSearchRepository>;
