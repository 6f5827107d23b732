/**
 * Inventory rules (pure, issue #27): what an order takes from each ingredient, which lots a
 * removal empties first, when stock is low, what to reorder, and the weekly report's sums.
 * Quantities are whole base units (bigint): grams, millilitres or pieces.
 */

export const WASTAGE_REASONS = ['expired', 'spoiled', 'damaged', 'preparation_error', 'other'] as const;
export type WastageReason = (typeof WASTAGE_REASONS)[number];

/** Days of consumption a reorder suggestion is computed from. */
export const CONSUMPTION_WINDOW_DAYS = 14;
/** Lots expiring within this many days (or already expired) raise an expiry alert. */
export const EXPIRY_WARNING_DAYS = 2;

export interface RecipeLine {
  itemId: string;
  ingredientId: string;
  /** Per portion, in the ingredient's base unit. */
  quantity: bigint;
}

/** The ingredients `lines` of an order take, summed per ingredient (dishes without a recipe take none). */
export function ingredientsFor(
  lines: readonly { itemId: string; quantity: number }[],
  recipes: readonly RecipeLine[],
): Map<string, bigint> {
  const byItem = new Map<string, RecipeLine[]>();
  for (const recipe of recipes) byItem.set(recipe.itemId, [...(byItem.get(recipe.itemId) ?? []), recipe]);
  const needs = new Map<string, bigint>();
  for (const line of lines) {
    for (const recipe of byItem.get(line.itemId) ?? []) {
      const taken = recipe.quantity * BigInt(line.quantity);
      needs.set(recipe.ingredientId, (needs.get(recipe.ingredientId) ?? 0n) + taken);
    }
  }
  return needs;
}

export interface OpenLot {
  id: string;
  remaining: bigint;
  /** `YYYY-MM-DD` or null (keeps). */
  expiresOn: string | null;
  receivedAt: Date;
}

/**
 * Which lots a removal of `quantity` empties: the first to expire first (first expired, first
 * out), lots that keep last, oldest received first among equals. What no lot covers is
 * `uncovered` (stock used that was never received: a count will correct it).
 */
export function takeFromLots(
  lots: readonly OpenLot[],
  quantity: bigint,
): { takes: { lotId: string; quantity: bigint }[]; uncovered: bigint } {
  const ordered = [...lots].sort(
    (left, right) =>
      (left.expiresOn ?? '9999-12-31').localeCompare(right.expiresOn ?? '9999-12-31') ||
      left.receivedAt.getTime() - right.receivedAt.getTime(),
  );
  const takes: { lotId: string; quantity: bigint }[] = [];
  let left = quantity;
  for (const lot of ordered) {
    if (left <= 0n) break;
    const take = lot.remaining < left ? lot.remaining : left;
    if (take > 0n) takes.push({ lotId: lot.id, quantity: take });
    left -= take;
  }
  return { takes, uncovered: left };
}

export function isLow(onHand: bigint, threshold: bigint): boolean {
  return onHand <= threshold;
}

const ceilDivide = (numerator: bigint, denominator: bigint) =>
  numerator <= 0n ? 0n : (numerator + denominator - 1n) / denominator;

export interface ReorderInput {
  onHand: bigint;
  threshold: bigint;
  /** Consumed (orders and wastage) over the last `windowDays`. */
  consumed: bigint;
  windowDays: number;
  leadTimeDays: number;
  coverDays: number;
}

/**
 * A reorder suggestion: when the stock will not last the supplier's lead time (at the recent
 * daily use, keeping the threshold as safety stock), order enough to cover the lead time and
 * `coverDays` more, back up to the threshold. Undefined when nothing needs ordering.
 */
export function suggestReorder(
  input: ReorderInput,
): { quantity: bigint; reorderPoint: bigint; dailyUse: bigint } | undefined {
  const window = BigInt(input.windowDays);
  const dailyUse = ceilDivide(input.consumed, window);
  const reorderPoint = ceilDivide(input.consumed * BigInt(input.leadTimeDays), window) + input.threshold;
  if (input.onHand > reorderPoint) return undefined;
  const target =
    ceilDivide(input.consumed * BigInt(input.leadTimeDays + input.coverDays), window) + input.threshold;
  const quantity = target - input.onHand;
  return quantity > 0n ? { quantity, reorderPoint, dailyUse } : undefined;
}

/** A day `days` after `day` (`YYYY-MM-DD`, UTC calendar). */
export function addDays(day: string, days: number): string {
  const at = new Date(`${day}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

export interface ReportMovement {
  ingredientId: string;
  kind: 'receipt' | 'consumption' | 'return' | 'wastage' | 'count';
  quantity: bigint;
  reason: string | null;
}

export interface IngredientWeek {
  received: bigint;
  consumed: bigint;
  wasted: bigint;
  wastedByReason: Record<string, bigint>;
  counted: bigint;
}

/** The week's sums per ingredient: consumption net of returns, wastage by reason, count corrections. */
export function weekOf(movements: readonly ReportMovement[]): Map<string, IngredientWeek> {
  const weeks = new Map<string, IngredientWeek>();
  for (const movement of movements) {
    const week = weeks.get(movement.ingredientId) ?? {
      received: 0n,
      consumed: 0n,
      wasted: 0n,
      wastedByReason: {},
      counted: 0n,
    };
    switch (movement.kind) {
      case 'receipt':
        week.received += movement.quantity;
        break;
      case 'consumption':
      case 'return':
        week.consumed -= movement.quantity;
        break;
      case 'wastage': {
        const reason = movement.reason ?? 'other';
        week.wasted -= movement.quantity;
        week.wastedByReason[reason] = (week.wastedByReason[reason] ?? 0n) - movement.quantity;
        break;
      }
      case 'count':
        week.counted += movement.quantity;
        break;
      default: {
        const exhaustive: never = movement.kind;
        throw new Error(`unknown movement ${String(exhaustive)}`);
      }
    }
    weeks.set(movement.ingredientId, week);
  }
  return weeks;
}
