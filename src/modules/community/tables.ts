import type { Generated, Kysely } from 'kysely';

export type FavouriteKind = 'restaurant' | 'dish';

/** One favourite of a customer: a restaurant or a dish of the catalog, by id. */
export interface FavouritesTable {
  user_id: string;
  kind: FavouriteKind;
  target_id: string;
  created_at: Generated<Date>;
}

/** A customer's community profile: shown to others only when `public` (opt-in), by pseudonym. */
export interface CommunityProfilesTable {
  user_id: string;
  pseudonym: string;
  public: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** A completed order counted once for its customer's badges and monthly figures. */
export interface CommunityCountedOrdersTable {
  order_id: string;
  user_id: string;
  /** `YYYY-MM`, Cameroon time, of the completion. */
  month: string;
  /** The restaurant's city, normalised (trimmed, lower case). */
  city: string;
  counted_at: Generated<Date>;
}

export interface CommunityCuisinesTable {
  user_id: string;
  cuisine: string;
}

export interface CommunityMonthlyTable {
  user_id: string;
  month: string;
  city: string;
  orders: number;
}

export interface CommunityBadgesTable {
  user_id: string;
  badge: string;
  /** The order that earned it. */
  order_id: string;
  earned_at: Date;
}

export interface CommunityTables {
  favourites: FavouritesTable;
  community_profiles: CommunityProfilesTable;
  community_counted_orders: CommunityCountedOrdersTable;
  community_cuisines: CommunityCuisinesTable;
  community_monthly: CommunityMonthlyTable;
  community_badges: CommunityBadgesTable;
  community_reactor_checkpoints: { name: string; position: string; updated_at: Generated<Date> };
}

export type CommunityDb = Kysely<CommunityTables>;
