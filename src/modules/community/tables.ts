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

export interface CommunityTables {
  favourites: FavouritesTable;
  group_carts: GroupCartsTable;
  group_cart_members: GroupCartMembersTable;
  group_cart_shares: GroupCartSharesTable;
}

export type CommunityDb = Kysely<CommunityTables>;
