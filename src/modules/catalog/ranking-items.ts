import type { CatalogDb } from './tables.js';

/**
 * What the recommendations ranker reads of the catalog: every orderable dish of the active
 * restaurants (not archived, available, in stock), with its category, price, the restaurant's
 * cuisines and place. Bounded: `limit` rows at most, the highest-rated restaurants first.
 */
export interface RankingItem {
  itemId: string;
  restaurantId: string;
  restaurantName: string;
  city: string;
  nameFr: string;
  nameEn: string | null;
  categoryFr: string;
  categoryEn: string | null;
  priceMinor: number;
  cuisines: string[];
  latitude: number;
  longitude: number;
}

export interface CatalogRankingApi {
  rankingItems(limit: number): Promise<RankingItem[]>;
}

export function createRankingItems(db: CatalogDb): CatalogRankingApi {
  return {
    async rankingItems(limit) {
      const rows = await db
        .selectFrom('menu_items as i')
        .innerJoin('menu_categories as c', 'c.id', 'i.category_id')
        .innerJoin('restaurants as r', 'r.id', 'i.restaurant_id')
        .select([
          'i.id as item_id',
          'r.id as restaurant_id',
          'r.name as restaurant_name',
          'r.city',
          'i.name_fr',
          'i.name_en',
          'c.name_fr as category_fr',
          'c.name_en as category_en',
          'i.price',
          'i.discount_price',
          'r.cuisines',
          'r.latitude',
          'r.longitude',
        ])
        .where('r.status', '=', 'active')
        .where('i.archived_at', 'is', null)
        .where('c.archived_at', 'is', null)
        .where('i.is_available', '=', true)
        .where((eb) => eb.or([eb('i.stock', 'is', null), eb('i.stock', '>', 0)]))
        .orderBy('r.rating_count', 'desc')
        .orderBy('r.id')
        .orderBy('i.position')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        itemId: row.item_id,
        restaurantId: row.restaurant_id,
        restaurantName: row.restaurant_name,
        city: row.city,
        nameFr: row.name_fr,
        nameEn: row.name_en,
        categoryFr: row.category_fr,
        categoryEn: row.category_en,
        priceMinor: Number(row.discount_price ?? row.price),
        cuisines: row.cuisines,
        latitude: Number(row.latitude),
        longitude: Number(row.longitude),
      }));
    },
  };
}
