import type { Generated, Kysely } from 'kysely';

/**
 * The earning decision of one order, written at its first handling: the tier and multiplier in
 * force then, so a replayed event books the same transfer (the ledger answers `exists`).
 */
export interface LoyaltyAwardsTable {
  order_id: string;
  user_id: string;
  base_minor: bigint;
  tier: 'bronze' | 'silver' | 'gold';
  multiplier: string;
  points: bigint;
  source_event: string;
  created_at: Generated<Date>;
}

export interface LoyaltyReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

/** A coupon (docs/loyalty.md, "Coupons"): `uses` counts the reservations not released. */
export interface CouponsTable {
  id: string;
  code: string;
  funded_by: 'platform' | 'restaurant';
  restaurant_id: string | null;
  kind: 'percent' | 'fixed';
  percent: string | null;
  amount_minor: bigint | null;
  max_discount_minor: bigint | null;
  min_subtotal_minor: bigint;
  starts_at: Date;
  ends_at: Date;
  total_limit: number | null;
  per_customer_limit: number | null;
  uses: Generated<number>;
  created_by: string;
  created_at: Generated<Date>;
  disabled_at: Date | null;
  first_order_only: Generated<boolean>;
  item_ids: string[] | null;
  category_ids: string[] | null;
  city: string | null;
}

/** One coupon use per order: held at placement, used at delivery, released if the order fails. */
export interface CouponRedemptionsTable {
  order_id: string;
  coupon_id: string;
  customer_id: string;
  restaurant_id: string;
  discount_minor: bigint;
  subtotal_minor: bigint;
  total_minor: bigint;
  status: 'held' | 'used' | 'released';
  created_at: Generated<Date>;
  ended_at: Date | null;
}

/** A promotion without a code (docs/loyalty.md, "Promotions"). */
export interface PromotionsTable {
  id: string;
  name: string;
  funded_by: 'platform' | 'restaurant';
  restaurant_id: string | null;
  kind: 'percent' | 'fixed' | 'free_delivery' | 'buy_get' | 'combo';
  percent: string | null;
  amount_minor: bigint | null;
  max_discount_minor: bigint | null;
  min_subtotal_minor: bigint;
  starts_at: Date;
  ends_at: Date;
  /** Bit d (0 = Sunday … 6 = Saturday) set: the promotion runs that day, Cameroon time. */
  weekdays: number;
  start_minute: number;
  end_minute: number;
  created_by: string;
  created_at: Generated<Date>;
  disabled_at: Date | null;
  /** The items an item, "buy X get Y" or combo promotion is about (null: the whole food). */
  item_ids: string[] | null;
  buy_quantity: number | null;
  get_quantity: number | null;
  combo_price_minor: bigint | null;
}

/** An order that used one of its customer's tier free deliveries of a month (held, or released). */
export interface LoyaltyFreeDeliveriesTable {
  order_id: string;
  customer_id: string;
  /** `YYYY-MM`, Cameroon time. */
  period: string;
  tier: string;
  discount_minor: bigint;
  status: 'held' | 'released';
  created_at: Generated<Date>;
  released_at: Date | null;
}

/** A points hold that expired before its order was paid: the order took no points (for finance). */
export interface LoyaltyLapsedHoldsTable {
  order_id: string;
  customer_id: string;
  points: bigint;
  discount_minor: bigint;
  recorded_at: Generated<Date>;
}

/** A delivered order that had a promotion (for the campaign's figures). */
export interface PromotionOrdersTable {
  order_id: string;
  promotion_id: string;
  customer_id: string;
  discount_minor: bigint;
  subtotal_minor: bigint;
  total_minor: bigint;
  delivered_at: Date;
}

/** A customer's referral code (docs/loyalty.md, "Referrals"), made at its first reading. */
export interface ReferralCodesTable {
  user_id: string;
  code: string;
  created_at: Generated<Date>;
}

/**
 * One referral per referee: pending until the referee's first completed order, then the reward
 * decided once (kind and amounts; `referrer_reward` 0 when the referrer's monthly cap was reached),
 * or refused with its `reason`. The transfers are booked from this decision, idempotent by referee.
 */
export interface ReferralsTable {
  referee_id: string;
  referrer_id: string;
  status: 'pending' | 'rewarded' | 'refused';
  reason: string | null;
  order_id: string | null;
  reward_kind: 'points' | 'wallet' | null;
  referee_reward: bigint | null;
  referrer_reward: bigint | null;
  /** The UTC month (YYYY-MM) of the decision: the referrer's cap counts per month. */
  month: string | null;
  created_at: Generated<Date>;
  decided_at: Date | null;
}

export interface LoyaltyTables {
  referral_codes: ReferralCodesTable;
  referrals: ReferralsTable;
  promotions: PromotionsTable;
  promotion_orders: PromotionOrdersTable;
  loyalty_free_deliveries: LoyaltyFreeDeliveriesTable;
  loyalty_lapsed_holds: LoyaltyLapsedHoldsTable;
  loyalty_awards: LoyaltyAwardsTable;
  loyalty_reactor_checkpoints: LoyaltyReactorCheckpointsTable;
  coupons: CouponsTable;
  coupon_redemptions: CouponRedemptionsTable;
}

export type LoyaltyDb = Kysely<LoyaltyTables>;
