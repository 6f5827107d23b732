/**
 * What order placement reads from the catalog (the restaurant and the ordered items with their
 * categories and modifier groups), kept in memory per restaurant. Placement read four tables per
 * order; a busy restaurant's menu changes rarely.
 *
 * Coherence is the menu cache's: every catalog write drops the restaurant here at once, and on
 * every other instance through the Redis invalidation channel (catalog/index.ts); `ttlMs` bounds
 * staleness should a message be lost. A load that started before a write never stores its
 * result (a generation per restaurant). Stock is only a hint here: placement takes stock with
 * the row-locking decrement, which refuses what is no longer there.
 */
import { LRUCache } from 'lru-cache';
import type { CategoryRecord, ItemRecord, ModifierGroupRecord, RestaurantRecord } from './model.js';

export interface OrderCatalogEntry {
  restaurant: RestaurantRecord;
  items: Map<string, ItemRecord>;
  categories: Map<string, CategoryRecord>;
  /** Live modifier groups per item id. */
  groups: Map<string, ModifierGroupRecord[]>;
  /** Ids asked for and not found in this restaurant. */
  missing: Set<string>;
}

export interface LoadedItems {
  items: ItemRecord[];
  categories: CategoryRecord[];
  modifierGroups: ModifierGroupRecord[];
}

export interface OrderCatalogSource {
  findRestaurant(id: string): Promise<RestaurantRecord | undefined>;
  loadItems(restaurantId: string, itemIds: string[]): Promise<LoadedItems>;
}

export interface OrderCatalogCache {
  /** The restaurant and the asked items (others may be present); undefined for no such restaurant. */
  read(
    restaurantId: string,
    itemIds: readonly string[],
    nowMs?: number,
  ): Promise<OrderCatalogEntry | undefined>;
  invalidate(restaurantId: string): void;
  size(): number;
}

export function createOrderCatalogCache(
  source: OrderCatalogSource,
  options: { ttlMs: number; maxRestaurants: number; maxItemsPerRestaurant?: number },
): OrderCatalogCache {
  const maxItems = options.maxItemsPerRestaurant ?? 2_000;
  // The least recently read restaurant leaves first: busy restaurants stay.
  const entries = new LRUCache<string, OrderCatalogEntry & { expiresAtMs: number }>({
    max: options.maxRestaurants,
  });
  const generations = new Map<string, number>();
  const generationOf = (restaurantId: string) => generations.get(restaurantId) ?? 0;

  function merge(entry: OrderCatalogEntry, asked: readonly string[], loaded: LoadedItems): void {
    for (const category of loaded.categories) entry.categories.set(category.id, category);
    for (const item of loaded.items) {
      entry.items.set(item.id, item);
      entry.groups.set(item.id, []);
    }
    for (const group of loaded.modifierGroups) entry.groups.get(group.itemId)?.push(group);
    for (const id of asked) if (!entry.items.has(id)) entry.missing.add(id);
  }

  function store(restaurantId: string, entry: OrderCatalogEntry & { expiresAtMs: number }): void {
    entries.set(restaurantId, entry);
  }

  const loading = new Map<
    string,
    { generation: number; promise: Promise<(OrderCatalogEntry & { expiresAtMs: number }) | undefined> }
  >();

  async function loadFresh(
    restaurantId: string,
    itemIds: readonly string[],
    nowMs: number,
    generation: number,
  ) {
    const restaurant = await source.findRestaurant(restaurantId);
    if (restaurant === undefined) return undefined;
    const fresh = {
      restaurant,
      items: new Map<string, ItemRecord>(),
      categories: new Map<string, CategoryRecord>(),
      groups: new Map<string, ModifierGroupRecord[]>(),
      missing: new Set<string>(),
      expiresAtMs: nowMs + options.ttlMs,
    };
    merge(fresh, itemIds, await source.loadItems(restaurantId, [...new Set(itemIds)]));
    if (generationOf(restaurantId) === generation) store(restaurantId, fresh);
    return fresh;
  }

  return {
    async read(restaurantId, itemIds, nowMs = Date.now()) {
      const generation = generationOf(restaurantId);
      let entry = entries.get(restaurantId);
      if (entry !== undefined && entry.expiresAtMs <= nowMs) {
        entries.delete(restaurantId);
        entry = undefined;
      }
      if (entry === undefined) {
        // Concurrent misses of one restaurant (a busy one whose entry just expired) share one load.
        const pending = loading.get(restaurantId);
        if (pending !== undefined && pending.generation === generation) {
          const shared = await pending.promise;
          if (shared === undefined) return undefined;
          entry = shared;
        } else {
          const promise = loadFresh(restaurantId, itemIds, nowMs, generation);
          loading.set(restaurantId, { generation, promise });
          try {
            return await promise;
          } finally {
            if (loading.get(restaurantId)?.promise === promise) loading.delete(restaurantId);
          }
        }
      }
      const unknown = [...new Set(itemIds)].filter((id) => !entry.items.has(id) && !entry.missing.has(id));
      if (unknown.length === 0) return entry;
      const loaded = await source.loadItems(restaurantId, unknown);
      // Loaded into a copy: a concurrent reader never sees a half-merged entry, and a write that
      // came meanwhile drops the copy instead of mixing old and new rows.
      const copy = {
        ...entry,
        items: new Map(entry.items),
        categories: new Map(entry.categories),
        groups: new Map(entry.groups),
        missing: new Set(entry.missing),
      };
      merge(copy, unknown, loaded);
      const stillCurrent = generationOf(restaurantId) === generation && entries.get(restaurantId) === entry;
      if (stillCurrent && copy.items.size + copy.missing.size <= maxItems) store(restaurantId, copy);
      return copy;
    },

    invalidate(restaurantId) {
      generations.set(restaurantId, generationOf(restaurantId) + 1);
      entries.delete(restaurantId);
    },

    size: () => entries.size,
  };
}
