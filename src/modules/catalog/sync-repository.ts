import { sql } from 'kysely';
import { scheduleFlipped, type MenuChanges } from './menu-sync.js';
import type { AvailabilityWindow } from './rules/hours.js';
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
     * kind has more than MAX_CHANGED_ROWS changes (the caller sends the whole menu instead). An
     * item whose own schedule, or its category's, opened or closed between `since` and `now`
     * counts as changed (its `orderable` flipped).
     */
    async changesSince(restaurantId: string, since: Date, now: Date): Promise<MenuChanges | undefined> {
      const [items, groups, categories, scheduled] = await Promise.all([
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
        // Items shown with a schedule of their own or of their category: one that opened or
        // closed since the cursor changed `orderable` without its row changing.
        db
          .selectFrom('menu_items')
          .innerJoin('menu_categories', 'menu_categories.id', 'menu_items.category_id')
          .select(['menu_items.id', 'menu_items.schedule', 'menu_categories.schedule as category_schedule'])
          .where('menu_items.restaurant_id', '=', restaurantId)
          .where('menu_items.archived_at', 'is', null)
          .where('menu_categories.archived_at', 'is', null)
          .where((where) =>
            where.or([
              where('menu_items.schedule', 'is not', null),
              where('menu_categories.schedule', 'is not', null),
            ]),
          )
          .limit(MAX_CHANGED_ROWS + 1)
          .execute(),
      ]);
      if ([items, groups, categories, scheduled].some((rows) => rows.length > MAX_CHANGED_ROWS))
        return undefined;
      const flipped = scheduled
        .filter(
          (row) =>
            scheduleFlipped(row.schedule as AvailabilityWindow[] | null, since, now) ||
            scheduleFlipped(row.category_schedule as AvailabilityWindow[] | null, since, now),
        )
        .map((row) => row.id);
      return {
        itemIds: new Set([...items.map((row) => row.id), ...groups.map((row) => row.item_id), ...flipped]),
        categoryIds: new Set(categories.map((row) => row.id)),
      };
    },
  };
}
