/**
 * Promotions without codes (issue #21, docs/loyalty.md "Promotions"): happy hours (days of the
 * week and a time of day, Cameroon time), fixed discounts, and free delivery above an amount, by
 * admins (platform-funded, every restaurant or one) or owners (restaurant-funded, theirs). Orders
 * asks `automatic` at the quote when the order has no coupon and no points; the largest applicable
 * discount wins. Who pays is booked at settlement like a coupon's (`OrderCreated.promotion`).
 * A reactor records delivered orders that had a promotion, for the campaign's figures.
 */
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import {
  ORDER_STREAM_PREFIX,
  orderStream,
  type AutomaticDiscount,
  type OrderCreatedData,
  type PromotionContext,
} from '../orders/index.js';
import { repeatRatePercent, returnOnDiscount } from './coupon-rules.js';
import { newCustomers, NEW_CUSTOMERS_PAGE } from './campaign-figures.js';
import { decodeCursor, UUID, type CouponCaller, type CouponsOptions } from './coupons.js';
import { loyaltyErrors } from './errors.js';
import { createPromotionRepository, MAX_PROMOTION_PAGE, promotionOf } from './promotion-repository.js';
import {
  activeUntil,
  bestPromotion,
  nextCameroonMinute,
  promotionApplies,
  promotionProblems,
  type Promotion,
  type PromotionDefinition,
} from './promotion-rules.js';

export const PROMOTION_REACTOR = 'loyalty-promotions';

export interface NewPromotionInput {
  name: string;
  kind: 'percent' | 'fixed' | 'free_delivery' | 'buy_get' | 'combo';
  itemIds?: string[];
  buyQuantity?: number;
  getQuantity?: number;
  comboPriceMinor?: number;
  percent?: string;
  amountMinor?: number;
  maxDiscountMinor?: number;
  minSubtotalMinor?: number;
  startsAt: string;
  endsAt: string;
  /** 0 = Sunday … 6 = Saturday; default every day. */
  weekdays?: number[];
  /** "HH:MM" Cameroon time; default the whole day. */
  from?: string;
  until?: string;
  restaurantId?: string;
}

const minuteOf = (text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const [hours, minutes] = text.split(':').map(Number);
  return hours! * 60 + minutes!;
};
const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

export function promotionView(promotion: Promotion) {
  return {
    id: promotion.id,
    name: promotion.name,
    fundedBy: promotion.fundedBy,
    restaurantId: promotion.restaurantId,
    kind: promotion.kind,
    percent: promotion.percent,
    amountMinor: promotion.amountMinor === null ? null : Number(promotion.amountMinor),
    maxDiscountMinor: promotion.maxDiscountMinor === null ? null : Number(promotion.maxDiscountMinor),
    itemIds: promotion.itemIds === null ? null : [...promotion.itemIds],
    buyQuantity: promotion.buyQuantity,
    getQuantity: promotion.getQuantity,
    comboPriceMinor: promotion.comboPriceMinor === null ? null : Number(promotion.comboPriceMinor),
    minSubtotalMinor: Number(promotion.minSubtotalMinor),
    startsAt: promotion.startsAt.toISOString(),
    endsAt: promotion.endsAt.toISOString(),
    weekdays: [0, 1, 2, 3, 4, 5, 6].filter((day) => (promotion.weekdays & (1 << day)) !== 0),
    from: hhmm(promotion.startMinute),
    until: hhmm(promotion.endMinute),
    disabledAt: promotion.disabledAt?.toISOString() ?? null,
  };
}
export type PromotionView = ReturnType<typeof promotionView>;

export interface PromotionsOptions extends CouponsOptions {
  /**
   * Which of `itemIds` are dishes on a menu now, not archived (catalog; others are not answered):
   * of the restaurant, or of any restaurant for a platform-wide promotion (`null`).
   */
  menuItems(restaurantId: string | null, itemIds: readonly string[]): Promise<readonly { itemId: string }[]>;
  /** A restaurant's promotion was created or withdrawn: its cached menus are dropped (catalog). */
  menuChanged?(restaurantId: string): void;
}

export function createPromotions(options: PromotionsOptions) {
  const { eventStore } = options;
  const now = options.now ?? (() => new Date());
  const repository = createPromotionRepository(options.db);

  async function automatic(context: PromotionContext): Promise<AutomaticDiscount | undefined> {
    const candidates = await repository.running(context.restaurantId, context.at);
    const best = bestPromotion(candidates, context);
    if (best === undefined) return undefined;
    return {
      promotionId: best.promotion.id,
      fundedBy: best.promotion.fundedBy,
      kind: best.promotion.kind,
      // The exact amount chosen, as a fixed discount: pricing applies what was compared.
      discount: { kind: 'fixed', amountMinor: best.amountMinor },
      ...(best.lines === null ? {} : { lines: best.lines }),
    };
  }

  async function checkRestaurant(caller: CouponCaller, restaurantId: string): Promise<void> {
    const owner = await options.restaurantOwner(restaurantId);
    if (owner === undefined)
      throw loyaltyErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
    if (!caller.admin && owner !== caller.userId)
      throw loyaltyErrors.of('forbidden', 'not_restaurant_owner', 'Only the restaurant’s owner may do this.');
  }

  /**
   * A restaurant's promotion names dishes of its own menu only, a platform-wide one dishes of some
   * menu; archived dishes are not on a menu (422 with the unknown ids).
   */
  async function checkItems(restaurantId: string | null, itemIds: readonly string[] | null): Promise<void> {
    if (itemIds === null) return;
    const known = new Set((await options.menuItems(restaurantId, itemIds)).map((item) => item.itemId));
    const unknownItemIds = itemIds.filter((itemId) => !known.has(itemId));
    if (unknownItemIds.length > 0)
      throw loyaltyErrors.of(
        'unprocessable',
        'promotion_items_unknown',
        restaurantId === null
          ? 'Some itemIds are not dishes on any menu.'
          : 'Some itemIds are not dishes of the restaurant’s menu.',
        { details: { unknownItemIds } },
      );
  }

  function definitionOf(input: NewPromotionInput): PromotionDefinition {
    const definition: PromotionDefinition = {
      name: input.name.trim(),
      kind: input.kind,
      percent: input.percent ?? null,
      amountMinor: input.amountMinor === undefined ? null : BigInt(input.amountMinor),
      maxDiscountMinor: input.maxDiscountMinor === undefined ? null : BigInt(input.maxDiscountMinor),
      minSubtotalMinor: BigInt(input.minSubtotalMinor ?? 0),
      startsAt: new Date(input.startsAt),
      endsAt: new Date(input.endsAt),
      weekdays: (input.weekdays ?? [0, 1, 2, 3, 4, 5, 6]).reduce((mask, day) => mask | (1 << day), 0),
      startMinute: minuteOf(input.from, 0),
      endMinute: minuteOf(input.until, 1440),
      itemIds: input.itemIds ?? null,
      buyQuantity: input.buyQuantity ?? null,
      getQuantity: input.getQuantity ?? null,
      comboPriceMinor: input.comboPriceMinor === undefined ? null : BigInt(input.comboPriceMinor),
    };
    const problems = promotionProblems(definition);
    if (problems.length > 0)
      throw loyaltyErrors.of(
        'validation',
        'invalid_promotion',
        `The promotion is not valid: ${problems.join('; ')}.`,
        { details: { problems } },
      );
    return definition;
  }

  async function create(caller: CouponCaller, input: NewPromotionInput, id: string = randomUUID()) {
    const definition = definitionOf(input);
    if (!caller.admin && input.restaurantId === undefined)
      throw loyaltyErrors.of(
        'validation',
        'invalid_promotion',
        'A restaurant’s promotion names its restaurant.',
        {
          details: { problems: ['restaurantId: required'] },
        },
      );
    if (input.restaurantId !== undefined) await checkRestaurant(caller, input.restaurantId);
    await checkItems(input.restaurantId ?? null, definition.itemIds);
    const existing = await repository.byId(id);
    if (existing !== undefined) return promotionView(existing);
    await repository.insert({
      id,
      name: definition.name,
      funded_by: caller.admin ? 'platform' : 'restaurant',
      restaurant_id: input.restaurantId ?? null,
      kind: definition.kind,
      percent: definition.percent,
      amount_minor: definition.amountMinor,
      max_discount_minor: definition.maxDiscountMinor,
      min_subtotal_minor: definition.minSubtotalMinor,
      starts_at: definition.startsAt,
      ends_at: definition.endsAt,
      weekdays: definition.weekdays,
      start_minute: definition.startMinute,
      end_minute: definition.endMinute,
      item_ids: definition.itemIds === null ? null : [...definition.itemIds],
      buy_quantity: definition.buyQuantity,
      get_quantity: definition.getQuantity,
      combo_price_minor: definition.comboPriceMinor,
      created_by: caller.userId,
    });
    const view = promotionView((await repository.byId(id))!);
    if (input.restaurantId !== undefined) options.menuChanged?.(input.restaurantId);
    await options.audit({
      action: 'loyalty.promotion_created',
      actor: caller.actor,
      resource: `promotion:${id}`,
      oldValue: null,
      newValue: view,
    });
    return view;
  }

  async function managed(caller: CouponCaller, id: string): Promise<Promotion> {
    const promotion = UUID.test(id) ? await repository.byId(id) : undefined;
    const notFound = () =>
      loyaltyErrors.of('not_found', 'promotion_not_found', 'There is no such promotion.');
    if (promotion === undefined) throw notFound();
    if (caller.admin) return promotion;
    if (promotion.fundedBy !== 'restaurant' || promotion.restaurantId === null) throw notFound();
    await checkRestaurant(caller, promotion.restaurantId);
    return promotion;
  }

  async function list(
    caller: CouponCaller,
    query: { restaurantId?: string; cursor?: string; limit?: number },
  ) {
    if (!caller.admin && query.restaurantId === undefined)
      throw loyaltyErrors.of('validation', 'validation_failed', 'Name your restaurant (restaurantId).');
    if (query.restaurantId !== undefined) await checkRestaurant(caller, query.restaurantId);
    const limit = Math.min(query.limit ?? 20, MAX_PROMOTION_PAGE);
    const rows = await repository.list({
      ...(query.restaurantId === undefined ? {} : { restaurantId: query.restaurantId }),
      ...(query.cursor === undefined ? {} : { before: decodeCursor(query.cursor) }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const cursor =
      rows.length > limit && last !== undefined
        ? Buffer.from(JSON.stringify({ createdAt: last.created_at.toISOString(), id: last.id })).toString(
            'base64url',
          )
        : null;
    return { items: page.map((row) => promotionView(promotionOf(row))), nextCursor: cursor };
  }

  /**
   * What a customer sees beside the restaurant's menu: the promotions in their validity window
   * for it (the restaurant's and the platform's), what each gives, its days and hours, when it
   * ends, and whether it runs at this minute.
   */
  async function forRestaurant(restaurantId: string) {
    if ((await options.restaurantOwner(restaurantId)) === undefined)
      throw loyaltyErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
    const at = now();
    const running = await repository.running(restaurantId, at);
    return {
      items: running.map((promotion) => ({
        ...promotionView(promotion),
        activeNow: promotionApplies(promotion, {
          restaurantId,
          subtotalMinor: promotion.minSubtotalMinor,
          deliveryFeeMinor: 0n,
          at,
        }),
      })),
    };
  }

  /**
   * The promotions the restaurant's menu shows (catalog renders them into the cached menu): those
   * in their validity window, each with whether it runs now and until when (`activeUntil`), and the
   * instant this answer stops being true (a window's start or end, a day's hours starting or
   * ending, the next promotion starting), which bounds how long the menu is cached.
   */
  async function menuPromotions(restaurantId: string, at: Date) {
    const running = await repository.running(restaurantId, at);
    const nextStart = await repository.nextStart(restaurantId, at);
    let validUntilMs = nextStart?.getTime() ?? Number.POSITIVE_INFINITY;
    const items = running.map((promotion) => {
      for (const edge of [
        promotion.endsAt,
        nextCameroonMinute(promotion.startMinute, at),
        nextCameroonMinute(promotion.endMinute, at),
      ])
        validUntilMs = Math.min(validUntilMs, edge.getTime());
      const until = activeUntil(promotion, at);
      const { disabledAt: _disabled, ...view } = promotionView(promotion);
      return { ...view, activeNow: until !== null, activeUntil: until?.toISOString() ?? null };
    });
    return { items, validUntilMs };
  }

  async function disable(caller: CouponCaller, id: string) {
    const before = await managed(caller, id);
    if (before.disabledAt !== null) return promotionView(before);
    const view = promotionView((await repository.disable(id, now()))!);
    if (before.restaurantId !== null) options.menuChanged?.(before.restaurantId);
    await options.audit({
      action: 'loyalty.promotion_disabled',
      actor: caller.actor,
      resource: `promotion:${id}`,
      oldValue: { disabledAt: null },
      newValue: { disabledAt: view.disabledAt },
    });
    return view;
  }

  async function roi(caller: CouponCaller, id: string) {
    const promotion = await managed(caller, id);
    const figures = await repository.figures(id);
    const fresh = await newCustomers(
      (after) => repository.deliveredOrders(id, after, NEW_CUSTOMERS_PAGE),
      options.firstOrders,
    );
    return {
      promotionId: promotion.id,
      name: promotion.name,
      orders: figures.orders,
      revenueMinor: Number(figures.revenueMinor),
      foodMinor: Number(figures.foodMinor),
      discountCostMinor: Number(figures.discountMinor),
      fundedBy: promotion.fundedBy,
      ledger: {
        promotionFundingMinor: Number(figures.promotionFundingMinor),
        restaurantShareMinor: Number(figures.restaurantShareMinor),
      },
      customers: figures.customers,
      newCustomers: fresh,
      repeatCustomers: figures.repeatCustomers,
      repeatRatePercent: repeatRatePercent(figures),
      foodPerDiscountFranc: returnOnDiscount(figures),
    };
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const [created] = await eventStore.readStream(orderStream(orderId), {
      maxCount: 1,
      missingAsEmpty: true,
    });
    const data = created?.data as OrderCreatedData | undefined;
    if (created?.type !== 'OrderCreated' || data?.promotion === undefined) return;
    await repository.recordDelivered({
      order_id: orderId,
      promotion_id: data.promotion.id,
      customer_id: data.customer.id,
      // The promotion's own part (points beside it are not its cost); older orders: the whole discount.
      discount_minor: BigInt(data.promotion.discountMinor ?? data.pricing.discountMinor),
      subtotal_minor: BigInt(data.pricing.subtotalMinor),
      total_minor: BigInt(data.pricing.totalMinor),
      delivered_at: event.createdAt,
    });
  }

  const reactor = createReactor({
    name: PROMOTION_REACTOR,
    db: options.db,
    checkpointTable: 'loyalty_reactor_checkpoints',
    eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: ['OrderDelivered'] },
    logger: options.logger,
    handle,
  });

  return {
    automatic,
    create,
    list,
    forRestaurant,
    menuPromotions,
    disable,
    roi,
    start: reactor.start,
    stop: reactor.stop,
  };
}

export type Promotions = ReturnType<typeof createPromotions>;
