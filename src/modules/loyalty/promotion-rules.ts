/**
 * Promotions' pure rules (docs/loyalty.md, "Promotions"): automatic discounts without a code, on
 * days of the week and a time of day (Cameroon time, UTC+1 all year), or free delivery above an
 * amount. When several apply, the order gets the largest discount (ties: the lower id).
 */
import { discountMinor, type Discount } from '../orders/index.js';
import { MAX_COUPON_AMOUNT_XAF, MAX_COUPON_DAYS } from './coupon-rules.js';

/** Cameroon (Africa/Douala) is UTC+1 without daylight saving. */
export const CAMEROON_OFFSET_MINUTES = 60;
const DAY_MS = 86_400_000;
const PERCENT_PATTERN = /^(100|[1-9]?\d(\.\d{1,2})?)$/;

export interface PromotionDefinition {
  name: string;
  kind: 'percent' | 'fixed' | 'free_delivery';
  percent: string | null;
  amountMinor: bigint | null;
  maxDiscountMinor: bigint | null;
  minSubtotalMinor: bigint;
  startsAt: Date;
  endsAt: Date;
  /** Bit d (0 = Sunday … 6 = Saturday). */
  weekdays: number;
  /** Minutes after local midnight: startMinute ≤ t < endMinute. */
  startMinute: number;
  endMinute: number;
}

export interface Promotion extends PromotionDefinition {
  id: string;
  fundedBy: 'platform' | 'restaurant';
  restaurantId: string | null;
  disabledAt: Date | null;
}

export function promotionProblems(definition: PromotionDefinition): string[] {
  const problems: string[] = [];
  const name = definition.name.trim();
  if (name.length === 0 || name.length > 80) problems.push('name: 1 to 80 characters');
  if (definition.kind === 'percent') {
    if (
      definition.percent === null ||
      !PERCENT_PATTERN.test(definition.percent) ||
      Number(definition.percent) <= 0
    )
      problems.push('percent: a decimal from 0.01 to 100 with at most 2 decimals');
  } else if (definition.percent !== null) problems.push('percent: only for a percent promotion');
  if (definition.kind === 'fixed') {
    if (
      definition.amountMinor === null ||
      definition.amountMinor <= 0n ||
      definition.amountMinor > MAX_COUPON_AMOUNT_XAF
    )
      problems.push(`amountMinor: 1 to ${MAX_COUPON_AMOUNT_XAF} XAF`);
  } else if (definition.amountMinor !== null) problems.push('amountMinor: only for a fixed promotion');
  if (definition.maxDiscountMinor !== null && definition.kind !== 'percent')
    problems.push('maxDiscountMinor: only for a percent promotion');
  const start = definition.startsAt.getTime();
  const end = definition.endsAt.getTime();
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) problems.push('endsAt: after startsAt');
  else if (end - start > MAX_COUPON_DAYS * DAY_MS)
    problems.push(`endsAt: at most ${MAX_COUPON_DAYS} days after startsAt`);
  if (!Number.isInteger(definition.weekdays) || definition.weekdays < 1 || definition.weekdays > 127)
    problems.push('weekdays: at least one day');
  if (
    !Number.isInteger(definition.startMinute) ||
    !Number.isInteger(definition.endMinute) ||
    definition.startMinute < 0 ||
    definition.endMinute > 1440 ||
    definition.endMinute <= definition.startMinute
  )
    problems.push('endMinute: after startMinute, within the day (0–1440)');
  return problems;
}

/** The weekdays bitmask of a list of day numbers (0 = Sunday … 6 = Saturday). */
export function weekdaysMask(days: readonly number[]): number {
  return days.reduce((mask, day) => mask | (1 << day), 0);
}

/** Day of the week and minute of the day in Cameroon at `at`. */
export function cameroonClock(at: Date): { weekday: number; minute: number } {
  const local = new Date(at.getTime() + CAMEROON_OFFSET_MINUTES * 60_000);
  return { weekday: local.getUTCDay(), minute: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

export interface PromotionOrder {
  restaurantId: string;
  subtotalMinor: bigint;
  deliveryFeeMinor: bigint;
  at: Date;
}

/** Whether the promotion runs for this order now (window, day, hour, scope, minimum). */
export function promotionApplies(promotion: Promotion, order: PromotionOrder): boolean {
  const at = order.at.getTime();
  if (promotion.disabledAt !== null && promotion.disabledAt.getTime() <= at) return false;
  if (at < promotion.startsAt.getTime() || at >= promotion.endsAt.getTime()) return false;
  if (promotion.restaurantId !== null && promotion.restaurantId !== order.restaurantId) return false;
  if (order.subtotalMinor < promotion.minSubtotalMinor) return false;
  const clock = cameroonClock(order.at);
  if ((promotion.weekdays & (1 << clock.weekday)) === 0) return false;
  return clock.minute >= promotion.startMinute && clock.minute < promotion.endMinute;
}

/**
 * The discount as pricing takes it: free delivery is a fixed discount of the delivery fee (on the
 * food, which is never less than the minimum; pricing caps any discount at the food).
 */
export function promotionDiscount(promotion: PromotionDefinition, deliveryFeeMinor: bigint): Discount {
  if (promotion.kind === 'free_delivery') return { kind: 'fixed', amountMinor: deliveryFeeMinor };
  if (promotion.kind === 'fixed') return { kind: 'fixed', amountMinor: promotion.amountMinor! };
  return {
    kind: 'percent',
    percent: promotion.percent!,
    ...(promotion.maxDiscountMinor === null ? {} : { maxMinor: promotion.maxDiscountMinor }),
  };
}

/** The applicable promotion giving the largest discount (ties: the lower id), if any. */
export function bestPromotion(
  promotions: readonly Promotion[],
  order: PromotionOrder,
): { promotion: Promotion; amountMinor: bigint } | undefined {
  let best: { promotion: Promotion; amountMinor: bigint } | undefined;
  for (const promotion of promotions) {
    if (!promotionApplies(promotion, order)) continue;
    const amountMinor = discountMinor(
      order.subtotalMinor,
      promotionDiscount(promotion, order.deliveryFeeMinor),
    );
    if (amountMinor <= 0n) continue;
    if (
      best === undefined ||
      amountMinor > best.amountMinor ||
      (amountMinor === best.amountMinor && promotion.id < best.promotion.id)
    )
      best = { promotion, amountMinor };
  }
  return best;
}
