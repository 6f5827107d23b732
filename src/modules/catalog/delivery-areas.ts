/**
 * A restaurant's own delivery area as H3 cells (issue #26): set by its owner or an admin as cells
 * or as a polygon cut into cells at the zones' resolution, inside the restaurant's city, audited
 * in the same transaction; read from memory by the one place that answers whether a restaurant
 * delivers to a point (`restaurantTerms`): the profile, `orders.checkDelivery`, placement and its
 * quote. Search applies the same cells in its SQL. docs/catalog.md, "A restaurant's own area".
 */
import type { Transaction } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { CityService } from './cities.js';
import type { Caller, CatalogDependencies } from './context.js';
import { catalogErrors } from './errors.js';
import type { MenuCache } from './menu-cache.js';
import { pathProblemsFr } from './rules/problems-fr.js';
import {
  areaCells,
  areaProblems,
  cellCount,
  DEFAULT_ZONE_H3_RESOLUTION,
  pointInCells,
  type DeliveryTerms,
  type ZonePoint,
} from './rules/zones.js';
import type { CatalogTables } from './tables.js';

/** How long an area stays in memory (a write drops it at once here and, through Redis, elsewhere). */
export const DELIVERY_AREA_TTL_MS = 60_000;
const MAX_CACHED_AREAS = 2_000;

export interface DeliveryAreaInput {
  polygon?: ZonePoint[] | undefined;
  cells?: string[] | undefined;
}

export interface DeliveryArea {
  restaurantId: string;
  cityId: string;
  /** The outline it was drawn as; absent when given as cells. */
  polygon?: ZonePoint[];
  /** Compacted H3 cells. */
  cells: string[];
  resolution: number;
  /** How many cells of `resolution` the area covers. */
  cellCount: number;
  updatedAt: string;
}

/** Why a restaurant's own choices keep it from a point its city serves. */
export type RestaurantRefusal = 'outside_restaurant_zones' | 'outside_restaurant_area';

/** The city's terms at a point, with the restaurant's own area and zones applied. */
export type RestaurantTerms = DeliveryTerms & { restaurantRefusal?: RestaurantRefusal };

function invalid(problems: { path: string; message: string }[]) {
  return catalogErrors.of(
    'validation',
    'invalid_delivery_area',
    problems.map((p) => `${p.path}: ${p.message}`).join('; '),
    {
      details: { errors: problems },
      detailFr: pathProblemsFr(problems)
        .map((p) => `${p.path} : ${p.message}`)
        .join(' ; '),
      detailsFr: { errors: pathProblemsFr(problems) },
    },
  );
}

export function createDeliveryAreas(
  deps: Pick<CatalogDependencies, 'db' | 'audit' | 'zoneResolution'>,
  cities: Pick<CityService, 'get' | 'deliveryTerms'>,
  menuCache: Pick<MenuCache, 'invalidate'>,
) {
  const resolution = deps.zoneResolution ?? DEFAULT_ZONE_H3_RESOLUTION;
  // null: the restaurant has no area of its own. A generation per restaurant keeps a load that
  // started before a write from being stored after it.
  const cache = new LRUCache<string, { cells: ReadonlySet<string> } | 'none'>({
    max: MAX_CACHED_AREAS,
    ttl: DELIVERY_AREA_TTL_MS,
  });
  const generations = new Map<string, number>();

  /** The restaurant's owner and city, once the caller may change it; locked for a write. */
  async function lockRestaurant(
    transaction: Transaction<CatalogTables>,
    caller: Caller,
    restaurantId: string,
    lock = true,
  ) {
    const row = await transaction
      .selectFrom('restaurants')
      .select(['owner_id', 'city'])
      .where('id', '=', restaurantId)
      .$if(lock, (query) => query.forUpdate())
      .executeTakeFirst();
    if (row === undefined) throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
    if (!caller.isAdmin && row.owner_id !== caller.userId)
      throw catalogErrors.of(
        'forbidden',
        'not_restaurant_owner',
        'Only the owner of this restaurant or an admin may change it.',
      );
    return { ownerId: row.owner_id, cityId: row.city };
  }

  function viewOf(
    restaurantId: string,
    cityId: string,
    row: { polygon: ZonePoint[] | null; cells: string[]; h3_resolution: number; updated_at: Date },
  ): DeliveryArea {
    return {
      restaurantId,
      cityId,
      ...(row.polygon === null ? {} : { polygon: row.polygon }),
      cells: row.cells,
      resolution: row.h3_resolution,
      cellCount: cellCount(row.cells, row.h3_resolution),
      updatedAt: row.updated_at.toISOString(),
    };
  }

  async function readRow(
    executor: CatalogDependencies['db'] | Transaction<CatalogTables>,
    restaurantId: string,
  ) {
    return executor
      .selectFrom('restaurant_delivery_areas')
      .select(['polygon', 'cells', 'h3_resolution', 'updated_at'])
      .where('restaurant_id', '=', restaurantId)
      .executeTakeFirst();
  }

  function dropped(restaurantId: string) {
    generations.set(restaurantId, (generations.get(restaurantId) ?? 0) + 1);
    if (generations.size > MAX_CACHED_AREAS * 4) generations.clear();
    cache.delete(restaurantId);
  }

  /** The restaurant's cells from memory (loaded once per TTL); null: no area of its own. */
  async function cellsOf(restaurantId: string): Promise<ReadonlySet<string> | null> {
    const cached = cache.get(restaurantId);
    if (cached !== undefined) return cached === 'none' ? null : cached.cells;
    const generation = generations.get(restaurantId) ?? 0;
    const row = await deps.db
      .selectFrom('restaurant_delivery_areas')
      .select('cells')
      .where('restaurant_id', '=', restaurantId)
      .executeTakeFirst();
    const entry = row === undefined ? ('none' as const) : { cells: new Set(row.cells) };
    if ((generations.get(restaurantId) ?? 0) === generation) cache.set(restaurantId, entry);
    return entry === 'none' ? null : entry.cells;
  }

  return {
    resolution,
    /** Drops a restaurant's cached area (any write to it, here or announced by another instance). */
    invalidate: dropped,
    cellsOf,

    /**
     * The one place that answers whether a restaurant delivers to a point as far as the city's
     * and its own rules go: the city's terms, then its named zones, then its own cells.
     */
    async restaurantTerms(
      restaurant: { id: string; city: string; deliveryZones: readonly string[] | null },
      point: ZonePoint,
      at: Date,
    ): Promise<RestaurantTerms | undefined> {
      const terms = await cities.deliveryTerms(restaurant.city, point, at);
      if (terms === undefined) return undefined;
      const zones = restaurant.deliveryZones;
      if (zones !== null && (terms.zoneId === null || !zones.includes(terms.zoneId)))
        return { ...terms, restaurantRefusal: 'outside_restaurant_zones' };
      const cells = await cellsOf(restaurant.id);
      if (cells !== null && !pointInCells(point, cells))
        return { ...terms, restaurantRefusal: 'outside_restaurant_area' };
      return terms;
    },

    async get(caller: Caller, restaurantId: string): Promise<DeliveryArea> {
      return deps.db.transaction().execute(async (transaction) => {
        const { cityId } = await lockRestaurant(transaction, caller, restaurantId, false);
        const row = await readRow(transaction, restaurantId);
        if (row === undefined)
          throw catalogErrors.of(
            'not_found',
            'delivery_area_not_set',
            'This restaurant has no delivery area of its own; it delivers within its radius.',
          );
        return viewOf(restaurantId, cityId, row);
      });
    },

    /** Replaces the area whole (a retry with the same body leaves the same area and no new audit line). */
    async set(caller: Caller, restaurantId: string, input: DeliveryAreaInput): Promise<DeliveryArea> {
      try {
        return await deps.db.transaction().execute(async (transaction) => {
          const { cityId, ownerId } = await lockRestaurant(transaction, caller, restaurantId);
          const city = await cities.get(cityId);
          // The restaurant's city is a foreign key: a missing city is a broken invariant.
          if (city === undefined) throw new Error(`restaurant ${restaurantId} names an unknown city`);
          const given = { polygon: input.polygon ?? null, cells: input.cells ?? null };
          const problems = areaProblems(given, city.bounds, resolution);
          if (problems.length > 0) throw invalid(problems);
          const cells = areaCells(given, resolution).sort();
          // Given as cells, the cells decide and no outline is kept (it would not draw them).
          const polygon = given.cells === null ? given.polygon : null;
          const before = await readRow(transaction, restaurantId);
          const unchanged =
            before !== undefined &&
            before.h3_resolution === resolution &&
            JSON.stringify(before.cells) === JSON.stringify(cells) &&
            JSON.stringify(before.polygon) === JSON.stringify(polygon);
          if (unchanged) return viewOf(restaurantId, cityId, before);
          const row = await transaction
            .insertInto('restaurant_delivery_areas')
            .values({
              restaurant_id: restaurantId,
              polygon: polygon === null ? null : JSON.stringify(polygon),
              cells,
              h3_resolution: resolution,
              updated_at: new Date(),
            })
            .onConflict((conflict) =>
              conflict.column('restaurant_id').doUpdateSet((eb) => ({
                polygon: eb.ref('excluded.polygon'),
                cells: eb.ref('excluded.cells'),
                h3_resolution: eb.ref('excluded.h3_resolution'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .returning(['polygon', 'cells', 'h3_resolution', 'updated_at'])
            .executeTakeFirstOrThrow();
          const area = viewOf(restaurantId, cityId, row);
          await deps.audit(
            {
              action: 'restaurant.delivery_area_set',
              actor: caller.actor,
              subjectUserId: ownerId,
              resource: `restaurant:${restaurantId}`,
              oldValue: before === undefined ? null : viewOf(restaurantId, cityId, before),
              newValue: area,
            },
            transaction,
          );
          return area;
        });
      } finally {
        dropped(restaurantId);
        menuCache.invalidate(restaurantId);
      }
    },

    /** Back to the radius and named zones alone; nothing to remove is not an error (a retried DELETE). */
    async clear(caller: Caller, restaurantId: string): Promise<void> {
      try {
        await deps.db.transaction().execute(async (transaction) => {
          const { cityId, ownerId } = await lockRestaurant(transaction, caller, restaurantId);
          const before = await readRow(transaction, restaurantId);
          if (before === undefined) return;
          await transaction
            .deleteFrom('restaurant_delivery_areas')
            .where('restaurant_id', '=', restaurantId)
            .execute();
          await deps.audit(
            {
              action: 'restaurant.delivery_area_cleared',
              actor: caller.actor,
              subjectUserId: ownerId,
              resource: `restaurant:${restaurantId}`,
              oldValue: viewOf(restaurantId, cityId, before),
              newValue: null,
            },
            transaction,
          );
        });
      } finally {
        dropped(restaurantId);
        menuCache.invalidate(restaurantId);
      }
    },
  };
}

export type DeliveryAreas = ReturnType<typeof createDeliveryAreas>;
