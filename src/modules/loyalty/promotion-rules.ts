/**
 * Promotions' pure rules (docs/loyalty.md, "Promotions"): automatic discounts without a code, on
 * days of the week and a time of day (Cameroon time, UTC+1 all year), free delivery above an
 * amount, item discounts, "buy X get Y" and combo prices. When several apply, the order gets the
 * largest discount (ties: the lower id); an item or combo promotion states its part per line.
 */
import { discountMinor, type Discount } from '../orders/index.js';
import { MAX_COUPON_AMOUNT_XAF, MAX_COUPON_DAYS } from './coupon-rules.js';

/** Cameroon (Africa/Douala) is UTC+1 without daylight saving. */
export const CAMEROON_OFFSET_MINUTES = 60;
const DAY_MS = 86_400_000;
const PERCENT_PATTERN = /^(100|[1-9]?\d(\.\d{1,2})?)$/;

export interface PromotionDefinition {
  name: string;
  kind: 'percent' | 'fixed' | 'free_delivery' | 'buy_get' | 'combo';
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
  /**
   * The items it is about: a percent or fixed promotion on these items' lines only, the items a
   * "buy X get Y" counts, or the set a combo prices (one of each). Null: the whole food.
   */
  itemIds: readonly string[] | null;
  /** "Buy `buyQuantity` get `getQuantity` free", among the units of `itemIds` (cheapest free). */
  buyQuantity: number | null;
  getQuantity: number | null;
  /** A combo: one unit of each of `itemIds` together costs this. */
  comboPriceMinor: bigint | null;
}

export const MAX_PROMOTION_ITEMS = 10;
export const MAX_PROMOTION_QUANTITY = 20;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  problems.push(...itemProblems(definition));
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

/** What an item, "buy X get Y" or combo promotion must name, and what the others must not. */
function itemProblems(definition: PromotionDefinition): string[] {
  const problems: string[] = [];
  const items = definition.itemIds;
  const needsItems = definition.kind === 'buy_get' || definition.kind === 'combo';
  if (items === null) {
    if (needsItems) problems.push('itemIds: required for a buy_get or combo promotion');
  } else if (definition.kind === 'free_delivery') problems.push('itemIds: not for free delivery');
  else if (
    items.length === 0 ||
    items.length > MAX_PROMOTION_ITEMS ||
    new Set(items).size !== items.length ||
    !items.every((id) => UUID_PATTERN.test(id))
  )
    problems.push(`itemIds: 1 to ${MAX_PROMOTION_ITEMS} distinct item ids`);
  else if (definition.kind === 'combo' && items.length < 2)
    problems.push('itemIds: a combo has 2 or more items');
  const quantity = (value: number | null) =>
    value !== null && Number.isInteger(value) && value >= 1 && value <= MAX_PROMOTION_QUANTITY;
  if (definition.kind === 'buy_get') {
    if (!quantity(definition.buyQuantity) || !quantity(definition.getQuantity))
      problems.push(`buyQuantity, getQuantity: 1 to ${MAX_PROMOTION_QUANTITY}`);
  } else if (definition.buyQuantity !== null || definition.getQuantity !== null)
    problems.push('buyQuantity, getQuantity: only for a buy_get promotion');
  if (definition.kind === 'combo') {
    if (
      definition.comboPriceMinor === null ||
      definition.comboPriceMinor <= 0n ||
      definition.comboPriceMinor > MAX_COUPON_AMOUNT_XAF
    )
      problems.push(`comboPriceMinor: 1 to ${MAX_COUPON_AMOUNT_XAF} XAF`);
  } else if (definition.comboPriceMinor !== null) problems.push('comboPriceMinor: only for a combo');
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

/** The first instant after `at` when Cameroon's clock reads `minute` (0–1440) of a day. */
export function nextCameroonMinute(minute: number, at: Date): Date {
  const offsetMs = CAMEROON_OFFSET_MINUTES * 60_000;
  const localDayStart = Math.floor((at.getTime() + offsetMs) / DAY_MS) * DAY_MS;
  let candidate = localDayStart + minute * 60_000 - offsetMs;
  while (candidate <= at.getTime()) candidate += DAY_MS;
  return new Date(candidate);
}

/**
 * Until when a promotion running at `at` keeps running without a break: the end of today's hours
 * or of its validity, whichever is first (null when it does not run at `at`).
 */
export function activeUntil(promotion: Promotion, at: Date): Date | null {
  const runs = promotionApplies(promotion, {
    restaurantId: promotion.restaurantId ?? '',
    subtotalMinor: promotion.minSubtotalMinor,
    deliveryFeeMinor: 0n,
    at,
  });
  if (!runs) return null;
  const todayEnd = nextCameroonMinute(promotion.endMinute, at);
  return todayEnd < promotion.endsAt ? todayEnd : promotion.endsAt;
}

/** An order line as promotions see it (the order's lines, in their order). */
export interface PromotionLine {
  itemId: string;
  quantity: number;
  /** quantity × (unit price + options), exact XAF. */
  lineTotalMinor: bigint;
}

export interface PromotionOrder {
  restaurantId: string;
  subtotalMinor: bigint;
  deliveryFeeMinor: bigint;
  at: Date;
  /** The order's lines; absent (the menu's "runs now?"), an item promotion gives nothing. */
  lines?: readonly PromotionLine[];
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

/** A line's part of a promotion's discount. */
export interface LineDiscount {
  index: number;
  discountMinor: bigint;
}

/** What a promotion gives an order: the amount, and per line when it is about some items. */
export interface PromotionEffect {
  amountMinor: bigint;
  /** The lines the discount is on and each one's part (they sum to amountMinor); null: the whole food. */
  lines: LineDiscount[] | null;
}

/**
 * The discount as pricing takes it for a whole-food promotion: free delivery is a fixed discount
 * of the delivery fee (on the food, which is never less than the minimum; pricing caps any
 * discount at the food).
 */
export function promotionDiscount(promotion: PromotionDefinition, deliveryFeeMinor: bigint): Discount {
  if (promotion.kind === 'free_delivery') return { kind: 'fixed', amountMinor: deliveryFeeMinor };
  if (promotion.kind === 'fixed') return { kind: 'fixed', amountMinor: promotion.amountMinor! };
  if (promotion.kind === 'percent')
    return {
      kind: 'percent',
      percent: promotion.percent!,
      ...(promotion.maxDiscountMinor === null ? {} : { maxMinor: promotion.maxDiscountMinor }),
    };
  throw new Error(`a ${promotion.kind} promotion is computed per line`);
}

/** One unit of an order line: its line and its price (line total ÷ quantity, exact). */
interface Unit {
  index: number;
  priceMinor: bigint;
}

function unitsOf(lines: readonly PromotionLine[], itemId: string): Unit[] {
  const units: Unit[] = [];
  lines.forEach((line, index) => {
    if (line.itemId !== itemId || line.quantity < 1) return;
    const priceMinor = line.lineTotalMinor / BigInt(line.quantity);
    for (let unit = 0; unit < line.quantity; unit += 1) units.push({ index, priceMinor });
  });
  return units;
}

const cheapestFirst = (a: Unit, b: Unit) =>
  a.priceMinor === b.priceMinor ? a.index - b.index : a.priceMinor < b.priceMinor ? -1 : 1;

/** Sums units per line, in line order. */
function perLine(units: readonly Unit[]): LineDiscount[] {
  const sums = new Map<number, bigint>();
  for (const unit of units) sums.set(unit.index, (sums.get(unit.index) ?? 0n) + unit.priceMinor);
  return [...sums.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, discountMinor]) => ({ index, discountMinor }));
}

/**
 * Splits `totalMinor` over lines in proportion to their weights, rounded down, the francs left one
 * each to the first lines: exact (the parts sum to the total), and no part passes its weight when
 * the total does not pass the weights' sum.
 */
export function allocate(totalMinor: bigint, weights: readonly LineDiscount[]): LineDiscount[] {
  const sum = weights.reduce((total, line) => total + line.discountMinor, 0n);
  if (totalMinor > sum) throw new RangeError('a discount passes the lines it is on');
  if (sum === 0n || totalMinor === 0n) return [];
  const parts = weights.map((line) => ({
    index: line.index,
    discountMinor: (totalMinor * line.discountMinor) / sum,
  }));
  let left = totalMinor - parts.reduce((total, line) => total + line.discountMinor, 0n);
  for (let position = 0; left > 0n; position = (position + 1) % parts.length) {
    if (parts[position]!.discountMinor < weights[position]!.discountMinor) {
      parts[position]!.discountMinor += 1n;
      left -= 1n;
    }
  }
  return parts.filter((line) => line.discountMinor > 0n);
}

/** "Buy X get Y": of every X + Y units of the items, the Y cheapest are free. */
function buyGetEffect(promotion: PromotionDefinition, lines: readonly PromotionLine[]): PromotionEffect {
  const units = promotion.itemIds!.flatMap((itemId) => unitsOf(lines, itemId)).sort(cheapestFirst);
  const group = promotion.buyQuantity! + promotion.getQuantity!;
  const free = Math.floor(units.length / group) * promotion.getQuantity!;
  const freeUnits = units.slice(0, free);
  const parts = perLine(freeUnits);
  return { amountMinor: parts.reduce((sum, line) => sum + line.discountMinor, 0n), lines: parts };
}

/** A combo: every full set (one of each item, the cheapest units) costs the combo price. */
function comboEffect(promotion: PromotionDefinition, lines: readonly PromotionLine[]): PromotionEffect {
  const byItem = promotion.itemIds!.map((itemId) => unitsOf(lines, itemId).sort(cheapestFirst));
  const sets = Math.min(...byItem.map((units) => units.length));
  if (sets === 0) return { amountMinor: 0n, lines: [] };
  const chosen = perLine(byItem.flatMap((units) => units.slice(0, sets)));
  const regular = chosen.reduce((sum, line) => sum + line.discountMinor, 0n);
  const amountMinor = regular - promotion.comboPriceMinor! * BigInt(sets);
  if (amountMinor <= 0n) return { amountMinor: 0n, lines: [] };
  return { amountMinor, lines: allocate(amountMinor, chosen) };
}

/** What the promotion gives this order (it is assumed to apply: promotionApplies). */
export function promotionEffect(promotion: PromotionDefinition, order: PromotionOrder): PromotionEffect {
  const lines = order.lines ?? [];
  if (promotion.kind === 'buy_get') return buyGetEffect(promotion, lines);
  if (promotion.kind === 'combo') return comboEffect(promotion, lines);
  const discount = promotionDiscount(promotion, order.deliveryFeeMinor);
  if (promotion.itemIds === null)
    return { amountMinor: discountMinor(order.subtotalMinor, discount), lines: null };
  const items = new Set(promotion.itemIds);
  const base: LineDiscount[] = [];
  lines.forEach((line, index) => {
    if (items.has(line.itemId)) base.push({ index, discountMinor: line.lineTotalMinor });
  });
  const baseMinor = base.reduce((sum, line) => sum + line.discountMinor, 0n);
  const amountMinor = discountMinor(baseMinor, discount);
  return { amountMinor, lines: allocate(amountMinor, base) };
}

/** The applicable promotion giving the largest discount (ties: the lower id), if any. */
export function bestPromotion(
  promotions: readonly Promotion[],
  order: PromotionOrder,
): { promotion: Promotion; amountMinor: bigint; lines: LineDiscount[] | null } | undefined {
  let best: { promotion: Promotion; amountMinor: bigint; lines: LineDiscount[] | null } | undefined;
  for (const promotion of promotions) {
    if (!promotionApplies(promotion, order)) continue;
    const effect = promotionEffect(promotion, order);
    if (effect.amountMinor <= 0n) continue;
    if (
      best === undefined ||
      effect.amountMinor > best.amountMinor ||
      (effect.amountMinor === best.amountMinor && promotion.id < best.promotion.id)
    )
      best = { promotion, ...effect };
  }
  return best;
}
