/**
 * Delta sync of a menu for apps on bad networks (issue #25, docs/catalog.md "Delta sync"): an app
 * keeps a restaurant's menu for up to 7 days and asks only for what changed since its cursor.
 * Pure: the rendered menu (the same compact rendering as `GET /v1/restaurants/{id}/menu`) and the
 * ids whose rows changed go in, the delta comes out.
 */
import { createHash } from 'node:crypto';
import { nextBoundary, scheduleRanges, type AvailabilityWindow } from './rules/hours.js';

/** How long a cursor stays good: the spec's 7-day menu cache. Older ones get the whole menu. */
export const SYNC_WINDOW_MS = 7 * 24 * 3_600_000;
/**
 * The cursor points this far before the database clock read at the start of the answer, so that
 * a menu write whose transaction began before that read and committed after it (its `updated_at`
 * is its transaction's start) is sent in the next delta. Menu writes take milliseconds; a change
 * may be sent twice, never missed.
 */
export const CURSOR_OVERLAP_MS = 5_000;
const CURSOR_VERSION = 'm1';
const MAX_CURSOR_CHARS = 200;

/** The item fields a client may select (`fields=price,orderable`); `id` always comes. */
export const SYNC_FIELDS = [
  'name',
  'description',
  'price',
  'was',
  'images',
  'photo',
  'allergens',
  'nutrition',
  'prepTimeMinutes',
  'orderable',
  'reason',
  'modifierGroups',
  'categoryId',
  'position',
] as const;
export type SyncField = (typeof SYNC_FIELDS)[number];

export function encodeCursor(restaurantId: string, atMs: number): string {
  return Buffer.from(`${CURSOR_VERSION}.${restaurantId}.${atMs}`).toString('base64url');
}

export type CursorVerdict =
  | { kind: 'none' }
  | { kind: 'since'; sinceMs: number }
  | { kind: 'expired' }
  | { kind: 'invalid'; reason: string };

/** What a `since` means: none (the whole menu), a time, too old (the whole menu), or garbage. */
export function readCursor(text: string | undefined, restaurantId: string, nowMs: number): CursorVerdict {
  if (text === undefined) return { kind: 'none' };
  if (text.length === 0 || text.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(text))
    return { kind: 'invalid', reason: 'since is not a cursor this server gave' };
  const [version, restaurant, at, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split('.');
  if (version !== CURSOR_VERSION || rest.length > 0 || at === undefined || !/^\d{1,15}$/.test(at))
    return { kind: 'invalid', reason: 'since is not a cursor this server gave' };
  if (restaurant !== restaurantId)
    return { kind: 'invalid', reason: 'since is a cursor of another restaurant' };
  const sinceMs = Number(at);
  if (sinceMs > nowMs + CURSOR_OVERLAP_MS) return { kind: 'invalid', reason: 'since is in the future' };
  if (nowMs - sinceMs > SYNC_WINDOW_MS) return { kind: 'expired' };
  return { kind: 'since', sinceMs };
}

/** `fields=price,orderable` → the selection, or the unknown names. */
export function readFields(
  text: string | undefined,
): { kind: 'all' } | { kind: 'some'; fields: Set<SyncField> } | { kind: 'invalid'; unknown: string[] } {
  if (text === undefined) return { kind: 'all' };
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const unknown = names.filter((name) => !(SYNC_FIELDS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) return { kind: 'invalid', unknown: unknown.slice(0, 10) };
  return { kind: 'some', fields: new Set(names as SyncField[]) };
}

/**
 * Whether a schedule (an item's or its category's) opened or closed between `since` and `now`: its
 * first edge after `since` is at or before `now`. Such an item's `orderable` flipped without its
 * row changing, so the delta sends it. Pure (the hours rules' local week).
 */
export function scheduleFlipped(schedule: AvailabilityWindow[] | null, since: Date, now: Date): boolean {
  if (schedule === null || schedule.length === 0) return false;
  return nextBoundary(scheduleRanges(schedule), since).getTime() <= now.getTime();
}

/** The rows changed since the cursor (archived ones included: they become tombstones). */
export interface MenuChanges {
  itemIds: ReadonlySet<string>;
  categoryIds: ReadonlySet<string>;
}

interface RenderedCategory {
  id: string;
  name?: string;
  items?: Record<string, unknown>[];
}
export interface RenderedMenu {
  restaurantId: string;
  version?: number;
  openNow?: boolean;
  closesAt?: string;
  nextOpeningAt?: string;
  categories?: RenderedCategory[];
}

/**
 * The delta: the categories and items changed since the cursor as they are now (an item carries
 * its category and position), and tombstones for those changed that are no longer on the menu
 * (archived, or in a category no longer shown). `changes: 'all'` is a reset: everything, and the
 * client replaces its copy. Empty lists are left out, like everywhere in the compact menu.
 */
export function buildDelta(
  menu: RenderedMenu,
  changes: MenuChanges | 'all',
  fields: ReadonlySet<SyncField> | 'all',
  cursor: string,
): Record<string, unknown> {
  const categories: Record<string, unknown>[] = [];
  const items: Record<string, unknown>[] = [];
  const shownItems = new Set<string>();
  const shownCategories = new Set<string>();
  for (const [categoryPosition, category] of (menu.categories ?? []).entries()) {
    shownCategories.add(category.id);
    if (changes === 'all' || changes.categoryIds.has(category.id))
      categories.push({ id: category.id, name: category.name, position: categoryPosition });
    for (const [position, item] of (category.items ?? []).entries()) {
      const id = item.id as string;
      shownItems.add(id);
      if (changes !== 'all' && !changes.itemIds.has(id)) continue;
      items.push(select({ ...item, categoryId: category.id, position }, fields));
    }
  }
  const removed = changes === 'all' ? [] : [...changes.itemIds].filter((id) => !shownItems.has(id)).sort();
  const removedCategories =
    changes === 'all' ? [] : [...changes.categoryIds].filter((id) => !shownCategories.has(id)).sort();
  const body: Record<string, unknown> = {
    restaurantId: menu.restaurantId,
    cursor,
    ...(changes === 'all' ? { reset: true } : {}),
    version: menu.version,
    openNow: menu.openNow ?? false,
    closesAt: menu.closesAt,
    nextOpeningAt: menu.nextOpeningAt,
  };
  if (categories.length > 0) body.categories = categories;
  if (items.length > 0) body.items = items;
  if (removed.length > 0) body.removed = removed;
  if (removedCategories.length > 0) body.removedCategories = removedCategories;
  return body;
}

function select(item: Record<string, unknown>, fields: ReadonlySet<SyncField> | 'all') {
  if (fields === 'all') return item;
  const out: Record<string, unknown> = { id: item.id };
  for (const field of fields) if (item[field] !== undefined) out[field] = item[field];
  return out;
}

/**
 * The delta's entity tag: its content without the cursor (which moves with the clock), so asking
 * again with the same cursor when nothing changed answers 304 and the client keeps its cursor.
 */
export function deltaEtag(body: Record<string, unknown>, language: string): string {
  const { cursor: _cursor, ...content } = body;
  const hash = createHash('sha256').update(language).update(JSON.stringify(content)).digest('base64url');
  return `W/"${hash.slice(0, 27)}"`;
}
