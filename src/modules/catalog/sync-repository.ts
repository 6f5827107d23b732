import { sql } from 'kysely';
import type { MenuChanges } from './menu-sync.js';
import type { CatalogDb } from './tables.js';

/** At most this many changed rows of one kind per delta; more means a reset is cheaper anyway. */
export const MAX_CHANGED_ROWS = 2_000;

/** The queries of menu delta sync (docs/catalog.md "Delta sync"). */
export function createSyncRepository(db: CatalogDb) {
  return {
    /** The database's clock, read before the changes so that nothing changed after it is missed. */
    async clock(): Promise<Date> {
      const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(db);
      return rows[0]!.now;
    },

    /**
     * The ids of a restaurant's items and categories whose rows changed after `since` (archived
     * ones included); an item whose modifier groups changed counts as changed. Undefined when a
     * kind has more than MAX_CHANGED_ROWS changes (the caller sends the whole menu instead).
     */
    async changesSince(restaurantId: string, since: Date): Promise<MenuChanges | undefined> {
      const [items, groups, categories] = await Promise.all([
        db
          .selectFrom('menu_items')
          .select('id')
          .where('restaurant_id', '=', restaurantId)
          .where('updated_at', '>', since)
          .limit(MAX_CHANGED_ROWS + 1)
          .execute(),
        db
          .selectFrom('menu_modifier_groups')
          .select('item_id')
          .where('restaurant_id', '=', restaurantId)
          .where('updated_at', '>', since)
          .limit(MAX_CHANGED_ROWS + 1)
          .execute(),
        db
          .selectFrom('menu_categories')
          .select('id')
          .where('restaurant_id', '=', restaurantId)
          .where('updated_at', '>', since)
          .limit(MAX_CHANGED_ROWS + 1)
          .execute(),
      ]);
      if ([items, groups, categories].some((rows) => rows.length > MAX_CHANGED_ROWS)) return undefined;
      return {
        itemIds: new Set([...items.map((row) => row.id), ...groups.map((row) => row.item_id)]),
        categoryIds: new Set(categories.map((row) => row.id)),
      };
    },
  };
}
