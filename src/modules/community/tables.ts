import type { Generated, Kysely } from 'kysely';

export type FavouriteKind = 'restaurant' | 'dish';

/** One favourite of a customer: a restaurant or a dish of the catalog, by id. */
export interface FavouritesTable {
  user_id: string;
  kind: FavouriteKind;
  target_id: string;
  created_at: Generated<Date>;
}

export type GroupCartStatus = 'open' | 'locked' | 'placing' | 'placed' | 'abandoned' | 'expired' | 'failed';
export type GroupPaymentMode = 'host' | 'split';
export type GroupShareKind = 'share' | 'cover';
export type GroupShareStatus = 'due' | 'collecting' | 'paying' | 'paid' | 'waived' | 'refunded';

/** A member's own lines, as orders' cart normalises them. */
export interface GroupLine {
  itemId: string;
  quantity: number;
  optionIds: string[];
}

/** A host's shared cart (docs/community.md, "Group orders"); `order_id` is chosen at opening. */
export interface GroupCartsTable {
  id: string;
  code: string;
  host_id: string;
  restaurant_id: string;
  status: Generated<GroupCartStatus>;
  payment_mode: GroupPaymentMode | null;
  delivery: { latitude: number; longitude: number; text: string } | null;
  tip_minor: Generated<bigint>;
  total_minor: bigint | null;
  order_id: string;
  released: Generated<boolean>;
  failure: string | null;
  expires_at: Date;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Held by the one caller placing the order (migration 2026-12-07T0410); null or past: free. */
  placement_claimed_until: Date | null;
}

export interface GroupCartMembersTable {
  cart_id: string;
  user_id: string;
  lines: GroupLine[];
  joined_at: Generated<Date>;
}

/** What one payer owes towards the cart: their share, or the rest the host covers. */
export interface GroupCartSharesTable {
  cart_id: string;
  payer_id: string;
  kind: GroupShareKind;
  amount_minor: bigint;
  status: Generated<GroupShareStatus>;
  payment_id: string | null;
  paid_at: Date | null;
  refunded_at: Date | null;
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

export type BulkOrderStatus =
  | 'paying'
  | 'awaiting_deposit'
  | 'requested'
  | 'proposed'
  | 'confirmed'
  | 'placing'
  | 'placed'
  | 'cancelled'
  | 'refused'
  | 'expired'
  | 'failed';
export type BulkBalanceState = 'due' | 'paying' | 'collecting' | 'paid';
/** Where a request's deposit stands: `paid` for every wallet request; Mobile Money ones start `due`. */
export type BulkDepositState = 'due' | 'collecting' | 'paid';

/** A bulk order (docs/community.md, "Bulk orders"); its id and `order_id` are chosen at the request. */
export interface BulkOrdersTable {
  id: string;
  customer_id: string;
  restaurant_id: string;
  lines: GroupLine[];
  delivery: { latitude: number; longitude: number; text: string };
  note: string | null;
  scheduled_for: Date;
  status: Generated<BulkOrderStatus>;
  total_minor: bigint;
  deposit_minor: bigint;
  balance_minor: bigint;
  balance_state: Generated<BulkBalanceState>;
  respond_by: Date;
  proposed_for: Date | null;
  proposal_note: string | null;
  released: Generated<boolean>;
  /** Set when the request ends: how much of the deposit goes back (the rest is the restaurant's). */
  deposit_refund_minor: bigint | null;
  refunds_done: Generated<boolean>;
  order_id: string;
  failure: string | null;
  deposit_state: Generated<BulkDepositState>;
  /** The Mobile Money collection of the deposit (or balance) in flight or last landed. */
  deposit_payment_id: Generated<string | null>;
  balance_payment_id: Generated<string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Held by the one caller placing the order (migration 2026-12-07T0410); null or past: free. */
  placement_claimed_until: Date | null;
}

/** A restaurant's published recipe (docs/community.md "Recipes"); not inventory's recipes. */
export interface SharedRecipesTable {
  id: string;
  restaurant_id: string;
  title: string;
  intro: string;
  ingredients: string[];
  steps: string[];
  prep_minutes: number;
  cook_minutes: number;
  servings: number;
  language: 'fr' | 'en';
  published: Generated<boolean>;
  /** Hidden by support staff (moderation): gone from public reads. */
  hidden: Generated<boolean>;
  /** Kept with the ratings under the recipe row's lock: the average is sum / count. */
  rating_sum: Generated<bigint>;
  rating_count: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SharedRecipeDishesTable {
  recipe_id: string;
  dish_id: string;
}

export interface SharedRecipeCommentsTable {
  id: string;
  recipe_id: string;
  author_id: string;
  body: string;
  hidden: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface SharedRecipeRatingsTable {
  recipe_id: string;
  user_id: string;
  rating: number;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type ReportedKind = 'recipe' | 'comment';

export interface SharedRecipeReportsTable {
  id: string;
  item_kind: ReportedKind;
  item_id: string;
  recipe_id: string;
  /** NULL once the reporter was erased. */
  reporter_id: string | null;
  reason: string;
  created_at: Generated<Date>;
  resolved_at: Date | null;
  resolution: 'hidden' | 'restored' | null;
}

/** One decision per Mobile Money collection that landed in a bulk order's escrow. */
export interface BulkOrderCollectionsTable {
  payment_id: string;
  bulk_order_id: string;
  part: 'deposit' | 'balance';
  amount_minor: bigint;
  outcome: 'kept' | 'returned';
  decided_at: Generated<Date>;
}

export interface CommunityTables {
  shared_recipes: SharedRecipesTable;
  shared_recipe_dishes: SharedRecipeDishesTable;
  shared_recipe_comments: SharedRecipeCommentsTable;
  shared_recipe_ratings: SharedRecipeRatingsTable;
  shared_recipe_reports: SharedRecipeReportsTable;
  bulk_orders: BulkOrdersTable;
  bulk_order_collections: BulkOrderCollectionsTable;
  favourites: FavouritesTable;
  community_profiles: CommunityProfilesTable;
  community_counted_orders: CommunityCountedOrdersTable;
  community_cuisines: CommunityCuisinesTable;
  community_monthly: CommunityMonthlyTable;
  community_badges: CommunityBadgesTable;
  community_reactor_checkpoints: { name: string; position: string; updated_at: Generated<Date> };
  group_carts: GroupCartsTable;
  group_cart_members: GroupCartMembersTable;
  group_cart_shares: GroupCartSharesTable;
}

export type CommunityDb = Kysely<CommunityTables>;
