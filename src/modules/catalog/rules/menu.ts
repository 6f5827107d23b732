/**
 * Menu rules: prices, modifier groups, and whether an item can be ordered at an instant.
 * Pure: the repository loads rows, these decide.
 */
import { inWeekRanges, type WeekRange } from './hours.js';

/** A single dish above ten million francs is a typo, not a menu. */
export const MAX_PRICE_XAF = 10_000_000;
export const MAX_CATEGORIES_PER_RESTAURANT = 50;
export const MAX_ITEMS_PER_RESTAURANT = 500;
export const MAX_MODIFIER_GROUPS_PER_ITEM = 10;
export const MAX_OPTIONS_PER_GROUP = 30;
export const MAX_STOCK = 100_000;

export interface Localized {
  fr: string;
  en?: string;
}

export interface ModifierOption {
  id: string;
  name: Localized;
  /** Added to the item's price, XAF, never negative. */
  priceDelta: number;
  available: boolean;
}

export interface ModifierGroupRule {
  id: string;
  name: Localized;
  minSelections: number;
  maxSelections: number;
  options: ModifierOption[];
}

export function effectivePrice(price: bigint, discountPrice: bigint | null): bigint {
  return discountPrice !== null && discountPrice < price ? discountPrice : price;
}

export function validatePrices(prices: {
  price: number;
  discountPrice?: number | null;
  costPrice?: number | null;
}): string[] {
  const problems: string[] = [];
  const check = (name: string, value: number | null | undefined) => {
    if (value === null || value === undefined) return;
    if (!Number.isSafeInteger(value) || value < 0)
      problems.push(`${name} must be a non-negative integer (XAF)`);
    else if (value > MAX_PRICE_XAF) problems.push(`${name} must be at most ${MAX_PRICE_XAF} XAF`);
  };
  check('price', prices.price);
  check('discountPrice', prices.discountPrice);
  check('costPrice', prices.costPrice);
  if (
    prices.discountPrice !== null &&
    prices.discountPrice !== undefined &&
    prices.discountPrice > prices.price
  ) {
    problems.push('discountPrice must not exceed price');
  }
  return problems;
}

export function validateModifierGroup(group: {
  minSelections: number;
  maxSelections: number;
  options: Omit<ModifierOption, 'id'>[];
}): string[] {
  const problems: string[] = [];
  if (group.minSelections > group.maxSelections) {
    problems.push(
      `minSelections (${group.minSelections}) must not exceed maxSelections (${group.maxSelections})`,
    );
  }
  if (group.options.length === 0) problems.push('a modifier group needs at least one option');
  if (group.options.length > MAX_OPTIONS_PER_GROUP) problems.push(`at most ${MAX_OPTIONS_PER_GROUP} options`);
  if (group.maxSelections > group.options.length) {
    problems.push(
      `maxSelections (${group.maxSelections}) must not exceed the number of options (${group.options.length})`,
    );
  }
  const names = new Set<string>();
  for (const option of group.options) {
    if (
      !Number.isSafeInteger(option.priceDelta) ||
      option.priceDelta < 0 ||
      option.priceDelta > MAX_PRICE_XAF
    ) {
      problems.push(
        `option "${option.name.fr}": priceDelta must be an integer from 0 to ${MAX_PRICE_XAF} XAF`,
      );
    }
    const key = option.name.fr.trim().toLowerCase();
    if (names.has(key)) problems.push(`option "${option.name.fr}" appears twice`);
    names.add(key);
  }
  return problems;
}

export type UnavailableReason =
  'restaurant_not_active' | 'restaurant_closed' | 'archived' | 'disabled' | 'sold_out' | 'outside_schedule';

export interface AvailabilityInput {
  restaurantActive: boolean;
  restaurantOpen: boolean;
  minuteOfWeek: number;
  category: { archived: boolean; scheduleRanges: readonly WeekRange[] | null };
  item: {
    archived: boolean;
    isAvailable: boolean;
    stock: number | null;
    scheduleRanges: readonly WeekRange[] | null;
  };
}

export type Availability = { orderable: true } | { orderable: false; reason: UnavailableReason };

/**
 * Whether an item can be ordered now, and if not the first reason a customer would care about.
 * Stock is derived, never a flag: zero disables the item, a restock re-enables it.
 */
export function itemAvailability(input: AvailabilityInput): Availability {
  const { item, category } = input;
  if (item.archived || category.archived) return { orderable: false, reason: 'archived' };
  if (!item.isAvailable) return { orderable: false, reason: 'disabled' };
  if (item.stock !== null && item.stock <= 0) return { orderable: false, reason: 'sold_out' };
  if (!input.restaurantActive) return { orderable: false, reason: 'restaurant_not_active' };
  if (category.scheduleRanges !== null && !inWeekRanges(category.scheduleRanges, input.minuteOfWeek)) {
    return { orderable: false, reason: 'outside_schedule' };
  }
  if (item.scheduleRanges !== null && !inWeekRanges(item.scheduleRanges, input.minuteOfWeek)) {
    return { orderable: false, reason: 'outside_schedule' };
  }
  if (!input.restaurantOpen) return { orderable: false, reason: 'restaurant_closed' };
  return { orderable: true };
}

export type SelectionCheck =
  | { ok: true; priceDelta: number; options: { groupId: string; option: ModifierOption }[] }
  | { ok: false; problems: string[] };

/** Checks a customer's chosen options against each group's min/max and availability. */
export function checkModifierSelection(
  groups: readonly ModifierGroupRule[],
  selectedOptionIds: readonly string[],
): SelectionCheck {
  const problems: string[] = [];
  const chosen: { groupId: string; option: ModifierOption }[] = [];
  const remaining = new Set(selectedOptionIds);
  if (remaining.size !== selectedOptionIds.length) problems.push('an option is selected twice');
  for (const group of groups) {
    const selected = group.options.filter((option) => remaining.has(option.id));
    for (const option of selected) {
      remaining.delete(option.id);
      if (!option.available) problems.push(`option "${option.name.fr}" is unavailable`);
      chosen.push({ groupId: group.id, option });
    }
    if (selected.length < group.minSelections) {
      problems.push(`"${group.name.fr}": choose at least ${group.minSelections}`);
    }
    if (selected.length > group.maxSelections) {
      problems.push(`"${group.name.fr}": choose at most ${group.maxSelections}`);
    }
  }
  for (const unknown of remaining) problems.push(`option ${unknown} does not belong to this item`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    priceDelta: chosen.reduce((sum, entry) => sum + entry.option.priceDelta, 0),
    options: chosen,
  };
}
