/**
 * Coupons' pure rules (docs/loyalty.md, "Coupons"): what a valid definition is, whether a coupon
 * applies to an order, the discount it gives (pricing in orders applies it exactly), and whether
 * one more use may be reserved under its caps. No I/O: the repository reads, these decide.
 */
import type { Discount } from '../orders/index.js';

export const COUPON_CODE_PATTERN = /^[A-Z0-9_-]{3,40}$/;
/** A fixed coupon gives at most this (the order total's own ceiling). */
export const MAX_COUPON_AMOUNT_XAF = 5_000_000n;
/** A coupon runs at most a year; longer campaigns are new coupons (a bound on every window). */
export const MAX_COUPON_DAYS = 366;
/** Caps are at most this many uses. */
export const MAX_COUPON_USES = 1_000_000;
const PERCENT_PATTERN = /^(100|[1-9]?\d(\.\d{1,2})?)$/;
/** A scope names at most this many items, and as many categories. */
export const MAX_SCOPE_IDS = 50;
/** A city as typed by people: at most this many characters. */
export const MAX_CITY_LENGTH = 80;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY_MS = 86_400_000;

export type CouponFunder = 'platform' | 'restaurant';

export interface CouponDefinition {
  code: string;
  kind: 'percent' | 'fixed';
  /** A decimal string, 0.01–100 (percent coupons only). */
  percent: string | null;
  /** XAF off the food (fixed coupons only). */
  amountMinor: bigint | null;
  /** A ceiling on a percent coupon's discount. */
  maxDiscountMinor: bigint | null;
  minSubtotalMinor: bigint;
  startsAt: Date;
  endsAt: Date;
  totalLimit: number | null;
  perCustomerLimit: number | null;
  /** Only a customer's first order (no other order placed, paid or under way). */
  firstOrderOnly: boolean;
  /**
   * The dishes it applies to: lines of these items or of these categories (null: every line).
   * The discount is computed on the matching lines' total only.
   */
  itemIds: string[] | null;
  categoryIds: string[] | null;
  /** Only restaurants in this city (as stored in the catalog, compared normalised); null: any. */
  city: string | null;
}

export interface Coupon extends CouponDefinition {
  id: string;
  fundedBy: CouponFunder;
  /** The only restaurant it applies to; null: every restaurant (platform coupons only). */
  restaurantId: string | null;
  /** Reservations not released (held or used). */
  uses: number;
  disabledAt: Date | null;
}

/** Upper-case and trimmed: codes are typed by people and compared without case. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

/** Every problem with a definition, as `field: why` (empty when it is valid). */
export function definitionProblems(definition: CouponDefinition): string[] {
  const problems: string[] = [];
  if (!COUPON_CODE_PATTERN.test(definition.code)) problems.push('code: 3 to 40 letters, digits, "_" or "-"');
  if (definition.kind === 'percent') {
    if (
      definition.percent === null ||
      !PERCENT_PATTERN.test(definition.percent) ||
      Number(definition.percent) <= 0
    )
      problems.push('percent: a decimal from 0.01 to 100 with at most 2 decimals');
    if (definition.amountMinor !== null) problems.push('amountMinor: only for a fixed coupon');
  } else {
    if (
      definition.amountMinor === null ||
      definition.amountMinor <= 0n ||
      definition.amountMinor > MAX_COUPON_AMOUNT_XAF
    )
      problems.push(`amountMinor: 1 to ${MAX_COUPON_AMOUNT_XAF} XAF`);
    if (definition.percent !== null) problems.push('percent: only for a percent coupon');
    if (definition.maxDiscountMinor !== null) problems.push('maxDiscountMinor: only for a percent coupon');
  }
  if (
    definition.maxDiscountMinor !== null &&
    (definition.maxDiscountMinor <= 0n || definition.maxDiscountMinor > MAX_COUPON_AMOUNT_XAF)
  )
    problems.push(`maxDiscountMinor: 1 to ${MAX_COUPON_AMOUNT_XAF} XAF`);
  if (definition.minSubtotalMinor < 0n || definition.minSubtotalMinor > MAX_COUPON_AMOUNT_XAF)
    problems.push(`minSubtotalMinor: 0 to ${MAX_COUPON_AMOUNT_XAF} XAF`);
  const start = definition.startsAt.getTime();
  const end = definition.endsAt.getTime();
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) problems.push('endsAt: after startsAt');
  else if (end - start > MAX_COUPON_DAYS * DAY_MS)
    problems.push(`endsAt: at most ${MAX_COUPON_DAYS} days after startsAt`);
  for (const [name, value] of [
    ['totalLimit', definition.totalLimit],
    ['perCustomerLimit', definition.perCustomerLimit],
  ] as const)
    if (value !== null && (!Number.isSafeInteger(value) || value < 1 || value > MAX_COUPON_USES))
      problems.push(`${name}: 1 to ${MAX_COUPON_USES}`);
  for (const [name, ids] of [
    ['itemIds', definition.itemIds],
    ['categoryIds', definition.categoryIds],
  ] as const)
    if (
      ids !== null &&
      (ids.length < 1 || ids.length > MAX_SCOPE_IDS || !ids.every((id) => UUID_PATTERN.test(id)))
    )
      problems.push(`${name}: 1 to ${MAX_SCOPE_IDS} ids`);
  if (definition.city !== null && cityKey(definition.city) === '')
    problems.push('city: a city name with at least one letter');
  return problems;
}

/**
 * The one place a coupon's city scope meets a restaurant's city. Today the catalog stores the
 * city as free text ("Yaoundé", "yaounde ", "DOUALA"), so both sides are compared by a key:
 * accents removed, lower case, runs of spaces, hyphens and apostrophes as one space. When the
 * catalog has city ids, this compares ids instead and nothing else changes.
 */
export function cityMatches(couponCity: string | null, restaurantCity: string | null): boolean {
  if (couponCity === null) return true;
  if (restaurantCity === null) return false;
  return cityKey(couponCity) === cityKey(restaurantCity);
}

/** The comparison key of a typed city name (exported for the definition's check). */
export function cityKey(city: string): string {
  return city
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s'’-]+/g, ' ')
    .replace(/[^\p{L}\p{N} ]/gu, '')
    .trim();
}

/** An order line as the coupon's scope sees it (the order's lines, in their order). */
export interface CouponLine {
  itemId: string;
  categoryId: string | null;
  lineTotalMinor: bigint;
}

/**
 * The indexes of the lines the coupon applies to (every line without an item or category
 * scope) and their total: the base its discount is computed on.
 */
export function scopedLines(
  coupon: Pick<CouponDefinition, 'itemIds' | 'categoryIds'>,
  lines: readonly CouponLine[],
): { lineIndexes: number[]; baseMinor: bigint } {
  const everyLine = coupon.itemIds === null && coupon.categoryIds === null;
  const lineIndexes: number[] = [];
  let baseMinor = 0n;
  lines.forEach((line, index) => {
    const matches =
      everyLine ||
      (coupon.itemIds?.includes(line.itemId) ?? false) ||
      (line.categoryId !== null && (coupon.categoryIds?.includes(line.categoryId) ?? false));
    if (!matches) return;
    lineIndexes.push(index);
    baseMinor += line.lineTotalMinor;
  });
  return { lineIndexes, baseMinor };
}

/** Whether the coupon is scoped to some dishes (its discount then states the lines). */
export function isLineScoped(coupon: Pick<CouponDefinition, 'itemIds' | 'categoryIds'>): boolean {
  return coupon.itemIds !== null || coupon.categoryIds !== null;
}

/** The discount pricing applies: a percent of the food (rounded down, within its ceiling) or a fixed amount. */
export function couponDiscount(coupon: CouponDefinition): Discount {
  if (coupon.kind === 'fixed') return { kind: 'fixed', amountMinor: coupon.amountMinor! };
  return {
    kind: 'percent',
    percent: coupon.percent!,
    ...(coupon.maxDiscountMinor === null ? {} : { maxMinor: coupon.maxDiscountMinor }),
  };
}

export interface CouponUse {
  restaurantId: string;
  subtotalMinor: bigint;
  at: Date;
  /** This customer's uses of the coupon not released. */
  customerUses: number;
}

/** What the quote knows of the order beyond its amounts: its restaurant's city, its lines, whether it is a first order. */
export interface CouponScopeUse {
  restaurantCity: string | null;
  lines: readonly CouponLine[];
  /** Asked only of a first-order coupon (it costs a read). */
  firstOrder: () => Promise<boolean>;
}

/**
 * Why the coupon's scope excludes this order (city, dishes, first order), or undefined. Checked
 * at the quote only: a coupon's scope never changes after creation (coupons are only withdrawn),
 * so the reservation re-checks the caps and the window, not the scope.
 */
export async function couponScopeRefusal(
  coupon: Coupon,
  use: CouponScopeUse,
): Promise<CouponRefusal | undefined> {
  if (!cityMatches(coupon.city, use.restaurantCity))
    return { code: 'coupon_invalid', reason: 'the coupon is for restaurants of another city' };
  if (scopedLines(coupon, use.lines).baseMinor === 0n)
    return { code: 'coupon_invalid', reason: 'the coupon applies to none of these dishes' };
  if (coupon.firstOrderOnly && !(await use.firstOrder()))
    return { code: 'coupon_invalid', reason: 'the coupon is for a first order only' };
  return undefined;
}

export type CouponRefusal =
  | { code: 'coupon_invalid'; reason: string }
  | { code: 'coupon_exhausted'; reason: string }
  | { code: 'coupon_customer_limit'; reason: string };

/**
 * Why the coupon cannot be used for this order, or undefined when it can. The same rule decides
 * the quote (advisory) and the reservation (under the coupon's row lock, so the caps hold).
 */
export function couponRefusal(coupon: Coupon, use: CouponUse): CouponRefusal | undefined {
  const at = use.at.getTime();
  if (coupon.disabledAt !== null && coupon.disabledAt.getTime() <= at)
    return { code: 'coupon_invalid', reason: 'the coupon was withdrawn' };
  if (at < coupon.startsAt.getTime())
    return { code: 'coupon_invalid', reason: 'the coupon is not valid yet' };
  if (at >= coupon.endsAt.getTime()) return { code: 'coupon_invalid', reason: 'the coupon has expired' };
  if (coupon.restaurantId !== null && coupon.restaurantId !== use.restaurantId)
    return { code: 'coupon_invalid', reason: 'the coupon is for another restaurant' };
  if (use.subtotalMinor < coupon.minSubtotalMinor)
    return {
      code: 'coupon_invalid',
      reason: `the coupon needs at least ${coupon.minSubtotalMinor} XAF of food`,
    };
  if (coupon.totalLimit !== null && coupon.uses >= coupon.totalLimit)
    return { code: 'coupon_exhausted', reason: 'the coupon has been used as many times as it may be' };
  // A first order happens once: a first-order coupon is used once per customer whatever its cap
  // (checked under the row lock at the reservation, so two parallel first orders take it once).
  const perCustomer = coupon.firstOrderOnly ? 1 : coupon.perCustomerLimit;
  if (perCustomer !== null && use.customerUses >= perCustomer)
    return { code: 'coupon_customer_limit', reason: 'you have used this coupon as many times as you may' };
  return undefined;
}

export interface CouponFigures {
  orders: number;
  revenueMinor: bigint;
  foodMinor: bigint;
  discountMinor: bigint;
  customers: number;
  repeatCustomers: number;
}

/** Repeat rate: customers who used the coupon on two or more delivered orders, in percent (two decimals, down). */
export function repeatRatePercent(figures: Pick<CouponFigures, 'customers' | 'repeatCustomers'>): string {
  if (figures.customers === 0) return '0.00';
  const hundredths = Math.floor((figures.repeatCustomers * 10_000) / figures.customers);
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** Revenue per franc of discount: food revenue ÷ discount cost, two decimals, down; null without cost. */
export function returnOnDiscount(figures: Pick<CouponFigures, 'foodMinor' | 'discountMinor'>): string | null {
  if (figures.discountMinor === 0n) return null;
  const hundredths = (figures.foodMinor * 100n) / figures.discountMinor;
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
}
