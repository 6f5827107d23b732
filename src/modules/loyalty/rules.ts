/**
 * Loyalty rules (pure): what an order earns, the tiers, and the history's kinds. I/O is in
 * service.ts and repository.ts; the ledger holds every point (docs/loyalty.md).
 */
import { Decimal } from 'decimal.js';
import { loyaltyPointsEarned } from '../../../ledger/rules/index.js';

export const TIERS = ['bronze', 'silver', 'gold'] as const;
export type Tier = (typeof TIERS)[number];

export interface TierRules {
  silverPoints: bigint;
  goldPoints: bigint;
  /** Decimal strings (config), e.g. '1.25'. */
  multipliers: Readonly<Record<Tier, string>>;
}

/** The pricing fields of an order that loyalty reads (orders' OrderPricingData). */
export interface PricingForPoints {
  subtotalMinor: number;
  discountMinor: number;
}

/**
 * The XAF base an order earns on: the food the customer paid for (subtotal − discount; never the
 * delivery fee, tax or tip), less what a dispute gave back. A refund is counted against the food
 * first (the customer keeps points only on food they kept paying for): a full refund earns nothing,
 * a partial one earns on food − refund.
 */
export function earningBaseMinor(pricing: PricingForPoints, refundMinor = 0): bigint {
  const food = BigInt(pricing.subtotalMinor) - BigInt(pricing.discountMinor);
  if (food < 0n) throw new RangeError('an order whose discount exceeds its subtotal');
  if (refundMinor < 0) throw new RangeError('a negative refund');
  const kept = food - BigInt(refundMinor);
  return kept > 0n ? kept : 0n;
}

/** The tier of a customer who earned `earnedLastYear` points in the last 12 months. */
export function tierOf(earnedLastYear: bigint, rules: TierRules): Tier {
  if (earnedLastYear >= rules.goldPoints) return 'gold';
  if (earnedLastYear >= rules.silverPoints) return 'silver';
  return 'bronze';
}

/** The next tier and the points still to earn for it; null at gold. */
export function nextTierOf(
  earnedLastYear: bigint,
  rules: TierRules,
): { tier: Tier; pointsNeeded: bigint; threshold: bigint } | null {
  const tier = tierOf(earnedLastYear, rules);
  if (tier === 'gold') return null;
  const threshold = tier === 'bronze' ? rules.silverPoints : rules.goldPoints;
  return { tier: tier === 'bronze' ? 'silver' : 'gold', pointsNeeded: threshold - earnedLastYear, threshold };
}

/** 1 point per whole 100 XAF of the base, times the tier's multiplier, rounded down. */
export function pointsFor(baseMinor: bigint, multiplier: string): bigint {
  const base = loyaltyPointsEarned(baseMinor);
  const factor = new PointsDecimal(multiplier);
  if (!factor.isFinite() || factor.lessThan(1)) throw new RangeError(`multiplier ${multiplier} below 1`);
  return BigInt(
    new PointsDecimal(base.toString()).times(factor).toDecimalPlaces(0, Decimal.ROUND_DOWN).toFixed(0),
  );
}

export type HistoryKind = 'earned' | 'expired' | 'redeemed' | 'returned' | 'referral' | 'other';

/** What a statement line of a points account was, from its ledger code and user data. */
export function historyKindOf(code: string, userData: Record<string, string> | null): HistoryKind {
  if (code === 'points_award') return 'earned';
  if (userData?.reason === EXPIRY_REASON) return 'expired';
  if (userData?.reason === RETURN_REASON) return 'returned';
  if (userData?.reason === 'referral') return 'referral';
  if (code === 'points_redeem') return 'redeemed';
  return 'other';
}

export const EXPIRY_REASON = 'points_expiry';
/** Points of a paid order that was cancelled or rejected, given back. */
export const RETURN_REASON = 'points_return';
const DAY_MS = 86_400_000;
const PointsDecimal = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_DOWN });

/** The expiry job's period: the UTC day of its slot, e.g. '2026-12-06'. */
export function expiryPeriodOf(at: Date): string {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Points earned before this instant expire in the period of `at` (its day's start − the expiry). */
export function expiryCutoff(at: Date, expiryDays: number): Date {
  const dayStart = Math.floor(at.getTime() / DAY_MS) * DAY_MS;
  return new Date(dayStart - expiryDays * DAY_MS);
}

/** The ledger transfer ids: one award per order, one expiry per customer and period. */
export const awardTransferId = (orderId: string): string => `points-award:${orderId}`;
export const expiryTransferId = (userId: string, period: string): string =>
  `points-expiry:${userId}:${period}`;
/** Redemption: the hold at placement, its post at payment, its void, the return after a posted hold. */
export const holdTransferId = (orderId: string): string => `points-hold:${orderId}`;
export const postTransferId = (orderId: string): string => `points-post:${orderId}`;
export const voidTransferId = (orderId: string): string => `points-void:${orderId}`;
export const returnTransferId = (orderId: string): string => `points-return:${orderId}`;
/** A hold whose order never got appended (the process stopped) ends with this timeout. */
/** The default of LOYALTY_POINTS_HOLD_SECONDS. */
export const HOLD_TIMEOUT_SECONDS = 3_600;
