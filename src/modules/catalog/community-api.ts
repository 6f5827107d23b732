/**
 * What the community context reads of the catalog (issue #27): the public face of restaurants
 * and dishes by id, for favourites lists and shared links. Only what a guest may already see on a
 * public menu; nothing of an owner's contacts, costs or documents.
 */
import type { CatalogDb } from './tables.js';
import type { CatalogPhoto } from './model.js';

/** A list of favourites or a share page reads at most this many ids at once. */
export const MAX_PUBLIC_CARDS = 200;

export interface RestaurantCard {
  id: string;
  name: string;
  description: { fr: string | null; en: string | null };
  cuisines: string[];
  city: string;
  /** Only an active restaurant takes orders (and has a public page). */
  active: boolean;
  ratingAverage: number | null;
  ratingCount: number;
  logo: CatalogPhoto | null;
}

export interface DishCard {
  id: string;
  restaurantId: string;
  name: { fr: string; en: string | null };
  description: { fr: string | null; en: string | null };
  priceMinor: number;
  discountPriceMinor: number | null;
  photo: CatalogPhoto | null;
  /** On an active restaurant's menu (not archived), sold out or not. */
  listed: boolean;
  /** On the menu now: not archived, marked available, stock left (or not tracked), restaurant active. */
  orderable: boolean;
}

export interface CatalogCommunityApi {
  restaurantCards(ids: readonly string[]): Promise<RestaurantCard[]>;
  dishCards(ids: readonly string[]): Promise<DishCard[]>;
}

function bounded(ids: readonly string[]): string[] {
  if (ids.length > MAX_PUBLIC_CARDS) throw new Error(`at most ${MAX_PUBLIC_CARDS} cards at once`);
  return [...new Set(ids)];
}

export function createCommunityApi(db: CatalogDb): CatalogCommunityApi {
  return {
    async restaurantCards(ids) {
      const wanted = bounded(ids);
      if (wanted.length === 0) return [];
      const rows = await db
        .selectFrom('restaurants')
        .select([
          'id',
          'name',
          'description_fr',
          'description_en',
          'cuisines',
          'city',
          'status',
          'rating_average',
          'rating_count',
          'logo',
        ])
        .where('id', 'in', wanted)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        name: row.name,
        description: { fr: row.description_fr, en: row.description_en },
        cuisines: row.cuisines,
        city: row.city,
        active: row.status === 'active',
        ratingAverage: row.rating_count > 0 ? Number(row.rating_average) : null,
        ratingCount: row.rating_count,
        logo: (row.logo as CatalogPhoto | null) ?? null,
      }));
    },
    async dishCards(ids) {
      const wanted = bounded(ids);
      if (wanted.length === 0) return [];
      const rows = await db
        .selectFrom('menu_items as i')
        .innerJoin('restaurants as r', 'r.id', 'i.restaurant_id')
        .select([
          'i.id',
          'i.restaurant_id',
          'i.name_fr',
          'i.name_en',
          'i.description_fr',
          'i.description_en',
          'i.price',
          'i.discount_price',
          'i.photo',
          'i.is_available',
          'i.stock',
          'i.archived_at',
          'r.status',
        ])
        .where('i.id', 'in', wanted)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        restaurantId: row.restaurant_id,
        name: { fr: row.name_fr, en: row.name_en },
        description: { fr: row.description_fr, en: row.description_en },
        priceMinor: Number(row.price),
        discountPriceMinor: row.discount_price === null ? null : Number(row.discount_price),
        photo: (row.photo as CatalogPhoto | null) ?? null,
        listed: row.archived_at === null && row.status === 'active',
        orderable:
          row.archived_at === null &&
          row.is_available &&
          (row.stock === null || row.stock > 0) &&
          row.status === 'active',
      }));
    },
  };
}
