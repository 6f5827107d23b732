/**
 * The catalog context: restaurants, menus, search and reviews (state-stored, audited).
 *
 * Public API for other contexts (by declaring `catalog` in their needs):
 *   orders.readOrderSnapshot(restaurantId, lines, at)   priced, orderable-now snapshot of items with modifiers
 *   orders.checkDelivery(restaurantId, point, at)       radius, city terms (zones, cap, hours) + opening hours
 *   orders.decrementStock(restaurantId, lines, trx?)    all-or-nothing stock take; restoreStock(...) undoes it
 *   orders.restaurantOwnerId(restaurantId)              the owner's user id
 *   reviews.driverRating(driverId)                      a driver's average and count
 *   reviews.driverRatingBetween(driverId, from, to)     ratings given in a period (performance trend)
 *   photos.setRestaurantImage / setItemPhoto / …         the files context attaches photos (photos.ts)
 *   useCompletedOrderLookup(lookup)                     the orders context plugs in "was this order completed?"
 *   ranking.rankingItems(limit)                         orderable dishes of active restaurants (recommendations)
 *   community.restaurantCards(ids) / dishCards(ids)     public faces by id (favourites, shared links)
 */
import { fieldCipherOf } from '../../platform/field-crypto.js';
import { catalogPersonalData, encryptRestaurantContactsAtRest } from './personal-data.js';
import type { Redis } from 'ioredis';
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Identity } from '../identity/index.js';
import type { CatalogDependencies } from './context.js';
import { createCityService, type CityService } from './cities.js';
import { createZoneService, type ZoneService } from './zones.js';
import { createDeliveryAreas, type DeliveryAreas } from './delivery-areas.js';
import { CITIES_CHANGED, connectCatalogInvalidation } from './invalidation.js';
import { createMenuCache, type MenuCache } from './menu-cache.js';
import { createOrderCatalogCache } from './order-catalog-cache.js';
import { createMenuService, type MenuPromotionSource } from './menu-service.js';
import { createOrdersApi, type CatalogOrdersApi } from './orders-api.js';
import { createRankingItems, type CatalogRankingApi } from './ranking-items.js';
import { createCommunityApi, type CatalogCommunityApi } from './community-api.js';
import { createCatalogRepository, type CatalogRepository } from './repository.js';
import { createRestaurantService } from './restaurants.js';
import {
  createReviewService,
  noCompletedOrders,
  type CompletedOrderLookup,
  type ReviewService,
} from './reviews.js';
import { createCatalogPhotos, type CatalogPhotos } from './photos.js';
import { registerCatalogRoutes } from './routes.js';
import { createDescriptionDrafts } from './description-drafts.js';
import { registerDescriptionDraftRoutes } from './description-draft-routes.js';
import { createGemini } from '../../platform/gemini/index.js';
import { catalogSeedStep } from './seed.js';
import { createSearchRepository } from './search-repository.js';
import { createSearchService } from './search-service.js';
import type { CatalogTables } from './tables.js';
import { registerSearchAiRoutes } from './search-ai-routes.js';
import { budgetedSearchAi, createSearchAiBudget } from './search-ai/budget.js';
import { createGeminiSearchAi } from './search-ai/gemini-sdk.js';
import { createSearchIndexer, type SearchIndexer } from './search-ai/indexer.js';
import type { SearchAi } from './search-ai/port.js';
import { createSemanticRepository } from './search-ai/repository.js';
import { createSemanticSearch, type SemanticSearch } from './search-ai/semantic-search.js';

export type {
  CatalogOrdersApi,
  OrderSnapshot,
  SnapshotLine,
  OrderLineRequest,
  DeliveryCheck,
  StockResult,
} from './orders-api.js';
export type { CompletedOrder, CompletedOrderLookup } from './reviews.js';
export type { CatalogRankingApi, RankingItem } from './ranking-items.js';
export type { CatalogCommunityApi, RestaurantCard, DishCard } from './community-api.js';
export { MAX_PUBLIC_CARDS } from './community-api.js';
export type { CatalogPhotos } from './photos.js';
export type { City, CityRules } from './rules/cities.js';
export type { DeliveryTerms, DeliveryFeeRule, DeliveryRefusal, Zone } from './rules/zones.js';
export type { CatalogPhoto, PhotoEncoding } from './model.js';
export type { Actor, AuditEntry, AuditWriter, RoleGranter, CatalogDependencies } from './context.js';
export { CUISINES, CUISINE_CODES } from './rules/cuisines.js';
export { DEMO_OWNER_PHONES, demoRestaurants } from './seed.js';

/**
 * Menu cache: bounded, and a safety net on staleness should a Redis invalidation message be lost
 * (writes are announced to every instance at once). Short TTLs cost re-renders: at 5 s, 200 busy
 * menus meant 40 renders a second and halved throughput.
 */
export const MENU_CACHE_TTL_MS = 60_000;
export const MENU_CACHE_MAX_ENTRIES = 2_000;
/**
 * What order placement reads of a restaurant's catalog, dropped on every write like the menu;
 * the TTL bounds how long a lost cross-instance invalidation could leave a price stale.
 */
export const ORDER_CATALOG_TTL_MS = 10_000;

export interface Catalog {
  restaurants: ReturnType<typeof createRestaurantService>;
  /** Cities as data and their rules (issue #26), read from memory. */
  cities: CityService;
  /** Zones within a city: where the platform delivers and the fee adjustments (issue #26). */
  zones: ZoneService;
  /** Restaurants' own delivery areas as H3 cells (issue #26). */
  deliveryAreas: DeliveryAreas;
  menu: ReturnType<typeof createMenuService>;
  search: ReturnType<typeof createSearchService>;
  /** Search by meaning, voice and photo (issue #27; docs/catalog.md "Search by meaning"). */
  semantic: SemanticSearch;
  /** Keeps dishes' and restaurants' embeddings current; undefined without a model. */
  searchIndexer: SearchIndexer | undefined;
  reviews: ReviewService;
  orders: CatalogOrdersApi;
  /** The dishes the recommendations ranker ranks. */
  ranking: CatalogRankingApi;
  /** Public faces of restaurants and dishes by id (community: favourites, shared links). */
  community: CatalogCommunityApi;
  /** Restaurant and item photos: what the files context asks (owners, items) and attaches. */
  photos: CatalogPhotos;
  repository: CatalogRepository;
  menuCache: MenuCache;
  useCompletedOrderLookup(lookup: CompletedOrderLookup): void;
  /** Loyalty's promotions, rendered into the menu with their end times (issue #21). */
  useMenuPromotions(source: MenuPromotionSource): void;
  /** Stops listening for other instances' cache invalidations. */
  close(): Promise<void>;
}

export function createCatalog(
  deps: CatalogDependencies & {
    redis?: Redis;
    redisKeyPrefix?: string;
    /** The search model (Gemini through the SDK, within its daily budget); undefined without a key. */
    searchAi?: SearchAi;
  },
): Catalog {
  const repository = createCatalogRepository(deps.db, deps.fields);
  const cityService = createCityService(deps);
  const search = createSearchService(
    createSearchRepository(deps.db),
    deps.now ?? (() => new Date()),
    cityService,
  );
  const semanticRepository = createSemanticRepository(deps.db);
  const searchIndexer =
    deps.searchAi === undefined
      ? undefined
      : createSearchIndexer({ repository: semanticRepository, model: deps.searchAi, logger: deps.logger });
  const semantic = createSemanticSearch({
    repository: semanticRepository,
    model: deps.searchAi,
    logger: deps.logger,
    // Who delivers to the point: the restaurant search's own rules (radius, city terms, zones,
    // areas), the 50 nearest.
    delivering: async ({ lat, lng }) =>
      (await search.search({ lat, lng, limit: 50 })).items.map((item) => item.id),
  });
  const menus = createMenuCache({ ttlMs: MENU_CACHE_TTL_MS, maxEntries: MENU_CACHE_MAX_ENTRIES });
  const orderCatalog = createOrderCatalogCache(repository, {
    ttlMs: ORDER_CATALOG_TTL_MS,
    maxRestaurants: MENU_CACHE_MAX_ENTRIES,
  });
  const dropLocal = (restaurantId: string) => {
    if (restaurantId === CITIES_CHANGED) {
      // Search pages depend on the cities' zones and rules (who delivers where).
      cityService.invalidate();
      return search.invalidate();
    }
    deliveryAreas.invalidate(restaurantId);
    menus.invalidate(restaurantId);
    orderCatalog.invalidate(restaurantId);
    search.invalidate();
  };
  const invalidation = connectCatalogInvalidation({
    redis: deps.redis,
    channel: `${deps.redisKeyPrefix ?? ''}catalog:changed`,
    logger: deps.logger,
    onRemoteChange: dropLocal,
  });
  // Every write that drops a cached menu also drops cached search pages (names, prices, status),
  // here and, through Redis, on every other instance.
  const menuCache: MenuCache = {
    ...menus,
    invalidate(restaurantId) {
      dropLocal(restaurantId);
      invalidation.publish(restaurantId);
      // The instance that wrote embeds the change (others' sweeps catch what this one misses).
      searchIndexer?.schedule(restaurantId);
    },
  };
  // A city or zone write drops this instance's directory and search pages at once and, through
  // Redis, the others'.
  const announced =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await write(...args);
      } finally {
        dropLocal(CITIES_CHANGED);
        invalidation.publish(CITIES_CHANGED);
      }
    };
  const cities: CityService = {
    ...cityService,
    create: announced(cityService.create),
    update: announced(cityService.update),
  };
  const zoneService = createZoneService(deps, cityService);
  const zones: ZoneService = {
    ...zoneService,
    create: announced(zoneService.create),
    update: announced(zoneService.update),
  };
  const deliveryAreas = createDeliveryAreas(deps, cityService, menuCache);
  let completedOrders: CompletedOrderLookup = noCompletedOrders;
  let menuPromotions: MenuPromotionSource | undefined;
  return {
    restaurants: createRestaurantService(deps, repository, menuCache, cities, deliveryAreas),
    cities,
    zones,
    deliveryAreas,
    menu: createMenuService(deps, repository, menuCache, () => menuPromotions),
    search,
    semantic,
    searchIndexer,
    reviews: createReviewService(deps, () => completedOrders),
    orders: createOrdersApi(deps, repository, menuCache, orderCatalog, cityService, deliveryAreas),
    ranking: createRankingItems(deps.db),
    community: createCommunityApi(deps.db),
    photos: createCatalogPhotos(deps, repository, menuCache),
    repository,
    menuCache,
    useCompletedOrderLookup(lookup) {
      completedOrders = lookup;
    },
    useMenuPromotions(source) {
      menuPromotions = source;
    },
    close: () => invalidation.close(),
  };
}

export const catalogContext = defineContext({
  name: 'catalog',
  needs: { identity: need<Pick<Identity, 'audit' | 'grantRole' | 'repository' | 'hasher'>>() },
  // Reviews ask whether an order was completed, only when a review is written.
  // Menu description drafts read a dish's recipe from inventory (built after the catalog).
  later: {
    orders: need<{ completedOrders: CompletedOrderLookup }>(),
    inventory: need<{ recipeIngredientNames(restaurantId: string, itemId: string): Promise<string[]> }>(),
  },
  tables: tablesOf<CatalogTables>(),
  async create({ runtime, db }, { identity }, later) {
    // Before anything reads a restaurant: encrypt contacts written before encryption.
    await encryptRestaurantContactsAtRest(db, fieldCipherOf(runtime.config));
    const config = runtime.config;
    const searchAi =
      config.GEMINI_API_KEY === undefined || config.GEMINI_API_KEY === ''
        ? undefined
        : budgetedSearchAi(
            createGeminiSearchAi({
              apiKey: config.GEMINI_API_KEY,
              baseUrl: config.GEMINI_BASE_URL,
              model: config.GEMINI_MODEL,
              embeddingModel: config.GEMINI_EMBEDDING_MODEL,
              timeoutMs: config.GEMINI_TIMEOUT_MS,
            }),
            createSearchAiBudget(db, config.SEARCH_AI_DAILY_CALL_BUDGET, () => new Date()),
          );
    const catalog = createCatalog({
      searchAi,
      db,
      fields: fieldCipherOf(runtime.config),
      logger: runtime.logger,
      audit: identity.audit,
      grantRole: async (userId, role, actor) => void (await identity.grantRole(userId, role, actor)),
      redis: runtime.redis,
      redisKeyPrefix: runtime.config.REDIS_KEY_PREFIX,
      zoneResolution: runtime.config.ZONE_H3_RESOLUTION,
    });
    catalog.useCompletedOrderLookup({
      findCompletedOrder: (orderId) => later.orders().completedOrders.findCompletedOrder(orderId),
    });
    runtime.closers.push({ name: 'catalog cache invalidation', close: () => catalog.close() });
    const descriptionDrafts = createDescriptionDrafts({
      db,
      repository: catalog.repository,
      audit: identity.audit,
      writeDescription: (caller, restaurantId, itemId, description) =>
        catalog.menu.updateItem(caller, restaurantId, itemId, { description }),
      recipeIngredients: (restaurantId, itemId) =>
        later.inventory().recipeIngredientNames(restaurantId, itemId),
      model: createGemini({ config: runtime.config, db: runtime.database.db }).model('menu_drafts'),
      logger: runtime.logger,
    });
    return {
      service: Object.assign(catalog, { descriptionDrafts }),
      routes(app) {
        registerCatalogRoutes(app, { catalog, runtime, db });
        registerSearchAiRoutes(app, catalog.semantic);
        registerDescriptionDraftRoutes(app, descriptionDrafts);
      },
      reactors:
        catalog.searchIndexer === undefined
          ? []
          : [
              {
                name: 'catalog search embeddings',
                start: catalog.searchIndexer.start,
                stop: catalog.searchIndexer.stop,
              },
            ],
      seed: { run: () => catalogSeedStep.run({ identity, runtime, db }) },
      personalData: catalogPersonalData({
        db,
        menuCache: catalog.menuCache,
        fields: fieldCipherOf(runtime.config),
      }),
    };
  },
});
