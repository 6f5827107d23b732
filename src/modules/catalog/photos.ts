/**
 * Photos of restaurants and menu items (issue #18). The files context stores and re-encodes the
 * bytes; the catalog keeps the current photo's renditions on its own rows, so the menu and the
 * profile render them without asking files, and the menu's version (its ETag and cache key)
 * moves with every change. What files asks of the catalog, and nothing more.
 */
import { sql } from 'kysely';
import type { Actor, CatalogDependencies } from './context.js';
import type { MenuCache } from './menu-cache.js';
import type { CatalogPhoto } from './model.js';
import type { CatalogRepository } from './repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CatalogPhotos {
  /** The owner of the restaurant, or undefined when there is no such restaurant. */
  restaurantOwnerId(restaurantId: string): Promise<string | undefined>;
  /** Whether the item exists, is not archived, and belongs to the restaurant. */
  itemBelongsTo(restaurantId: string, itemId: string): Promise<boolean>;
  /** Sets the logo or cover; answers the file id of the photo it replaces (to be deleted). */
  setRestaurantImage(
    restaurantId: string,
    slot: 'logo' | 'cover',
    photo: CatalogPhoto,
    actor: Actor,
  ): Promise<{ previousFileId: string | null }>;
  /** Sets an item's photo; answers the file id of the photo it replaces (to be deleted). */
  setItemPhoto(
    restaurantId: string,
    itemId: string,
    photo: CatalogPhoto,
    actor: Actor,
  ): Promise<{ previousFileId: string | null }>;
}

function fileIdOf(value: unknown): string | null {
  return value !== null && typeof value === 'object' && 'fileId' in value ? String(value.fileId) : null;
}

export function createCatalogPhotos(
  deps: CatalogDependencies,
  repository: CatalogRepository,
  menuCache: MenuCache,
): CatalogPhotos {
  const { db } = deps;
  return {
    async restaurantOwnerId(restaurantId) {
      if (!UUID.test(restaurantId)) return undefined;
      return (await repository.ownerOf(restaurantId))?.ownerId;
    },

    async itemBelongsTo(restaurantId, itemId) {
      if (!UUID.test(restaurantId) || !UUID.test(itemId)) return false;
      const row = await db
        .selectFrom('menu_items')
        .select('id')
        .where('id', '=', itemId)
        .where('restaurant_id', '=', restaurantId)
        .where('archived_at', 'is', null)
        .executeTakeFirst();
      return row !== undefined;
    },

    async setRestaurantImage(restaurantId, slot, photo, actor) {
      const previous = await db.transaction().execute(async (transaction) => {
        const row = await transaction
          .selectFrom('restaurants')
          .select(['logo', 'cover', 'owner_id'])
          .where('id', '=', restaurantId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        await transaction
          .updateTable('restaurants')
          .set({
            [slot]: JSON.stringify(photo),
            menu_version: sql`menu_version + 1`,
            updated_at: sql`now()`,
          })
          .where('id', '=', restaurantId)
          .execute();
        const previousFileId = fileIdOf(row[slot]);
        await deps.audit(
          {
            action: `restaurant.${slot}_set`,
            actor,
            subjectUserId: row.owner_id,
            resource: `restaurant:${restaurantId}`,
            oldValue: { fileId: previousFileId },
            newValue: { fileId: photo.fileId },
          },
          transaction,
        );
        return previousFileId;
      });
      menuCache.invalidate(restaurantId);
      return { previousFileId: previous };
    },

    async setItemPhoto(restaurantId, itemId, photo, actor) {
      const previous = await db.transaction().execute(async (transaction) => {
        const row = await transaction
          .selectFrom('menu_items')
          .select('photo')
          .where('id', '=', itemId)
          .where('restaurant_id', '=', restaurantId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        await transaction
          .updateTable('menu_items')
          .set({ photo: JSON.stringify(photo), updated_at: sql`now()` })
          .where('id', '=', itemId)
          .execute();
        await repository.bumpMenuVersion([restaurantId], transaction);
        const previousFileId = fileIdOf(row.photo);
        await deps.audit(
          {
            action: 'menu.item_photo_set',
            actor,
            resource: `menu_item:${itemId}`,
            oldValue: { fileId: previousFileId },
            newValue: { fileId: photo.fileId, restaurantId },
          },
          transaction,
        );
        return previousFileId;
      });
      menuCache.invalidate(restaurantId);
      return { previousFileId: previous };
    },
  };
}
