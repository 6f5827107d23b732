/**
 * What the orders context asks of the catalog, in as few calls as it can: a priced snapshot of
 * the items being ordered (with modifiers, availability and stock) at an instant, whether the
 * restaurant delivers to a point and is open then, atomic stock movements, and the owner's id.
 * Prices in the snapshot are bigint XAF: the order freezes them, later menu edits do not move it.
 */
import type { Transaction } from 'kysely';
import { borrowTransaction } from '../../db/own-tables.js';
import type { CatalogTables } from './tables.js';
import type { CityService } from './cities.js';
import type { DeliveryAreas, RestaurantTerms } from './delivery-areas.js';
import { reachUnderTerms, type DeliveryTerms, type ReachRefusal } from './rules/zones.js';
import type { CatalogDependencies } from './context.js';
import type { MenuCache } from './menu-cache.js';
import type { OrderCatalogCache } from './order-catalog-cache.js';
import type { CatalogRepository } from './repository.js';
import { openingRules } from './restaurants.js';
import { deliveryEstimateMinutes, haversineMeters, type Point } from './rules/geo.js';
import { isOpenAt, localTime, scheduleRanges } from './rules/hours.js';
import {
  checkModifierSelection,
  effectivePrice,
  itemAvailability,
  MAX_STOCK,
  type Availability,
  type Localized,
} from './rules/menu.js';

/** An order holds at most this many distinct lines; more is a client bug or abuse. */
export const MAX_ORDER_LINES = 50;

export interface OrderLineRequest {
  itemId: string;
  quantity: number;
  optionIds?: string[];
}

export interface SnapshotLine {
  itemId: string;
  /** The item's category (null for an item not found): coupons scoped to categories read it. */
  categoryId: string | null;
  name: Localized;
  quantity: number;
  /** The item's own price before discount. */
  basePrice: bigint;
  /** The price charged for the item alone (discount applied). */
  itemPrice: bigint;
  options: { groupId: string; optionId: string; name: Localized; priceDelta: bigint }[];
  /** itemPrice + the options' deltas, for one unit. */
  unitPrice: bigint;
  /** unitPrice × quantity. */
  linePrice: bigint;
  prepTimeMinutes: number | null;
  stock: number | null;
  availability:
    Availability | { orderable: false; reason: 'not_found' | 'insufficient_stock' | 'invalid_options' };
  problems: string[];
}

export interface OrderSnapshot {
  restaurant: {
    id: string;
    ownerId: string;
    name: string;
    status: string;
    active: boolean;
    openAt: boolean;
    location: Point;
    deliveryRadiusM: number;
    prepTimeMinutes: number;
    /** The restaurant's city id (`cities.id`): its delivery terms, and coupons scoped to a city. */
    city: string;
    /** The zones of its city it delivers to (issue #26); null: its radius alone. */
    deliveryZones: string[] | null;
  };
  lines: SnapshotLine[];
  /** True when the restaurant is active and open and every line is orderable. */
  orderable: boolean;
  subtotal: bigint;
  at: Date;
}

export interface DeliveryCheck {
  deliverable: boolean;
  open: boolean;
  active: boolean;
  distanceM: number;
  /** The restaurant's reach: its radius, or the city's distance cap when that is nearer. */
  deliveryRadiusM: number;
  deliveryMinutes: number;
  /** `outside_radius` or one of the city's refusals (zones, service hours, service closed). */
  reason?: 'not_active' | 'closed' | ReachRefusal;
  /** The zone of the point (null: the city has no zones there). */
  zoneId: string | null;
}

export type StockResult =
  { ok: true } | { ok: false; insufficient: { itemId: string; available: number | null }[] };

export interface CatalogOrdersApi {
  readOrderSnapshot(
    restaurantId: string,
    lines: OrderLineRequest[],
    at: Date,
  ): Promise<OrderSnapshot | undefined>;
  checkDelivery(restaurantId: string, point: Point, at: Date): Promise<DeliveryCheck | undefined>;
  /** With a transaction the caller lends (orders: the order's own), the change commits with it. */
  decrementStock<Lender>(
    restaurantId: string,
    lines: { itemId: string; quantity: number }[],
    transaction?: Transaction<Lender>,
  ): Promise<StockResult>;
  restoreStock<Lender>(
    restaurantId: string,
    lines: { itemId: string; quantity: number }[],
    transaction?: Transaction<Lender>,
  ): Promise<void>;
  restaurantOwnerId(restaurantId: string): Promise<string | undefined>;
  /** The id of a restaurant's city (support: a ticket about its order carries that city). */
  restaurantCity(restaurantId: string): Promise<string | undefined>;
  /**
   * The city's and zone's delivery terms at `point` and `at` (issue #26): refusal, fee rule,
   * minimum order, distance cap, tax rate. Undefined for an unknown city.
   */
  deliveryTerms(cityId: string, point: Point, at: Date): Promise<DeliveryTerms | undefined>;
  /**
   * The same terms for one restaurant (issue #26): with `restaurantRefusal` when its own named
   * zones or its own area of H3 cells leave the point out. Placement asks this one.
   */
  restaurantTerms(
    restaurant: { id: string; city: string; deliveryZones: readonly string[] | null },
    point: Point,
    at: Date,
  ): Promise<RestaurantTerms | undefined>;
  /**
   * The stock left of a restaurant's items (null: not tracked), with their name (notify's
   * low-stock alerts). Items of another restaurant are not answered. At most MAX_ORDER_LINES ids.
   */
  stockLevels(
    restaurantId: string,
    itemIds: readonly string[],
  ): Promise<{ itemId: string; name: string; stock: number | null }[]>;
  /**
   * Which of `itemIds` are dishes on a menu now (not archived): of the restaurant, or of any
   * restaurant when `restaurantId` is null (a platform-wide promotion's dishes).
   */
  liveItems(restaurantId: string | null, itemIds: readonly string[]): Promise<{ itemId: string }[]>;
}

function mergeLines(lines: { itemId: string; quantity: number }[]): { itemId: string; quantity: number }[] {
  const merged = new Map<string, number>();
  for (const line of lines) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0 || line.quantity > MAX_STOCK) {
      throw new RangeError(`quantity must be a positive integer up to ${MAX_STOCK}`);
    }
    merged.set(line.itemId, (merged.get(line.itemId) ?? 0) + line.quantity);
  }
  if (merged.size > MAX_ORDER_LINES) throw new RangeError(`at most ${MAX_ORDER_LINES} distinct items`);
  return [...merged].map(([itemId, quantity]) => ({ itemId, quantity }));
}

export function createOrdersApi(
  deps: CatalogDependencies,
  repository: CatalogRepository,
  cache: MenuCache,
  orderCatalog: OrderCatalogCache,
  cities: Pick<CityService, 'deliveryTerms'>,
  areas: Pick<DeliveryAreas, 'restaurantTerms'>,
): CatalogOrdersApi {
  const { db } = deps;

  async function moveStock(
    restaurantId: string,
    lines: { itemId: string; quantity: number }[],
    transaction: Transaction<CatalogTables>,
  ): Promise<StockResult> {
    // Lock in id order so two orders sharing items cannot deadlock; check all before changing any.
    const rows = await transaction
      .selectFrom('menu_items')
      .select(['id', 'stock'])
      .where('restaurant_id', '=', restaurantId)
      .where(
        'id',
        'in',
        lines.map((line) => line.itemId),
      )
      .orderBy('id')
      .forUpdate()
      .execute();
    const stockById = new Map(rows.map((row) => [row.id, row.stock]));
    const insufficient = lines
      .filter(
        (line) =>
          !stockById.has(line.itemId) ||
          (stockById.get(line.itemId) !== null && stockById.get(line.itemId)! < line.quantity),
      )
      .map((line) => ({ itemId: line.itemId, available: stockById.get(line.itemId) ?? 0 }));
    if (insufficient.length > 0) return { ok: false, insufficient };
    const updated = await repository.decrementStock(restaurantId, lines, transaction);
    // A dish that just sold out changes the public menu.
    if (updated.some((row) => row.stock === 0)) await repository.bumpMenuVersion([restaurantId], transaction);
    return { ok: true };
  }

  return {
    async readOrderSnapshot(restaurantId, lines, at) {
      if (lines.length > MAX_ORDER_LINES) throw new RangeError(`at most ${MAX_ORDER_LINES} lines`);
      const entry = await orderCatalog.read(
        restaurantId,
        lines.map((line) => line.itemId),
        at.getTime(),
      );
      if (entry === undefined) return undefined;
      const { restaurant } = entry;
      const active = restaurant.status === 'active';
      const open = active && isOpenAt(openingRules(restaurant), at);
      const minuteOfWeek = localTime(at).minuteOfWeek;
      const snapshotLines = lines.map((line): SnapshotLine => {
        const item = entry.items.get(line.itemId);
        const category = item === undefined ? undefined : entry.categories.get(item.categoryId);
        if (item === undefined || category === undefined) {
          return {
            itemId: line.itemId,
            categoryId: null,
            name: { fr: '' },
            quantity: line.quantity,
            basePrice: 0n,
            itemPrice: 0n,
            options: [],
            unitPrice: 0n,
            linePrice: 0n,
            prepTimeMinutes: null,
            stock: null,
            availability: { orderable: false, reason: 'not_found' },
            problems: ['no such item in this restaurant'],
          };
        }
        let availability: SnapshotLine['availability'] = itemAvailability({
          restaurantActive: active,
          restaurantOpen: open,
          minuteOfWeek,
          category: {
            archived: category.archived,
            scheduleRanges: category.schedule === null ? null : scheduleRanges(category.schedule),
          },
          item: {
            archived: item.archived,
            isAvailable: item.isAvailable,
            stock: item.stock,
            scheduleRanges: item.schedule === null ? null : scheduleRanges(item.schedule),
          },
        });
        const problems: string[] = [];
        if (availability.orderable && item.stock !== null && item.stock < line.quantity) {
          availability = { orderable: false, reason: 'insufficient_stock' };
          problems.push(`only ${item.stock} left`);
        }
        const groups = (entry.groups.get(item.id) ?? []).filter((group) => !group.archived);
        const selection = checkModifierSelection(groups, line.optionIds ?? []);
        if (!selection.ok) {
          problems.push(...selection.problems);
          if (availability.orderable) availability = { orderable: false, reason: 'invalid_options' };
        }
        const options = selection.ok
          ? selection.options.map(({ groupId, option }) => ({
              groupId,
              optionId: option.id,
              name: option.name,
              priceDelta: BigInt(option.priceDelta),
            }))
          : [];
        const itemPrice = effectivePrice(item.price, item.discountPrice);
        const unitPrice = itemPrice + options.reduce((sum, option) => sum + option.priceDelta, 0n);
        return {
          itemId: item.id,
          categoryId: item.categoryId,
          name: item.name,
          quantity: line.quantity,
          basePrice: item.price,
          itemPrice,
          options,
          unitPrice,
          linePrice: unitPrice * BigInt(line.quantity),
          prepTimeMinutes: item.prepTimeMinutes,
          stock: item.stock,
          availability,
          problems,
        };
      });
      return {
        restaurant: {
          id: restaurant.id,
          ownerId: restaurant.ownerId,
          name: restaurant.name,
          status: restaurant.status,
          active,
          openAt: open,
          location: restaurant.location,
          deliveryRadiusM: restaurant.deliveryRadiusM,
          deliveryZones: restaurant.deliveryZones,
          prepTimeMinutes: restaurant.prepTimeMinutes,
          city: restaurant.city,
        },
        lines: snapshotLines,
        orderable:
          open && snapshotLines.length > 0 && snapshotLines.every((line) => line.availability.orderable),
        subtotal: snapshotLines.reduce((sum, line) => sum + line.linePrice, 0n),
        at,
      };
    },

    async checkDelivery(restaurantId, point, at) {
      const restaurant = await repository.findRestaurant(restaurantId);
      if (restaurant === undefined) return undefined;
      const active = restaurant.status === 'active';
      const open = active && isOpenAt(openingRules(restaurant), at);
      const distanceM = Math.round(haversineMeters(point, restaurant.location));
      const terms = await areas.restaurantTerms(restaurant, point, at);
      // The restaurant's city is a foreign key: a missing city is a broken invariant.
      if (terms === undefined) throw new Error(`restaurant ${restaurant.id} names an unknown city`);
      const reach = reachUnderTerms(terms, distanceM, restaurant.deliveryRadiusM);
      const reason = !active ? 'not_active' : !open ? 'closed' : reach.refusal;
      return {
        deliverable: reason === undefined,
        open,
        active,
        distanceM,
        deliveryRadiusM: reach.reachM,
        deliveryMinutes: deliveryEstimateMinutes(restaurant.prepTimeMinutes, distanceM),
        ...(reason === undefined ? {} : { reason }),
        zoneId: terms.zoneId,
      };
    },

    async decrementStock<Lender>(
      restaurantId: string,
      lines: { itemId: string; quantity: number }[],
      transaction?: Transaction<Lender>,
    ) {
      const merged = mergeLines(lines);
      if (merged.length === 0) return { ok: true };
      const result =
        transaction === undefined
          ? await db.transaction().execute((own) => moveStock(restaurantId, merged, own))
          : await moveStock(restaurantId, merged, borrowTransaction<CatalogTables, Lender>(transaction));
      if (result.ok) cache.invalidate(restaurantId);
      return result;
    },

    async restoreStock<Lender>(
      restaurantId: string,
      lines: { itemId: string; quantity: number }[],
      transaction?: Transaction<Lender>,
    ) {
      const merged = mergeLines(lines);
      if (merged.length === 0) return;
      const run = async (executor: Transaction<CatalogTables>) => {
        await repository.restoreStock(restaurantId, merged, executor);
        await repository.bumpMenuVersion([restaurantId], executor);
      };
      if (transaction === undefined) await db.transaction().execute(run);
      else await run(borrowTransaction<CatalogTables, Lender>(transaction));
      cache.invalidate(restaurantId);
    },

    deliveryTerms: (cityId, point, at) => cities.deliveryTerms(cityId, point, at),
    restaurantTerms: (restaurant, point, at) => areas.restaurantTerms(restaurant, point, at),
    async restaurantOwnerId(restaurantId) {
      return (await repository.ownerOf(restaurantId))?.ownerId;
    },
    async restaurantCity(restaurantId) {
      const row = await db
        .selectFrom('restaurants')
        .select('city')
        .where('id', '=', restaurantId)
        .executeTakeFirst();
      return row?.city;
    },
    async stockLevels(restaurantId, itemIds) {
      if (itemIds.length === 0) return [];
      if (itemIds.length > MAX_ORDER_LINES) throw new RangeError(`at most ${MAX_ORDER_LINES} items`);
      const rows = await db
        .selectFrom('menu_items')
        .select(['id', 'name_fr', 'stock'])
        .where('restaurant_id', '=', restaurantId)
        .where('id', 'in', [...itemIds])
        .execute();
      return rows.map((row) => ({ itemId: row.id, name: row.name_fr, stock: row.stock }));
    },

    async liveItems(restaurantId, itemIds) {
      if (itemIds.length === 0) return [];
      if (itemIds.length > MAX_ORDER_LINES) throw new RangeError(`at most ${MAX_ORDER_LINES} items`);
      const rows = await db
        .selectFrom('menu_items')
        .select('id')
        .$if(restaurantId !== null, (query) => query.where('restaurant_id', '=', restaurantId!))
        .where('id', 'in', [...itemIds])
        .where('archived_at', 'is', null)
        .execute();
      return rows.map((row) => ({ itemId: row.id }));
    },
  };
}
