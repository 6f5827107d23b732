/**
 * All of the catalog's SQL for restaurants and menus. Each method takes the executor to run on
 * (the pool's Kysely or a transaction), so a service can group writes with their audit line.
 */
import type { FieldCipher } from '../../platform/field-crypto.js';
import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import {
  categoryFromRow,
  itemFromRow,
  modifierGroupFromRow,
  restaurantFromRow,
  type CategoryRecord,
  type ItemRecord,
  type MenuRecord,
  type ModifierGroupRecord,
  type RestaurantRecord,
  type RestaurantStatus,
} from './model.js';
import type {
  CatalogTables,
  MenuCategoriesTable,
  MenuItemsTable,
  MenuModifierGroupsTable,
  RestaurantsTable,
} from './tables.js';

export type Executor = Kysely<CatalogTables>;

/** The purposes (AAD) restaurants' contact fields are encrypted under. */
export const CONTACT_PHONE = 'restaurants.contact_phone';
export const CONTACT_EMAIL = 'restaurants.contact_email';

export function createCatalogRepository(db: Executor, fields?: FieldCipher) {
  /** The contact phone and e-mail in clear (stored encrypted; fixtures, without a cipher, hold none). */
  const decodeContact = <Row extends { contact_phone: string | null; contact_email: string | null }>(
    row: Row,
  ): Row =>
    fields === undefined
      ? row
      : {
          ...row,
          contact_phone: fields.decrypt(CONTACT_PHONE, row.contact_phone),
          contact_email: fields.decrypt(CONTACT_EMAIL, row.contact_email),
        };
  return {
    db,

    async insertRestaurant(values: Insertable<RestaurantsTable>, executor: Executor = db): Promise<string> {
      const row = await executor
        .insertInto('restaurants')
        .values(values)
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async findRestaurant(
      id: string,
      executor: Executor = db,
      options: { forUpdate?: boolean } = {},
    ): Promise<RestaurantRecord | undefined> {
      const row = await executor
        .selectFrom('restaurants')
        .selectAll()
        .where('id', '=', id)
        .$if(options.forUpdate === true, (query) => query.forUpdate())
        .executeTakeFirst();
      return row === undefined ? undefined : restaurantFromRow(decodeContact(row));
    },

    async ownerOf(
      id: string,
      executor: Executor = db,
    ): Promise<{ ownerId: string; status: RestaurantStatus } | undefined> {
      const row = await executor
        .selectFrom('restaurants')
        .select(['owner_id', 'status'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : { ownerId: row.owner_id, status: row.status };
    },

    async menuVersion(id: string, executor: Executor = db): Promise<number | undefined> {
      const row = await executor
        .selectFrom('restaurants')
        .select('menu_version')
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.menu_version;
    },

    async updateRestaurant(
      id: string,
      values: Updateable<RestaurantsTable>,
      executor: Executor = db,
    ): Promise<void> {
      await executor
        .updateTable('restaurants')
        .set({ ...values, updated_at: sql`now()` })
        .where('id', '=', id)
        .execute();
    },

    async setStatus(
      id: string,
      change: { status: RestaurantStatus; reason: string | null; actorId: string },
      executor: Executor = db,
    ): Promise<void> {
      await executor
        .updateTable('restaurants')
        .set({
          status: change.status,
          status_reason: change.reason,
          status_changed_at: sql`now()`,
          status_changed_by: change.actorId,
          menu_version: sql`menu_version + 1`,
          updated_at: sql`now()`,
        })
        .where('id', '=', id)
        .execute();
    },

    /**
     * Recomputes what the restaurant is found by (its name, cuisines and every live dish), its
     * average price, and bumps the menu version that the ETag and the menu cache key on.
     */
    async refreshRestaurantDerived(
      id: string,
      cuisineText: string,
      executor: Executor = db,
    ): Promise<number> {
      const result = await sql<{ menu_version: number }>`
        UPDATE restaurants r SET
          dish_text = coalesce(d.dish_text, ''),
          price_average = coalesce(d.price_average, 0),
          search_text = catalog_normalize(r.name || ' ' || ${cuisineText} || ' ' || coalesce(d.dish_text, '')),
          search_vector =
            setweight(to_tsvector('simple', catalog_normalize(r.name)), 'A') ||
            setweight(to_tsvector('simple', catalog_normalize(${cuisineText})), 'B') ||
            setweight(to_tsvector('simple', catalog_normalize(coalesce(d.dish_text, ''))), 'C') ||
            setweight(to_tsvector('french', catalog_normalize(coalesce(d.dish_text, ''))), 'D') ||
            setweight(to_tsvector('english', catalog_normalize(coalesce(d.dish_text, ''))), 'D'),
          menu_version = r.menu_version + 1,
          updated_at = now()
        FROM (
          SELECT string_agg(DISTINCT i.name_fr || coalesce(' ' || i.name_en, ''), ' ') AS dish_text,
                 round(avg(coalesce(i.discount_price, i.price)))::int AS price_average
          FROM menu_items i
          WHERE i.restaurant_id = ${id} AND i.archived_at IS NULL
        ) d
        WHERE r.id = ${id}
        RETURNING r.menu_version`.execute(executor);
      // New words join the lexicon typos are corrected against; old ones stay (harmless).
      await sql`
        INSERT INTO search_lexicon (word)
        SELECT DISTINCT word FROM restaurants, regexp_split_to_table(search_text, '[^a-z0-9]+') AS word
        WHERE id = ${id} AND length(word) BETWEEN 2 AND 60
        ORDER BY word
        ON CONFLICT DO NOTHING`.execute(executor);
      return result.rows[0]?.menu_version ?? 0;
    },

    async bumpMenuVersion(ids: string[], executor: Executor = db): Promise<void> {
      if (ids.length === 0) return;
      await executor
        .updateTable('restaurants')
        .set({ menu_version: sql`menu_version + 1` })
        .where('id', 'in', ids)
        .execute();
    },

    /** Search columns of items; every write of a name runs this in the same transaction. */
    async refreshItemSearch(
      restaurantId: string,
      itemIds: string[] | 'all',
      executor: Executor = db,
    ): Promise<void> {
      const names = sql`catalog_normalize(name_fr || coalesce(' ' || name_en, ''))`;
      await sql`
        UPDATE menu_items SET
          search_text = ${names},
          search_vector = to_tsvector('simple', ${names}) || to_tsvector('french', ${names}) || to_tsvector('english', ${names})
        WHERE restaurant_id = ${restaurantId}
          ${itemIds === 'all' ? sql`` : sql`AND id = ANY(${itemIds}::uuid[])`}`.execute(executor);
    },

    async countMenuRows(
      restaurantId: string,
      executor: Executor = db,
    ): Promise<{ categories: number; items: number }> {
      const row = await executor
        .selectFrom('restaurants as r')
        .select((eb) => [
          eb
            .selectFrom('menu_categories')
            .select(eb.fn.countAll<string>().as('n'))
            .where('restaurant_id', '=', restaurantId)
            .where('archived_at', 'is', null)
            .as('categories'),
          eb
            .selectFrom('menu_items')
            .select(eb.fn.countAll<string>().as('n'))
            .where('restaurant_id', '=', restaurantId)
            .where('archived_at', 'is', null)
            .as('items'),
        ])
        .where('r.id', '=', restaurantId)
        .executeTakeFirst();
      return { categories: Number(row?.categories ?? 0), items: Number(row?.items ?? 0) };
    },

    async insertCategory(values: Insertable<MenuCategoriesTable>, executor: Executor = db): Promise<string> {
      const row = await executor
        .insertInto('menu_categories')
        .values(values)
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async findCategory(
      restaurantId: string,
      id: string,
      executor: Executor = db,
    ): Promise<CategoryRecord | undefined> {
      const row = await executor
        .selectFrom('menu_categories')
        .selectAll()
        .where('restaurant_id', '=', restaurantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : categoryFromRow(row);
    },

    async updateCategory(
      id: string,
      values: Updateable<MenuCategoriesTable>,
      executor: Executor = db,
    ): Promise<void> {
      await executor
        .updateTable('menu_categories')
        .set({ ...values, updated_at: sql`now()` })
        .where('id', '=', id)
        .execute();
    },

    async insertItem(values: Insertable<MenuItemsTable>, executor: Executor = db): Promise<string> {
      const row = await executor
        .insertInto('menu_items')
        .values(values)
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async findItem(
      restaurantId: string,
      id: string,
      executor: Executor = db,
    ): Promise<ItemRecord | undefined> {
      const row = await executor
        .selectFrom('menu_items')
        .selectAll()
        .where('restaurant_id', '=', restaurantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : itemFromRow(row);
    },

    async updateItem(id: string, values: Updateable<MenuItemsTable>, executor: Executor = db): Promise<void> {
      await executor
        .updateTable('menu_items')
        .set({ ...values, updated_at: sql`now()` })
        .where('id', '=', id)
        .execute();
    },

    async countModifierGroups(itemId: string, executor: Executor = db): Promise<number> {
      const row = await executor
        .selectFrom('menu_modifier_groups')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('item_id', '=', itemId)
        .where('archived_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async insertModifierGroup(
      values: Insertable<MenuModifierGroupsTable>,
      executor: Executor = db,
    ): Promise<string> {
      const row = await executor
        .insertInto('menu_modifier_groups')
        .values(values)
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async findModifierGroup(
      restaurantId: string,
      id: string,
      executor: Executor = db,
    ): Promise<ModifierGroupRecord | undefined> {
      const row = await executor
        .selectFrom('menu_modifier_groups')
        .selectAll()
        .where('restaurant_id', '=', restaurantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : modifierGroupFromRow(row);
    },

    async updateModifierGroup(
      id: string,
      values: Updateable<MenuModifierGroupsTable>,
      executor: Executor = db,
    ): Promise<void> {
      await executor
        .updateTable('menu_modifier_groups')
        .set({ ...values, updated_at: sql`now()` })
        .where('id', '=', id)
        .execute();
    },

    /** The whole menu (archived rows excluded), in display order. */
    async loadMenu(restaurantId: string, executor: Executor = db): Promise<MenuRecord | undefined> {
      const restaurant = await executor
        .selectFrom('restaurants')
        .selectAll()
        .where('id', '=', restaurantId)
        .executeTakeFirst();
      if (restaurant === undefined) return undefined;
      const [categories, items, groups] = await Promise.all([
        executor
          .selectFrom('menu_categories')
          .selectAll()
          .where('restaurant_id', '=', restaurantId)
          .where('archived_at', 'is', null)
          .orderBy('position')
          .orderBy('created_at')
          .execute(),
        executor
          .selectFrom('menu_items')
          .selectAll()
          .where('restaurant_id', '=', restaurantId)
          .where('archived_at', 'is', null)
          .orderBy('position')
          .orderBy('created_at')
          .execute(),
        executor
          .selectFrom('menu_modifier_groups')
          .selectAll()
          .where('restaurant_id', '=', restaurantId)
          .where('archived_at', 'is', null)
          .orderBy('position')
          .orderBy('created_at')
          .execute(),
      ]);
      return {
        restaurant: restaurantFromRow(decodeContact(restaurant)),
        categories: categories.map(categoryFromRow),
        items: items.map(itemFromRow),
        modifierGroups: groups.map(modifierGroupFromRow),
      };
    },

    /** Items and their groups for an order snapshot (archived ones included, so the caller can say why). */
    async loadItems(
      restaurantId: string,
      itemIds: string[],
      executor: Executor = db,
    ): Promise<{ items: ItemRecord[]; categories: CategoryRecord[]; modifierGroups: ModifierGroupRecord[] }> {
      if (itemIds.length === 0) return { items: [], categories: [], modifierGroups: [] };
      const items = await executor
        .selectFrom('menu_items')
        .selectAll()
        .where('restaurant_id', '=', restaurantId)
        .where('id', 'in', itemIds)
        .execute();
      const categoryIds = [...new Set(items.map((item) => item.category_id))];
      const [categories, groups] = await Promise.all([
        categoryIds.length === 0
          ? []
          : executor.selectFrom('menu_categories').selectAll().where('id', 'in', categoryIds).execute(),
        items.length === 0
          ? []
          : executor
              .selectFrom('menu_modifier_groups')
              .selectAll()
              .where(
                'item_id',
                'in',
                items.map((item) => item.id),
              )
              .where('archived_at', 'is', null)
              .orderBy('position')
              .execute(),
      ]);
      return {
        items: items.map(itemFromRow),
        categories: categories.map(categoryFromRow),
        modifierGroups: groups.map(modifierGroupFromRow),
      };
    },

    /**
     * Takes stock for every line or for none: one UPDATE guarded by `stock >= quantity`, and
     * the caller checks that every tracked line was updated (otherwise it rolls back).
     */
    async decrementStock(
      restaurantId: string,
      lines: { itemId: string; quantity: number }[],
      executor: Executor,
    ): Promise<{ itemId: string; stock: number | null }[]> {
      const ids = lines.map((line) => line.itemId);
      const quantities = lines.map((line) => line.quantity);
      const result = await sql<{ id: string; stock: number | null }>`
        UPDATE menu_items i SET stock = CASE WHEN i.stock IS NULL THEN NULL ELSE i.stock - l.quantity END, updated_at = now()
        FROM unnest(${ids}::uuid[], ${quantities}::int[]) AS l(item_id, quantity)
        WHERE i.id = l.item_id AND i.restaurant_id = ${restaurantId} AND (i.stock IS NULL OR i.stock >= l.quantity)
        RETURNING i.id, i.stock`.execute(executor);
      return result.rows.map((row) => ({ itemId: row.id, stock: row.stock }));
    },

    async restoreStock(
      restaurantId: string,
      lines: { itemId: string; quantity: number }[],
      executor: Executor = db,
    ): Promise<void> {
      const ids = lines.map((line) => line.itemId);
      const quantities = lines.map((line) => line.quantity);
      await sql`
        UPDATE menu_items i SET stock = i.stock + l.quantity, updated_at = now()
        FROM unnest(${ids}::uuid[], ${quantities}::int[]) AS l(item_id, quantity)
        WHERE i.id = l.item_id AND i.restaurant_id = ${restaurantId} AND i.stock IS NOT NULL`.execute(
        executor,
      );
    },
  };
}

export type CatalogRepository = ReturnType<typeof createCatalogRepository>;
