/**
 * Order pricing (issue 7): pure, exact, integer XAF (exponent 0) as bigint.
 *
 *   line total   = quantity × (unit price + Σ modifier price deltas)
 *   subtotal     = Σ line totals
 *   discount     = the coupon's or promotion's discount (on the subtotal, or on the lines a coupon
 *                  or an item promotion is about), then points on the food left
 *                  (stackedDiscount); never more than the subtotal; plus a waived delivery fee
 *                  (a loyalty tier's free delivery), never more than the delivery fee
 *   delivery fee = 500 XAF + 100 XAF per km, charged per started 100 m (10 XAF each): 1 m costs
 *                  510, 1.05 km costs 610 (the same rule as the driver's fee in ledger/rules);
 *                  a city may set its own base and per-km rate and a zone adds its adjustment
 *                  and surges (catalog's delivery terms, issue #26), never below 0. The driver's
 *                  fee stays the ledger's distance rule: the difference is the platform's
 *                  delivery margin (ledger/rules/splits.ts)
 *   tax          = TAX_RATE_PERCENT × (subtotal − discount + delivery fee), ROUND_HALF_UP to the
 *                  franc (the invoice convention); the tip is never taxed
 *   total        = subtotal − discount + delivery fee + tax + tip
 *
 * decimal.js appears only where a rate multiplies an amount; every other step is bigint.
 */
import { Decimal } from 'decimal.js';

export const BASE_DELIVERY_FEE_XAF = 500n;
export const DELIVERY_FEE_PER_100_METRES_XAF = 10n;
export const MAX_DELIVERY_DISTANCE_METRES = 100_000;
export const MAX_LINES_PER_ORDER = 50;
export const MAX_QUANTITY_PER_LINE = 50;
export const MAX_MODIFIERS_PER_LINE = 20;
export const MAX_TIP_XAF = 100_000n;
/** No order is worth more than this; a bigger one is a bug or an abuse. */
export const MAX_ORDER_TOTAL_XAF = 5_000_000n;

const TaxDecimal = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
const PERCENT_PATTERN = /^\d{1,3}(\.\d{1,4})?$/;

export interface PricedModifier {
  priceDeltaMinor: bigint;
}

export interface PricedLineInput {
  quantity: number;
  unitPriceMinor: bigint;
  modifiers: readonly PricedModifier[];
}

/** A coupon's effect, resolved by the coupon hook (CouponPort); pricing only applies it. */
export type Discount =
  | { kind: 'none' }
  | { kind: 'fixed'; amountMinor: bigint }
  | { kind: 'percent'; percent: string; maxMinor?: bigint };

/** A delivery fee rule in XAF: base + per started 100 m + adjustment (a zone's and its surges). */
export interface DeliveryFeeRule {
  baseXaf: number;
  per100MetresXaf: number;
  adjustmentXaf: number;
}

export const DEFAULT_DELIVERY_FEE_RULE: DeliveryFeeRule = {
  baseXaf: Number(BASE_DELIVERY_FEE_XAF),
  per100MetresXaf: Number(DELIVERY_FEE_PER_100_METRES_XAF),
  adjustmentXaf: 0,
};

export interface PricingInput {
  lines: readonly PricedLineInput[];
  distanceMetres: number;
  /** The city's and zone's rule; absent: DEFAULT_DELIVERY_FEE_RULE. */
  deliveryFee?: DeliveryFeeRule;
  /** A decimal string such as '19.25' (Cameroon's VAT); '0' for none. */
  taxRatePercent: string;
  tipMinor: bigint;
  discount: Discount;
  /** A waived delivery fee (a tier's free delivery), at most the fee; added to discountMinor. */
  deliveryDiscountMinor?: bigint;
}

export interface Pricing {
  lineTotalsMinor: bigint[];
  subtotalMinor: bigint;
  discountMinor: bigint;
  deliveryFeeMinor: bigint;
  taxMinor: bigint;
  tipMinor: bigint;
  totalMinor: bigint;
}

export class PricingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PricingError';
  }
}

export function deliveryFeeMinor(
  distanceMetres: number,
  rule: DeliveryFeeRule = DEFAULT_DELIVERY_FEE_RULE,
): bigint {
  if (
    !Number.isSafeInteger(distanceMetres) ||
    distanceMetres < 0 ||
    distanceMetres > MAX_DELIVERY_DISTANCE_METRES
  ) {
    throw new PricingError(`distanceMetres must be an integer in [0, ${MAX_DELIVERY_DISTANCE_METRES}]`);
  }
  const { baseXaf, per100MetresXaf, adjustmentXaf } = rule;
  if (
    ![baseXaf, per100MetresXaf, adjustmentXaf].every(Number.isSafeInteger) ||
    baseXaf < 0 ||
    per100MetresXaf < 0
  )
    throw new PricingError('a delivery fee rule is made of integers, base and rate not negative');
  const fee =
    BigInt(baseXaf) +
    BigInt(per100MetresXaf) * BigInt(Math.ceil(distanceMetres / 100)) +
    BigInt(adjustmentXaf);
  return fee < 0n ? 0n : fee;
}

/** Normalises a configured rate (a JS number such as 19.25) to the decimal string pricing takes. */
export function taxRateFromConfig(percent: number): string {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100)
    throw new PricingError('tax rate must be 0-100');
  const text = String(percent);
  if (!PERCENT_PATTERN.test(text)) throw new PricingError(`tax rate ${text} has more than 4 decimals`);
  return text;
}

export function taxMinor(baseMinor: bigint, ratePercent: string): bigint {
  if (!PERCENT_PATTERN.test(ratePercent) || Number(ratePercent) > 100) {
    throw new PricingError(`tax rate must be a decimal string in [0, 100]: "${ratePercent}"`);
  }
  if (baseMinor < 0n) throw new PricingError('the taxed amount must not be negative');
  const tax = new TaxDecimal(baseMinor.toString()).times(ratePercent).dividedBy(100);
  return BigInt(tax.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(0));
}

export function discountMinor(subtotalMinor: bigint, discount: Discount): bigint {
  switch (discount.kind) {
    case 'none':
      return 0n;
    case 'fixed':
      if (discount.amountMinor < 0n) throw new PricingError('a discount must not be negative');
      return discount.amountMinor < subtotalMinor ? discount.amountMinor : subtotalMinor;
    case 'percent': {
      // Rounded down: a percentage coupon never gives more than it says.
      const raw = new TaxDecimal(subtotalMinor.toString()).times(discount.percent).dividedBy(100);
      let amount = BigInt(raw.toDecimalPlaces(0, Decimal.ROUND_DOWN).toFixed(0));
      if (discount.maxMinor !== undefined && amount > discount.maxMinor) amount = discount.maxMinor;
      return amount < subtotalMinor ? amount : subtotalMinor;
    }
    default: {
      const exhaustive: never = discount;
      throw new PricingError(`unknown discount ${JSON.stringify(exhaustive)}`);
    }
  }
}

export interface StackedDiscount {
  /** The offer's part (a coupon or a promotion), computed on its base. */
  offerMinor: bigint;
  /** The points' part, on what the offer left of the food. */
  pointsMinor: bigint;
  /** Their sum: the order's discountMinor, never more than the food. */
  totalMinor: bigint;
}

/**
 * An order's discounts in their order of application: first the offer (a coupon or a promotion)
 * on its base (the food subtotal, or the total of the lines a coupon is scoped to), then points,
 * a fixed amount, on the food the offer left. The sum never passes the food, so no total is
 * negative; points beyond what is left are a caller's bug (the quote caps them) and refused.
 */
export function stackedDiscount(input: {
  subtotalMinor: bigint;
  offer: Discount;
  offerBaseMinor: bigint;
  pointsMinor: bigint;
}): StackedDiscount {
  if (input.offerBaseMinor < 0n || input.offerBaseMinor > input.subtotalMinor)
    throw new PricingError('a discount base is part of the subtotal');
  if (input.pointsMinor < 0n) throw new PricingError('a discount must not be negative');
  const offerMinor = discountMinor(input.offerBaseMinor, input.offer);
  if (input.pointsMinor > input.subtotalMinor - offerMinor)
    throw new PricingError('points pay at most the food the other discount left');
  return { offerMinor, pointsMinor: input.pointsMinor, totalMinor: offerMinor + input.pointsMinor };
}

function lineTotal(line: PricedLineInput): bigint {
  if (!Number.isSafeInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_QUANTITY_PER_LINE) {
    throw new PricingError(`quantity must be an integer from 1 to ${MAX_QUANTITY_PER_LINE}`);
  }
  if (line.modifiers.length > MAX_MODIFIERS_PER_LINE)
    throw new PricingError(`at most ${MAX_MODIFIERS_PER_LINE} modifiers per line`);
  if (line.unitPriceMinor < 0n) throw new PricingError('a price must not be negative');
  let unit = line.unitPriceMinor;
  for (const modifier of line.modifiers) {
    if (modifier.priceDeltaMinor < 0n) throw new PricingError('a modifier price must not be negative');
    unit += modifier.priceDeltaMinor;
  }
  return unit * BigInt(line.quantity);
}

export function priceOrder(input: PricingInput): Pricing {
  if (input.lines.length === 0 || input.lines.length > MAX_LINES_PER_ORDER) {
    throw new PricingError(`an order has 1 to ${MAX_LINES_PER_ORDER} lines`);
  }
  if (input.tipMinor < 0n || input.tipMinor > MAX_TIP_XAF)
    throw new PricingError(`the tip must be 0 to ${MAX_TIP_XAF} XAF`);
  const lineTotalsMinor = input.lines.map(lineTotal);
  const subtotalMinor = lineTotalsMinor.reduce((sum, amount) => sum + amount, 0n);
  const deliveryFee = deliveryFeeMinor(input.distanceMetres, input.deliveryFee);
  const waived = input.deliveryDiscountMinor ?? 0n;
  if (waived < 0n || waived > deliveryFee)
    throw new PricingError('a delivery discount is at most the delivery fee');
  const discount = discountMinor(subtotalMinor, input.discount) + waived;
  const tax = taxMinor(subtotalMinor - discount + deliveryFee, input.taxRatePercent);
  const totalMinor = subtotalMinor - discount + deliveryFee + tax + input.tipMinor;
  if (totalMinor > MAX_ORDER_TOTAL_XAF)
    throw new PricingError(`an order total is at most ${MAX_ORDER_TOTAL_XAF} XAF`);
  return {
    lineTotalsMinor,
    subtotalMinor,
    discountMinor: discount,
    deliveryFeeMinor: deliveryFee,
    taxMinor: tax,
    tipMinor: input.tipMinor,
    totalMinor,
  };
}
