/**
 * The public menu as sent to phones on 2G: one language, nothing null, empty or false, prices as
 * integers, `orderable: true` on what can be ordered now and a `reason` on what cannot.
 */
import type { ItemRecord, MenuRecord, ModifierGroupRecord } from './model.js';
import { effectivePrice, itemAvailability } from './rules/menu.js';
import {
  closedPeriods,
  closesAt,
  isOpenAt,
  localTime,
  MINUTES_PER_DAY,
  nextBoundary,
  nextOpening,
  scheduleRanges,
  weeklyRanges,
  type WeekRange,
} from './rules/hours.js';
import type { Localized } from './rules/menu.js';

export type Language = 'fr' | 'en';
/** Recomputed at least this often even without a schedule edge, so a long-lived entry stays honest. */
const MAX_VALIDITY_MS = MINUTES_PER_DAY * 60_000;

export function pickLanguage(header: string | undefined): Language {
  if (header === undefined) return 'fr';
  const match = /(?:^|,)\s*(fr|en)(?:-[A-Za-z]+)?\s*(?:;q=([0-9.]+))?/gi;
  let best: { language: Language; quality: number } = { language: 'fr', quality: -1 };
  for (const found of header.matchAll(match)) {
    const quality = found[2] === undefined ? 1 : Number(found[2]);
    if (quality > best.quality) best = { language: found[1]!.toLowerCase() as Language, quality };
  }
  return best.language;
}

export function localize(text: Localized | undefined, language: Language): string | undefined {
  if (text === undefined) return undefined;
  return language === 'en' ? (text.en ?? text.fr) : text.fr;
}

function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null || item === false) continue;
    if (Array.isArray(item) && item.length === 0) continue;
    out[key] = item;
  }
  return out as Partial<T>;
}

function groupView(group: ModifierGroupRecord, language: Language) {
  return compact({
    id: group.id,
    name: localize(group.name, language),
    min: group.minSelections === 0 ? undefined : group.minSelections,
    max: group.maxSelections,
    options: group.options.map((option) =>
      compact({
        id: option.id,
        name: localize(option.name, language),
        priceDelta: option.priceDelta === 0 ? undefined : option.priceDelta,
        unavailable: !option.available,
      }),
    ),
  });
}

export interface MenuRender {
  body: Record<string, unknown>;
  version: number;
  validUntilMs: number;
}

/** Renders the menu at an instant, and says until when that rendering stays true. */
export function renderMenu(menu: MenuRecord, language: Language, instant: Date): MenuRender {
  const { restaurant } = menu;
  const ranges = weeklyRanges(restaurant.openingHours);
  const closed = closedPeriods(restaurant.closureRules).periods;
  const rules = { ranges, closed };
  const active = restaurant.status === 'active';
  const open = active && isOpenAt(rules, instant);
  const minuteOfWeek = localTime(instant).minuteOfWeek;
  const boundaries: number[] = [instant.getTime() + MAX_VALIDITY_MS, nextBoundary(ranges, instant).getTime()];
  for (const period of closed)
    for (const edge of [period.start, period.end]) if (edge > instant) boundaries.push(edge.getTime());
  const rangesOf = (schedule: ItemRecord['schedule']): readonly WeekRange[] | null => {
    if (schedule === null) return null;
    const scheduled = scheduleRanges(schedule);
    boundaries.push(nextBoundary(scheduled, instant).getTime());
    return scheduled;
  };
  const groupsByItem = new Map<string, ModifierGroupRecord[]>();
  for (const group of menu.modifierGroups)
    groupsByItem.set(group.itemId, [...(groupsByItem.get(group.itemId) ?? []), group]);
  const categories = menu.categories.map((category) => {
    const categoryRanges = rangesOf(category.schedule);
    const items = menu.items
      .filter((item) => item.categoryId === category.id)
      .map((item) => {
        const availability = itemAvailability({
          restaurantActive: active,
          restaurantOpen: open,
          minuteOfWeek,
          category: { archived: category.archived, scheduleRanges: categoryRanges },
          item: {
            archived: item.archived,
            isAvailable: item.isAvailable,
            stock: item.stock,
            scheduleRanges: rangesOf(item.schedule),
          },
        });
        const price = effectivePrice(item.price, item.discountPrice);
        return compact({
          id: item.id,
          name: localize(item.name, language),
          description: localize(item.description, language),
          price: Number(price),
          // The struck-through price, only when a discount applies.
          was: price < item.price ? Number(item.price) : undefined,
          images: item.images,
          // Renditions by size and format (issue #18): a phone on 2G asks for the smallest.
          photo: item.photo?.renditions,
          allergens: item.allergens,
          nutrition: item.nutrition ?? undefined,
          prepTimeMinutes: item.prepTimeMinutes ?? undefined,
          orderable: availability.orderable,
          reason:
            availability.orderable ||
            availability.reason === 'restaurant_closed' ||
            availability.reason === 'restaurant_not_active'
              ? undefined
              : availability.reason,
          modifierGroups: (groupsByItem.get(item.id) ?? []).map((group) => groupView(group, language)),
        });
      });
    return compact({ id: category.id, name: localize(category.name, language), items });
  });
  const closing = open ? closesAt(rules, instant) : undefined;
  const next = open || !active ? undefined : nextOpening(rules, instant);
  return {
    body: compact({
      restaurantId: restaurant.id,
      name: restaurant.name,
      version: restaurant.menuVersion,
      currency: 'XAF',
      language,
      openNow: open,
      closesAt: closing?.toISOString(),
      nextOpeningAt: next?.toISOString(),
      categories: categories.filter((category) => (category.items?.length ?? 0) > 0),
    }),
    version: restaurant.menuVersion,
    validUntilMs: Math.min(...boundaries),
  };
}
