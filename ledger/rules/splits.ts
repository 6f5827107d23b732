import { Decimal } from 'decimal.js';
import {
  commissionRevenueId,
  deliveryExpenseId,
  deliveryRevenueId,
  driverPayableId,
  orderEscrowId,
  promotionsExpenseId,
  restaurantPayableId,
  taxPayableId,
} from './chart.js';
import { assertInvariant } from './errors.js';
import type { Currency, Transfer, TransferCode } from './types.js';

/**
 * Money splits. Amounts are bigint minor units; decimal.js appears only where a rate multiplies
 * an amount, always with the rounding mode named at the call, and every split is exact: the
 * parts add up to the whole, to the franc. Invalid arguments throw RangeError (the caller's
 * mistake); a split that does not add up throws LedgerInvariantError (ours).
 */

/** A private constructor so that no global Decimal setting can change our rounding. */
const RateDecimal = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });

/** Rates are decimal strings such as '0.15' (never binary floats), at most 6 decimal places. */
export type Rate = string;
const RATE_PATTERN = /^(0(\.\d{1,6})?|1(\.0{1,6})?)$/;

function parseRate(rate: Rate): Decimal {
  if (!RATE_PATTERN.test(rate)) throw new RangeError(`rate must be a decimal string in [0, 1]: "${rate}"`);
  return new RateDecimal(rate);
}

function assertNonNegative(name: string, value: bigint): void {
  if (value < 0n) throw new RangeError(`${name} must not be negative: ${value}`);
}

/**
 * amount × rate rounded to a whole minor unit with ROUND_HALF_EVEN: unbiased over many orders
 * (half a franc goes up as often as down). Exact: 19 digits × 6 decimals fit in 40 digits.
 */
export function applyRateMinor(amountMinor: bigint, rate: Rate): bigint {
  assertNonNegative('amountMinor', amountMinor);
  const product = new RateDecimal(amountMinor.toString()).times(parseRate(rate));
  return BigInt(product.toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0));
}

/**
 * Largest-remainder allocation: floor of each exact share, then the leftover units one each to
 * the largest remainders, ties to the lower index. The parts always sum to `whole`; a zero
 * weight always gets 0. A negative whole is allocated as the negation of its absolute value.
 */
export function allocate(whole: bigint, weights: readonly bigint[]): bigint[] {
  if (weights.length === 0 || weights.length > 1_000)
    throw new RangeError('allocate takes 1 to 1000 weights');
  if (weights.some((weight) => weight < 0n)) throw new RangeError('weights must not be negative');
  const total = weights.reduce((sum, weight) => sum + weight, 0n);
  if (total === 0n) throw new RangeError('weights must not all be zero');
  if (whole < 0n) return allocate(-whole, weights).map((part) => -part);
  const parts = weights.map((weight) => (whole * weight) / total);
  const leftover = whole - parts.reduce((sum, part) => sum + part, 0n);
  const byRemainder = weights
    .map((weight, index) => ({ index, remainder: (whole * weight) % total }))
    .sort((left, right) =>
      left.remainder !== right.remainder
        ? left.remainder > right.remainder
          ? -1
          : 1
        : left.index - right.index,
    );
  for (let unit = 0; unit < Number(leftover); unit += 1) {
    const target = byRemainder[unit];
    assertInvariant(
      target !== undefined && target.remainder > 0n,
      'leftover exceeds the number of remainders',
    );
    parts[target.index] = (parts[target.index] ?? 0n) + 1n;
  }
  assertInvariant(parts.reduce((sum, part) => sum + part, 0n) === whole, 'allocation does not sum to whole');
  return parts;
}

export type CommissionTier = 'override' | 'city' | 'new' | 'premium' | 'established' | 'standard';

/** Spec §6.3. `standard` is the rate for a restaurant past 30 days with ≤ 100 orders. */
export const COMMISSION_RATES: Readonly<Record<Exclude<CommissionTier, 'override' | 'city'>, Rate>> = {
  new: '0.15',
  premium: '0.10',
  established: '0.12',
  standard: '0.15',
};
export const NEW_RESTAURANT_DAYS = 30;
export const ESTABLISHED_AFTER_ORDERS = 100;
export const PREMIUM_AFTER_ORDERS = 500;
const DAY_MS = 86_400_000;

export interface CommissionTierInput {
  readonly restaurantActivatedAtMs: number;
  readonly nowMs: number;
  /** Orders completed before the one being settled. */
  readonly completedOrders: number;
  /** An admin's per-restaurant rate; wins over every tier. */
  readonly overrideRate?: Rate;
  /**
   * The rate of the order's city (issue #26, its `commissionPercent` rule, recorded on the order
   * at placement): between the two, it replaces the platform's tiers, and a restaurant's override
   * still wins over it.
   */
  readonly cityRate?: Rate;
}

/**
 * Precedence: admin override; else the city's rate; else the first 30 days (15 %) whatever the volume, so a new
 * restaurant's rate cannot change during onboarding; else > 500 completed orders (10 %);
 * else > 100 (12 %); else 15 %. "More than 100" means 101 or more.
 */
export function commissionTier(input: CommissionTierInput): { tier: CommissionTier; rate: Rate } {
  if (input.overrideRate !== undefined) {
    parseRate(input.overrideRate);
    return { tier: 'override', rate: input.overrideRate };
  }
  if (input.cityRate !== undefined) {
    parseRate(input.cityRate);
    return { tier: 'city', rate: input.cityRate };
  }
  if (!Number.isSafeInteger(input.completedOrders) || input.completedOrders < 0) {
    throw new RangeError(`completedOrders must be a non-negative integer: ${input.completedOrders}`);
  }
  const ageMs = input.nowMs - input.restaurantActivatedAtMs;
  const tier: CommissionTier =
    ageMs < NEW_RESTAURANT_DAYS * DAY_MS
      ? 'new'
      : input.completedOrders > PREMIUM_AFTER_ORDERS
        ? 'premium'
        : input.completedOrders > ESTABLISHED_AFTER_ORDERS
          ? 'established'
          : 'standard';
  return { tier, rate: COMMISSION_RATES[tier] };
}

/** Commission on a base, ROUND_HALF_EVEN to the minor unit. */
export function commissionMinor(baseMinor: bigint, rate: Rate): bigint {
  return applyRateMinor(baseMinor, rate);
}

export const DRIVER_BASE_FEE_XAF = 500n;
export const DRIVER_FEE_PER_100_METRES_XAF = 10n;
export const DRIVER_MAX_DISTANCE_METRES = 1_000_000;

/**
 * 500 XAF + 100 XAF per km, charged per started 100 m (10 XAF each): 1 m costs as much as
 * 100 m, 1.05 km costs 610 XAF. Fair to the driver, never fractional, monotonic in distance.
 * Distance is whole metres; a router's fractional distance is rounded up by the caller.
 */
export function driverFeeMinor(distanceMetres: number): bigint {
  if (
    !Number.isSafeInteger(distanceMetres) ||
    distanceMetres < 0 ||
    distanceMetres > DRIVER_MAX_DISTANCE_METRES
  ) {
    throw new RangeError(`distanceMetres must be an integer in [0, ${DRIVER_MAX_DISTANCE_METRES}]`);
  }
  const startedSegments = BigInt(Math.ceil(distanceMetres / 100));
  return DRIVER_BASE_FEE_XAF + DRIVER_FEE_PER_100_METRES_XAF * startedSegments;
}

export type MobileOperator = 'MTN' | 'ORANGE';
/** Spec §6.1 (CamPay): MTN 2.5 %, Orange 2.0 %. */
export const PROVIDER_FEE_RATES: Readonly<Record<MobileOperator, Rate>> = { MTN: '0.025', ORANGE: '0.02' };

/**
 * Our estimate of a provider's fee, ROUND_HALF_EVEN. The ledger books the fee the provider
 * reports; reconciliation compares it with this estimate (MATCHED_WITHIN_TOLERANCE).
 */
export function providerFeeMinor(amountMinor: bigint, operator: MobileOperator): bigint {
  return applyRateMinor(amountMinor, PROVIDER_FEE_RATES[operator]);
}

/** Spec §4 loyalty: 1 point per whole 100 XAF spent, rounded down. */
export function loyaltyPointsEarned(amountMinorXaf: bigint): bigint {
  assertNonNegative('amountMinorXaf', amountMinorXaf);
  return amountMinorXaf / 100n;
}

export type LegKind =
  | 'promotion_funding'
  | 'delivery_benefit'
  | 'delivery_subsidy'
  | 'restaurant_share'
  | 'platform_commission'
  | 'driver_fee'
  | 'driver_tip'
  | 'delivery_margin'
  | 'tax';

export interface SettlementLeg {
  readonly kind: LegKind;
  /** `out` leaves the escrow, `in` funds it (a platform expense paying its share). */
  readonly direction: 'out' | 'in';
  /** Always > 0; zero legs are left out. */
  readonly amountMinor: bigint;
  readonly code: TransferCode;
}

export interface OrderSettlementInput {
  readonly subtotalMinor: bigint;
  readonly deliveryFeeChargedMinor: bigint;
  readonly tipMinor: bigint;
  readonly taxMinor: bigint;
  readonly discountMinor: bigint;
  /** Who pays for the discount; default `platform` (a promotion). */
  readonly discountFundedBy?: 'platform' | 'restaurant';
  /**
   * The part of the discount the restaurant funds, when the discount has two funders (a
   * restaurant's coupon and points on one order); the platform funds the rest. Absent: all of it
   * when `discountFundedBy` is `restaurant`, none otherwise.
   */
  readonly restaurantDiscountMinor?: bigint;
  /**
   * The part of the discount that waived the delivery fee (a loyalty tier's free delivery): at
   * most the delivery fee, paid by the promotions expense on its own leg (`delivery_benefit`), so
   * the ledger shows who paid the delivery. The rest of the discount is on the food.
   */
  readonly deliveryDiscountMinor?: bigint;
  readonly commissionRate: Rate;
  readonly driverFeeMinor: bigint;
}

export interface OrderSettlement {
  /** What the customer paid into escrow: subtotal + delivery fee + tip + tax − discount. */
  readonly escrowMinor: bigint;
  /** What commission is charged on: the subtotal, less the discount if the restaurant funds it. */
  readonly commissionBaseMinor: bigint;
  readonly commissionMinor: bigint;
  /** `in` legs first, so an escrow that may not go negative is funded before it pays out. */
  readonly legs: readonly SettlementLeg[];
}

/**
 * Splits an order's escrow into legs that net out exactly to the escrow amount
 * (Σ out − Σ in = escrowMinor):
 * - restaurant share = base − commission, where base = subtotal (− discount if the restaurant
 *   funds it) and commission = base × rate, ROUND_HALF_EVEN;
 * - the driver gets the driver fee and 100 % of the tip, as two legs for traceability;
 * - delivery fee charged − driver fee is the platform's delivery margin (revenue) or, when
 *   negative, a delivery subsidy the platform's delivery expense pays into the escrow;
 * - a platform-funded discount is paid into the escrow by the promotions expense, so the
 *   restaurant is paid for the full subtotal;
 * - tax collected goes to the tax payable.
 */
export function orderSettlement(input: OrderSettlementInput): OrderSettlement {
  const amounts: Array<[string, bigint]> = [
    ['subtotalMinor', input.subtotalMinor],
    ['deliveryFeeChargedMinor', input.deliveryFeeChargedMinor],
    ['tipMinor', input.tipMinor],
    ['taxMinor', input.taxMinor],
    ['discountMinor', input.discountMinor],
    ['driverFeeMinor', input.driverFeeMinor],
  ];
  for (const [name, value] of amounts) assertNonNegative(name, value);
  const deliveryDiscountMinor = input.deliveryDiscountMinor ?? 0n;
  assertNonNegative('deliveryDiscountMinor', deliveryDiscountMinor);
  if (deliveryDiscountMinor > input.deliveryFeeChargedMinor || deliveryDiscountMinor > input.discountMinor)
    throw new RangeError('the delivery discount exceeds the delivery fee or the discount');
  const foodDiscountMinor = input.discountMinor - deliveryDiscountMinor;
  if (foodDiscountMinor > input.subtotalMinor) throw new RangeError('discount exceeds the subtotal');
  const restaurantDiscountMinor =
    input.restaurantDiscountMinor ?? (input.discountFundedBy === 'restaurant' ? foodDiscountMinor : 0n);
  assertNonNegative('restaurantDiscountMinor', restaurantDiscountMinor);
  if (restaurantDiscountMinor > foodDiscountMinor)
    throw new RangeError('the restaurant funds more than the discount');
  const escrowMinor =
    input.subtotalMinor +
    input.deliveryFeeChargedMinor +
    input.tipMinor +
    input.taxMinor -
    input.discountMinor;
  const commissionBaseMinor = input.subtotalMinor - restaurantDiscountMinor;
  const commission = commissionMinor(commissionBaseMinor, input.commissionRate);
  const deliveryMarginMinor = input.deliveryFeeChargedMinor - input.driverFeeMinor;
  const candidates: SettlementLeg[] = [
    leg('promotion_funding', 'in', foodDiscountMinor - restaurantDiscountMinor, 'promotion'),
    leg('delivery_benefit', 'in', deliveryDiscountMinor, 'promotion'),
    leg('delivery_subsidy', 'in', deliveryMarginMinor < 0n ? -deliveryMarginMinor : 0n, 'delivery_subsidy'),
    leg('restaurant_share', 'out', commissionBaseMinor - commission, 'escrow_release'),
    leg('platform_commission', 'out', commission, 'commission'),
    leg('driver_fee', 'out', input.driverFeeMinor, 'driver_fee'),
    leg('driver_tip', 'out', input.tipMinor, 'tip'),
    leg('delivery_margin', 'out', deliveryMarginMinor > 0n ? deliveryMarginMinor : 0n, 'delivery_fee'),
    leg('tax', 'out', input.taxMinor, 'tax'),
  ];
  const legs = candidates.filter((candidate) => candidate.amountMinor > 0n);
  assertInvariant(
    netOutOfEscrowMinor(legs) === escrowMinor,
    'settlement legs do not net to the escrow amount',
  );
  return { escrowMinor, commissionBaseMinor, commissionMinor: commission, legs };
}

function leg(kind: LegKind, direction: 'out' | 'in', amountMinor: bigint, code: TransferCode): SettlementLeg {
  assertInvariant(amountMinor >= 0n, `settlement leg ${kind} is negative`);
  return { kind, direction, amountMinor, code };
}

/** Σ out − Σ in: what the legs take out of the escrow. */
export function netOutOfEscrowMinor(legs: readonly SettlementLeg[]): bigint {
  return legs.reduce(
    (sum, item) => sum + (item.direction === 'out' ? item.amountMinor : -item.amountMinor),
    0n,
  );
}

export interface SettlementTransfersInput {
  readonly orderId: string;
  readonly restaurantId: string;
  /** Required when the settlement pays a driver. */
  readonly driverId?: string;
  readonly currency: Currency;
  readonly settlement: OrderSettlement;
  /** Close the escrow with the last leg (default true): a settled order's escrow never reopens. */
  readonly closeEscrow?: boolean;
}

/**
 * The settlement as one linked chain of transfers on the order's escrow: all legs land or none
 * do. Ids are `settle:<orderId>:<leg>`, so retrying a settlement is idempotent.
 */
export function settlementTransfers(input: SettlementTransfersInput): Transfer[] {
  const escrow = orderEscrowId(input.orderId, input.currency);
  const legs = input.settlement.legs;
  return legs.map((item, index): Transfer => {
    const counterparty = legCounterparty(item.kind, input);
    const isLast = index === legs.length - 1;
    const closing = isLast && input.closeEscrow !== false;
    const out = item.direction === 'out';
    return {
      id: `settle:${input.orderId}:${item.kind}`,
      debitAccountId: out ? escrow : counterparty,
      creditAccountId: out ? counterparty : escrow,
      amountMinor: item.amountMinor,
      currency: input.currency,
      code: item.code,
      flags: {
        ...(isLast ? {} : { linked: true }),
        ...(closing && out ? { closingDebit: true } : {}),
        ...(closing && !out ? { closingCredit: true } : {}),
      },
      userData: { orderId: input.orderId },
    };
  });
}

function legCounterparty(kind: LegKind, input: SettlementTransfersInput): string {
  const currency = input.currency;
  switch (kind) {
    case 'promotion_funding':
    case 'delivery_benefit':
      return promotionsExpenseId(currency);
    case 'delivery_subsidy':
      return deliveryExpenseId(currency);
    case 'restaurant_share':
      return restaurantPayableId(input.restaurantId, currency);
    case 'platform_commission':
      return commissionRevenueId(currency);
    case 'driver_fee':
    case 'driver_tip':
      if (input.driverId === undefined) throw new RangeError(`leg ${kind} needs a driverId`);
      return driverPayableId(input.driverId, currency);
    case 'delivery_margin':
      return deliveryRevenueId(currency);
    case 'tax':
      return taxPayableId(currency);
    default: {
      const unreachable: never = kind;
      throw new RangeError(`unknown leg ${String(unreachable)}`);
    }
  }
}

/** The transfer that undoes `transfer` (same amount, accounts swapped), for corrections. */
export function reversalOf(transfer: Transfer, id: string): Transfer {
  return {
    id,
    debitAccountId: transfer.creditAccountId,
    creditAccountId: transfer.debitAccountId,
    amountMinor: transfer.amountMinor,
    currency: transfer.currency,
    code: 'reversal',
    flags: {},
    userData: { reversedTransferId: transfer.id },
  };
}
