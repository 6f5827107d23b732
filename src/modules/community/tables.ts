import type { Generated, Kysely } from 'kysely';

export type FavouriteKind = 'restaurant' | 'dish';

/** One favourite of a customer: a restaurant or a dish of the catalog, by id. */
export interface FavouritesTable {
  user_id: string;
  kind: FavouriteKind;
  target_id: string;
  created_at: Generated<Date>;
}

export interface CommunityTables {
  favourites: FavouritesTable;
}

export type CommunityDb = Kysely<CommunityTables>;
