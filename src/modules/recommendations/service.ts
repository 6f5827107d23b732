/**
 * Recommendations (issue #24): ranks the catalog's orderable dishes for a customer (or a guest at a
 * place) now, with the ONNX ranker over the features of `features.ts`, or by popularity when no
 * model is loaded.
 *
 * The history is kept in memory: placed orders of the last `HISTORY_DAYS` from the projection's
 * `reco_orders`, folded into `HistoryStats` at start and then every refresh (orders placed since,
 * found again within `LATE_WINDOW_MS` in case the projection wrote them late). The catalog's
 * dishes are re-read at each refresh. A request therefore sees orders at most one refresh old.
 */
import type { Logger } from 'pino';
import type { WeatherService, WeatherSource } from './weather/weather-service.js';
import type { CatalogRankingApi, RankingItem } from '../catalog/index.js';
import { recommendationsErrors } from './errors.js';
import {
  featureRows,
  HistoryStats,
  isWeekend,
  distanceKm,
  cellOf,
  seasonalRain,
  sectionOfCategory,
  slotOf,
  type CandidateItem,
  type OrderFact,
} from './features.js';
import type { Ranker, RankerStatus } from './model.js';
import type { RecommendationsDb } from './tables.js';

export const HISTORY_DAYS = 120;
/** Orders folded at most (the oldest are left out beyond it). */
export const HISTORY_MAX_ORDERS = 300_000;
/** Dishes ranked at most (the catalog's highest-rated restaurants first). */
export const CANDIDATES_MAX = 5_000;
/** A guest's (or located customer's) dishes come from restaurants within this distance. */
export const CANDIDATE_RADIUS_KM = 25;
export const LIMIT_MAX = 50;
const LATE_WINDOW_MS = 10 * 60_000;
const PAGE = 5_000;

export interface RecommendInput {
  customerId: string | null;
  location: { latitude: number; longitude: number } | null;
  /** What the app says the weather is; null: the season's bucket. */
  weather: 'rain' | 'dry' | null;
  limit: number;
  at: Date;
  /** `popularity`: rank by popularity even with a model loaded (an experiment's control arm). */
  ranking?: 'model' | 'popularity';
}

export interface RecommendedItem {
  itemId: string;
  restaurantId: string;
  restaurantName: string;
  name: { fr: string; en: string | null };
  priceMinor: number;
  score: number;
}

export interface Recommendations {
  source: 'model' | 'popularity';
  modelVersion: string | null;
  context: {
    slot: string;
    weekend: boolean;
    weather: 'rain' | 'dry';
    /** app: the request said; provider: a fresh reading; stale: an older one while the provider fails; season: the calendar. */
    weatherSource: 'app' | WeatherSource;
    cell: string | null;
  };
  items: RecommendedItem[];
  restaurants: { restaurantId: string; restaurantName: string; score: number }[];
}

/** "Popular now": the most ordered dishes delivered around a place in the last hours. */
export interface PopularNow {
  cell: string;
  hours: number;
  /** Orders delivered in the area in the window. */
  orders: number;
  items: (Omit<RecommendedItem, 'score'> & { ordered: number })[];
}

export const POPULAR_MAX_HOURS = 6;
/** The area: the place's cell and its neighbours (3 × 3 cells, about 6.6 km square). */
const POPULAR_RING = 1;
const POPULAR_CACHE_MS = 60_000;

export interface RecommendationsService {
  recommend(input: RecommendInput): Promise<Recommendations>;
  popularNow(input: {
    location: { latitude: number; longitude: number };
    hours: number;
    limit: number;
    at: Date;
  }): Promise<PopularNow>;
  /** Folds newly placed orders, re-reads the catalog and reloads a changed model. */
  refresh(): Promise<void>;
  status(): { model: RankerStatus; orders: number; dishes: number; refreshedAt: string | null };
  /** The catalog's orderable dishes as of the last refresh (the ranker retrain's candidates). */
  candidateItems(): readonly CandidateItem[];
  /** The person's share: the orders the ranker knows of (counts only) and their erasure. */
  personalData: {
    export(customerId: string): Promise<{ ordersKnown: number }>;
    erase(customerId: string): Promise<void>;
  };
}

interface Candidate extends CandidateItem {
  display: RankingItem;
}

function candidateOf(item: RankingItem): Candidate {
  return {
    itemId: item.itemId,
    restaurantId: item.restaurantId,
    section: sectionOfCategory(item.categoryFr, item.categoryEn),
    priceMinor: item.priceMinor,
    cuisine: item.cuisines[0] ?? 'cameroonian',
    latitude: item.latitude,
    longitude: item.longitude,
    display: item,
  };
}

export function createRecommendations(options: {
  db: RecommendationsDb;
  catalog: CatalogRankingApi;
  ranker: Ranker;
  logger: Logger;
  /** The weather at the place when the app does not say (never waits for the provider). */
  weather?: WeatherService;
  now?: () => Date;
}): RecommendationsService {
  const { db, catalog, ranker } = options;
  const now = options.now ?? (() => new Date());
  let candidates: Candidate[] = [];
  let byId = new Map<string, Candidate>();
  // Dishes seen once stay known to the history (an archived dish still tells about its buyers).
  const known = new Map<string, CandidateItem>();
  const stats = new HistoryStats((itemId) => known.get(itemId));
  const folded = new Map<string, number>();
  let cursor: Date | null = null;
  let refreshedAt: string | null = null;
  let refreshing: Promise<void> | undefined;
  // The placed orders of the last POPULAR_MAX_HOURS with a cell, oldest first (popular now).
  let recent: { at: number; cell: string; lines: { itemId: string; quantity: number }[] }[] = [];
  const popularCache = new Map<string, { at: number; value: PopularNow }>();

  async function readCatalog(): Promise<void> {
    const items = await catalog.rankingItems(CANDIDATES_MAX);
    candidates = items.map(candidateOf);
    byId = new Map(candidates.map((candidate) => [candidate.itemId, candidate]));
    for (const candidate of candidates) known.set(candidate.itemId, candidate);
  }

  async function foldOrders(): Promise<void> {
    const since =
      cursor === null
        ? new Date(now().getTime() - HISTORY_DAYS * 86_400_000)
        : new Date(cursor.getTime() - LATE_WINDOW_MS);
    let after: { at: Date; id: string } | null = null;
    for (;;) {
      let query = db
        .selectFrom('reco_orders')
        .select(['order_id', 'customer_id', 'restaurant_id', 'lines', 'cell', 'placed_at'])
        .where('placed_at', 'is not', null)
        .where('placed_at', '>=', since)
        .orderBy('placed_at')
        .orderBy('order_id')
        .limit(PAGE);
      if (after !== null) {
        const { at, id } = after;
        query = query.where((eb) =>
          eb.or([eb('placed_at', '>', at), eb.and([eb('placed_at', '=', at), eb('order_id', '>', id)])]),
        );
      }
      const rows = await query.execute();
      for (const row of rows) {
        const at = row.placed_at!.getTime();
        if (folded.has(row.order_id)) continue;
        if (stats.orders >= HISTORY_MAX_ORDERS) break;
        folded.set(row.order_id, at);
        const order: OrderFact = {
          orderId: row.order_id,
          customerId: row.customer_id,
          restaurantId: row.restaurant_id,
          lines: row.lines,
          at,
          cell: row.cell,
        };
        stats.add(order);
        if (row.cell !== null && at >= now().getTime() - POPULAR_MAX_HOURS * 3_600_000)
          recent.push({ at, cell: row.cell, lines: row.lines });
        if (cursor === null || at > cursor.getTime()) cursor = new Date(at);
      }
      if (rows.length < PAGE || stats.orders >= HISTORY_MAX_ORDERS) break;
      const last = rows[rows.length - 1]!;
      after = { at: last.placed_at!, id: last.order_id };
      // Let requests through between pages of a long first load.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const horizon = now().getTime() - POPULAR_MAX_HOURS * 3_600_000;
    if (recent.some((entry) => entry.at < horizon)) recent = recent.filter((entry) => entry.at >= horizon);
    // Ids older than the late window cannot come back: forget them.
    if (cursor !== null) {
      const horizon = cursor.getTime() - 2 * LATE_WINDOW_MS;
      for (const [id, at] of folded) if (at < horizon) folded.delete(id);
    }
  }

  async function refresh(): Promise<void> {
    refreshing ??= (async () => {
      try {
        await readCatalog();
        await foldOrders();
        await ranker.reloadIfChanged();
        refreshedAt = now().toISOString();
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  function cellsAround(latitude: number, longitude: number): Set<string> {
    const [row, column] = cellOf(latitude, longitude).split(':').map(Number) as [number, number];
    const cells = new Set<string>();
    for (let dr = -POPULAR_RING; dr <= POPULAR_RING; dr += 1)
      for (let dc = -POPULAR_RING; dc <= POPULAR_RING; dc += 1) cells.add(`${row + dr}:${column + dc}`);
    return cells;
  }

  return {
    refresh,
    async popularNow(input) {
      // The query schema bounds them; a number too long to read (Infinity) must not get through.
      if (
        !Number.isSafeInteger(input.hours) ||
        input.hours < 1 ||
        input.hours > POPULAR_MAX_HOURS ||
        !Number.isSafeInteger(input.limit) ||
        input.limit < 1 ||
        input.limit > LIMIT_MAX
      )
        throw recommendationsErrors.of('validation', 'validation_failed', 'hours is 1-6 and limit 1-50.');
      if (refreshedAt === null) await refresh();
      const cell = cellOf(input.location.latitude, input.location.longitude);
      const key = `${cell}|${input.hours}|${input.limit}`;
      const cached = popularCache.get(key);
      if (cached !== undefined && input.at.getTime() - cached.at < POPULAR_CACHE_MS) return cached.value;
      const area = cellsAround(input.location.latitude, input.location.longitude);
      const since = input.at.getTime() - input.hours * 3_600_000;
      const counts = new Map<string, number>();
      let orders = 0;
      for (const entry of recent) {
        if (entry.at < since || !area.has(entry.cell)) continue;
        orders += 1;
        for (const line of entry.lines)
          counts.set(line.itemId, (counts.get(line.itemId) ?? 0) + line.quantity);
      }
      const items = [...counts]
        .map(([itemId, ordered]) => ({ candidate: byId.get(itemId), ordered }))
        .filter((entry): entry is { candidate: Candidate; ordered: number } => entry.candidate !== undefined)
        .sort((a, b) => b.ordered - a.ordered || a.candidate.itemId.localeCompare(b.candidate.itemId))
        .slice(0, input.limit)
        .map(({ candidate, ordered }) => ({
          itemId: candidate.itemId,
          restaurantId: candidate.restaurantId,
          restaurantName: candidate.display.restaurantName,
          name: { fr: candidate.display.nameFr, en: candidate.display.nameEn },
          priceMinor: candidate.priceMinor,
          ordered,
        }));
      const value = { cell, hours: input.hours, orders, items };
      if (popularCache.size > 10_000) popularCache.clear();
      popularCache.set(key, { at: input.at.getTime(), value });
      return value;
    },
    async recommend(input) {
      if (input.customerId === null && input.location === null) {
        throw recommendationsErrors.of(
          'validation',
          'location_required',
          'Give lat and lng (a guest is recommended dishes near a place), or sign in.',
        );
      }
      if (refreshedAt === null) await refresh();
      const at = input.at.getTime();
      const reading =
        input.weather !== null
          ? { rain: input.weather === 'rain', source: 'app' as const }
          : (options.weather?.rainAt(input.location, at) ?? {
              rain: seasonalRain(at, input.location),
              source: 'season' as const,
            });
      const rain = reading.rain;
      const pool =
        input.location === null
          ? candidates
          : candidates.filter((candidate) => distanceKm(input.location!, candidate) <= CANDIDATE_RADIUS_KM);
      const context = { at, rain, location: input.location };
      let scores: Float32Array | undefined;
      if (pool.length > 0 && input.ranking !== 'popularity') {
        const rows = featureRows(stats, input.customerId, context, pool);
        scores = await ranker.logits(rows, pool.length);
      }
      const source = scores === undefined ? 'popularity' : 'model';
      const ranked = pool
        .map((candidate, index) => ({
          candidate,
          score: scores === undefined ? stats.popularity(candidate.itemId, at) : scores[index]!,
        }))
        .sort((a, b) => b.score - a.score || a.candidate.itemId.localeCompare(b.candidate.itemId));
      const top = ranked.slice(0, input.limit);
      const restaurants = new Map<string, { restaurantId: string; restaurantName: string; score: number }>();
      for (const { candidate, score } of ranked) {
        if (restaurants.size >= Math.min(input.limit, 10)) break;
        if (!restaurants.has(candidate.restaurantId)) {
          restaurants.set(candidate.restaurantId, {
            restaurantId: candidate.restaurantId,
            restaurantName: candidate.display.restaurantName,
            score,
          });
        }
      }
      return {
        source,
        modelVersion: source === 'model' ? ranker.status().version : null,
        context: {
          slot: slotOf(at),
          weekend: isWeekend(at),
          weather: rain ? 'rain' : 'dry',
          weatherSource: reading.source,
          cell: input.location === null ? null : cellOf(input.location.latitude, input.location.longitude),
        },
        items: top.map(({ candidate, score }) => ({
          itemId: candidate.itemId,
          restaurantId: candidate.restaurantId,
          restaurantName: candidate.display.restaurantName,
          name: { fr: candidate.display.nameFr, en: candidate.display.nameEn },
          priceMinor: candidate.priceMinor,
          score: Number(score.toFixed(6)),
        })),
        restaurants: [...restaurants.values()].map((entry) => ({
          ...entry,
          score: Number(entry.score.toFixed(6)),
        })),
      };
    },
    status: () => ({ model: ranker.status(), orders: stats.orders, dishes: byId.size, refreshedAt }),
    candidateItems: () => candidates,
    personalData: {
      async export(customerId) {
        const row = await db
          .selectFrom('reco_orders')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .where('customer_id', '=', customerId)
          .executeTakeFirst();
        return { ordersKnown: Number(row?.count ?? 0) };
      },
      async erase(customerId) {
        // The orders stay (the orders context keeps them under a pseudonymous id); their places go.
        // The in-memory history counts dishes per cell, not per person: nothing there names them.
        await db
          .updateTable('reco_orders')
          .set({ cell: null })
          .where('customer_id', '=', customerId)
          .execute();
      },
    },
  };
}
