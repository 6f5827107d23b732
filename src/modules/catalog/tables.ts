import type { ColumnType, Generated, Kysely } from 'kysely';

/** Written by the repository as range literals; never read back into JavaScript. */
type RangeColumn = ColumnType<string, string | undefined, string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

export type RestaurantStatus = 'pending_verification' | 'active' | 'rejected' | 'suspended';

export interface RestaurantsTable {
  id: Generated<string>;
  owner_id: string;
  name: string;
  legal_name: string;
  tax_id: string;
  description_fr: string | null;
  description_en: string | null;
  documents: Json<unknown>;
  contact_phone: string | null;
  contact_email: string | null;
  cuisines: string[];
  /** The id of the restaurant's city (`cities.id`, e.g. `douala`). */
  city: string;
  address: string;
  latitude: number;
  longitude: number;
  delivery_radius_m: number;
  /** Zones of the restaurant's city it delivers to (issue #26); null: its radius alone. */
  delivery_zones: string[] | null;
  prep_time_minutes: number;
  opening_hours: Json<unknown>;
  closures: Json<unknown>;
  open_week_minutes: RangeColumn;
  closed_periods: RangeColumn;
  status: Generated<RestaurantStatus>;
  status_reason: string | null;
  status_changed_at: Date | null;
  status_changed_by: string | null;
  rating_sum: Generated<bigint>;
  rating_count: Generated<number>;
  rating_average: ColumnType<number, never, never>;
  price_average: Generated<number>;
  dish_text: Generated<string>;
  search_text: Generated<string>;
  search_vector: ColumnType<string, never, never>;
  menu_version: Generated<number>;
  /** The current logo and cover photos (`CatalogPhoto`), set through the files context. */
  logo: NullableJson<unknown>;
  cover: NullableJson<unknown>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface MenuCategoriesTable {
  id: Generated<string>;
  restaurant_id: string;
  name_fr: string;
  name_en: string | null;
  position: Generated<number>;
  schedule: NullableJson<unknown>;
  archived_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface MenuItemsTable {
  id: Generated<string>;
  restaurant_id: string;
  category_id: string;
  name_fr: string;
  name_en: string | null;
  description_fr: string | null;
  description_en: string | null;
  price: ColumnType<bigint, bigint | number, bigint | number>;
  discount_price: ColumnType<bigint | null, bigint | number | null, bigint | number | null>;
  cost_price: ColumnType<bigint | null, bigint | number | null, bigint | number | null>;
  images: string[];
  /** The current photo (`CatalogPhoto`), set through the files context. */
  photo: NullableJson<unknown>;
  allergens: string[];
  nutrition: NullableJson<unknown>;
  prep_time_minutes: number | null;
  schedule: NullableJson<unknown>;
  stock: number | null;
  is_available: Generated<boolean>;
  position: Generated<number>;
  search_text: Generated<string>;
  search_vector: ColumnType<string, never, never>;
  archived_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

/** A menu item's description draft (description-drafts.ts): one per item, published only once confirmed. */
export interface CatalogDescriptionDraftsTable {
  item_id: string;
  id: string;
  restaurant_id: string;
  description_fr: string;
  description_en: string;
  source: string;
  model: string | null;
  input_hash: string;
  created_by: string;
  created_at: ColumnType<Date, Date | string, Date | string>;
  confirmed_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  confirmed_by: string | null;
}

export interface MenuModifierGroupsTable {
  id: Generated<string>;
  restaurant_id: string;
  item_id: string;
  name_fr: string;
  name_en: string | null;
  min_selections: number;
  max_selections: number;
  options: Json<unknown>;
  position: Generated<number>;
  archived_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface RestaurantReviewsTable {
  id: Generated<string>;
  restaurant_id: string;
  order_id: string;
  customer_id: string;
  rating: number;
  comment: string | null;
  helpful_count: Generated<number>;
  reply: string | null;
  replied_at: Date | null;
  replied_by: string | null;
  created_at: Generated<Date>;
}

export interface ReviewHelpfulVotesTable {
  review_id: string;
  user_id: string;
  created_at: Generated<Date>;
}

export interface DriverRatingsTable {
  id: Generated<string>;
  driver_id: string;
  order_id: string;
  customer_id: string;
  rating: number;
  comment: string | null;
  created_at: Generated<Date>;
}

export interface DriverRatingSummariesTable {
  driver_id: string;
  rating_sum: ColumnType<bigint, bigint | number, bigint | number>;
  rating_count: number;
  updated_at: Timestamp;
}

export interface SearchLexiconTable {
  word: string;
}

/** The database as this context sees it: its own tables only. */
export type CatalogDb = Kysely<CatalogTables>;

/** A city the platform serves (issue #26); `restaurants.city` references its id. */
export interface CitiesTable {
  id: string;
  name_fr: string;
  name_en: string;
  country: Generated<string>;
  time_zone: Generated<string>;
  currency: Generated<string>;
  languages: Generated<string[]>;
  active: Generated<boolean>;
  center_latitude: number;
  center_longitude: number;
  south: number;
  west: number;
  north: number;
  east: number;
  rules: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

/** A zone within a city (issue #26): a polygon and its delivery rules. */
export interface CityZonesTable {
  city_id: string;
  id: string;
  name: string;
  polygon: ColumnType<{ latitude: number; longitude: number }[] | null, string | null, string | null>;
  /** The zone's H3 cells, compacted (migration 2026-12-07T0130). */
  cells: string[];
  h3_resolution: number;
  active: Generated<boolean>;
  delivers: Generated<boolean>;
  fee_adjustment_xaf: Generated<number>;
  surges: ColumnType<unknown[], string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

/** A restaurant's own delivery area as H3 cells (issue #26; migration 2026-12-07T0300). */
export interface RestaurantDeliveryAreasTable {
  restaurant_id: string;
  polygon: ColumnType<{ latitude: number; longitude: number }[] | null, string | null, string | null>;
  /** Compacted H3 cells cut at `h3_resolution`. */
  cells: string[];
  h3_resolution: number;
  updated_at: Timestamp;
}

/** One embedding per dish or restaurant (semantic search, issue #27; search-ai/indexer.ts). */
export interface CatalogSearchEmbeddingsTable {
  kind: 'item' | 'restaurant';
  id: string;
  restaurant_id: string;
  /** sha256 (hex) of the text embedded: unchanged text is never embedded again. */
  content_hash: string;
  model: string;
  embedding: number[];
  updated_at: Generated<Date>;
}

/** The catalog's Gemini calls per UTC day across instances (search-ai/budget.ts). */
export interface CatalogSearchAiCallsTable {
  day: ColumnType<Date, string, string>;
  calls: number;
}

export interface CatalogTables {
  catalog_search_embeddings: CatalogSearchEmbeddingsTable;
  catalog_search_ai_calls: CatalogSearchAiCallsTable;
  cities: CitiesTable;
  restaurant_delivery_areas: RestaurantDeliveryAreasTable;
  city_zones: CityZonesTable;
  search_lexicon: SearchLexiconTable;
  restaurants: RestaurantsTable;
  menu_categories: MenuCategoriesTable;
  menu_items: MenuItemsTable;
  catalog_description_drafts: CatalogDescriptionDraftsTable;
  menu_modifier_groups: MenuModifierGroupsTable;
  restaurant_reviews: RestaurantReviewsTable;
  review_helpful_votes: ReviewHelpfulVotesTable;
  driver_ratings: DriverRatingsTable;
  driver_rating_summaries: DriverRatingSummariesTable;
}
