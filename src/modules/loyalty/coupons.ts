/**
 * Coupons (issue #21, docs/loyalty.md "Coupons"): codes created by admins (platform-funded) or
 * restaurant owners (restaurant-funded, their restaurant only); loyalty implements orders'
 * CouponPort (evaluate at the quote, reserve one use at placement under the caps) and follows the
 * order's events to end the reservation once:
 *   OrderDelivered                                                     → used (the order settled:
 *       the ledger booked the discount, from the promotions expense or the restaurant's share);
 *   OrderPaymentFailed / OrderPaymentExpired / OrderRejected / OrderCancelled → released (the use
 *       goes back to the caps; nothing of the discount was ever booked).
 * A reservation whose order was never appended (the process stopped, the payment threw) is
 * released by the stranded sweep once its order is known not to exist.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import {
  ORDER_STREAM_PREFIX,
  orderStreamExists,
  type CouponPort,
  type CouponRefusalCode,
  type CouponReserveResult,
} from '../orders/index.js';
import { loyaltyErrors } from './errors.js';
import { couponOf, createCouponRepository, MAX_COUPON_PAGE } from './coupon-repository.js';
import {
  couponDiscount,
  couponRefusal,
  couponScopeRefusal,
  definitionProblems,
  isLineScoped,
  scopedLines,
  normalizeCode,
  repeatRatePercent,
  returnOnDiscount,
  type Coupon,
  type CouponDefinition,
} from './coupon-rules.js';
import { newCustomers, NEW_CUSTOMERS_PAGE, type FirstOrders } from './campaign-figures.js';
import type { LoyaltyDb } from './tables.js';

export const COUPON_REACTOR = 'loyalty-coupons';
const USING = ['OrderDelivered'] as const;
const RELEASING = ['OrderPaymentFailed', 'OrderPaymentExpired', 'OrderRejected', 'OrderCancelled'] as const;
/** A reservation held this long without its order is looked at by the stranded sweep. */
const STRANDED_AFTER_MS = 10 * 60_000;

export interface CouponCaller {
  userId: string;
  /** An admin creates platform-funded coupons and sees every coupon. */
  admin: boolean;
  actor: {
    kind: 'user';
    userId: string;
    ip?: string | null;
    userAgent?: string | null;
    requestId?: string | null;
  };
}

export interface CouponAuditEntry {
  action: string;
  actor: CouponCaller['actor'];
  resource: string;
  oldValue: unknown;
  newValue: unknown;
}

export interface CouponsOptions {
  db: LoyaltyDb;
  eventStore: EventStore;
  logger: Logger;
  /** The restaurant's owner (catalog), undefined when there is no such restaurant. */
  restaurantOwner(restaurantId: string): Promise<string | undefined>;
  audit(entry: CouponAuditEntry): Promise<void>;
  /** Which orders were their customer's first (orders' view): the campaigns' new customers. */
  firstOrders?: FirstOrders;
  now?: () => Date;
}

export interface NewCouponInput {
  code: string;
  kind: 'percent' | 'fixed';
  percent?: string;
  amountMinor?: number;
  maxDiscountMinor?: number;
  minSubtotalMinor?: number;
  startsAt: string;
  endsAt: string;
  totalLimit?: number;
  perCustomerLimit?: number;
  restaurantId?: string;
  firstOrderOnly?: boolean;
  itemIds?: string[];
  categoryIds?: string[];
  city?: string;
}

/** A coupon as the API shows it. */
export function couponView(coupon: Coupon) {
  return {
    id: coupon.id,
    code: coupon.code,
    fundedBy: coupon.fundedBy,
    restaurantId: coupon.restaurantId,
    kind: coupon.kind,
    percent: coupon.percent,
    amountMinor: coupon.amountMinor === null ? null : Number(coupon.amountMinor),
    maxDiscountMinor: coupon.maxDiscountMinor === null ? null : Number(coupon.maxDiscountMinor),
    minSubtotalMinor: Number(coupon.minSubtotalMinor),
    startsAt: coupon.startsAt.toISOString(),
    endsAt: coupon.endsAt.toISOString(),
    totalLimit: coupon.totalLimit,
    perCustomerLimit: coupon.perCustomerLimit,
    uses: coupon.uses,
    disabledAt: coupon.disabledAt?.toISOString() ?? null,
    firstOrderOnly: coupon.firstOrderOnly,
    itemIds: coupon.itemIds,
    categoryIds: coupon.categoryIds,
    city: coupon.city,
  };
}
export type CouponView = ReturnType<typeof couponView>;

interface PageCursor {
  createdAt: string;
  id: string;
}
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as PageCursor;
    const createdAt = new Date(value.createdAt);
    if (typeof value.id === 'string' && UUID.test(value.id) && !Number.isNaN(createdAt.getTime()))
      return { createdAt, id: value.id };
  } catch {
    // falls through to the refusal
  }
  throw loyaltyErrors.of('validation', 'invalid_cursor', 'The page cursor is not one this API issued.');
}

export function createCoupons(options: CouponsOptions) {
  const { eventStore, logger } = options;
  const now = options.now ?? (() => new Date());
  const repository = createCouponRepository(options.db);
  const listeners: ((orderId: string, outcome: 'used' | 'released' | 'none') => void)[] = [];

  const port: CouponPort = {
    async evaluate(code, context) {
      const coupon = await repository.byCode(normalizeCode(code));
      if (coupon === undefined) return { valid: false, reason: 'unknown coupon code' };
      const customerUses = await repository.customerUses(coupon.id, context.customerId);
      const refusal =
        couponRefusal(coupon, { ...context, customerUses }) ?? (await couponScopeRefusal(coupon, context));
      if (refusal !== undefined) return { valid: false, reason: refusal.reason, code: refusal.code };
      return {
        valid: true,
        discount: couponDiscount(coupon),
        couponId: coupon.id,
        fundedBy: coupon.fundedBy,
        lineIndexes: isLineScoped(coupon) ? scopedLines(coupon, context.lines).lineIndexes : null,
      };
    },
    async reserve(reservation): Promise<CouponReserveResult> {
      const result = await repository.reserve(
        {
          order_id: reservation.orderId,
          coupon_id: reservation.couponId,
          customer_id: reservation.customerId,
          restaurant_id: reservation.restaurantId,
          discount_minor: reservation.discountMinor,
          subtotal_minor: reservation.subtotalMinor,
          total_minor: reservation.totalMinor,
        },
        (coupon, customerUses) =>
          couponRefusal(coupon, {
            restaurantId: reservation.restaurantId,
            subtotalMinor: reservation.subtotalMinor,
            at: reservation.at,
            customerUses,
          }),
      );
      if (result.reserved) return { reserved: true };
      return { reserved: false, code: result.code as CouponRefusalCode, reason: result.reason };
    },
    async releaseUnplaced(orderId) {
      if (await orderStreamExists(eventStore, orderId)) return;
      if (await repository.forget(orderId)) for (const listener of listeners) listener(orderId, 'released');
    },
  };

  /** The restaurant must be the caller's (admins may name any restaurant that exists). */
  async function checkRestaurant(caller: CouponCaller, restaurantId: string): Promise<void> {
    const owner = await options.restaurantOwner(restaurantId);
    if (owner === undefined)
      throw loyaltyErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
    if (!caller.admin && owner !== caller.userId)
      throw loyaltyErrors.of('forbidden', 'not_restaurant_owner', 'Only the restaurant’s owner may do this.');
  }

  function definitionOf(input: NewCouponInput): CouponDefinition {
    const definition: CouponDefinition = {
      code: normalizeCode(input.code),
      kind: input.kind,
      percent: input.percent ?? null,
      amountMinor: input.amountMinor === undefined ? null : BigInt(input.amountMinor),
      maxDiscountMinor: input.maxDiscountMinor === undefined ? null : BigInt(input.maxDiscountMinor),
      minSubtotalMinor: BigInt(input.minSubtotalMinor ?? 0),
      startsAt: new Date(input.startsAt),
      endsAt: new Date(input.endsAt),
      totalLimit: input.totalLimit ?? null,
      perCustomerLimit: input.perCustomerLimit ?? null,
      firstOrderOnly: input.firstOrderOnly ?? false,
      itemIds: input.itemIds === undefined ? null : [...new Set(input.itemIds.map((id) => id.toLowerCase()))],
      categoryIds:
        input.categoryIds === undefined
          ? null
          : [...new Set(input.categoryIds.map((id) => id.toLowerCase()))],
      city: input.city === undefined ? null : input.city.trim(),
    };
    const problems = definitionProblems(definition);
    if (problems.length > 0)
      throw loyaltyErrors.of(
        'validation',
        'invalid_coupon',
        `The coupon is not valid: ${problems.join('; ')}.`,
        {
          details: { problems },
        },
      );
    return definition;
  }

  /**
   * An admin's coupon is platform-funded (for every restaurant, or the one named); an owner's is
   * funded by their restaurant, which they must name. `id` makes a retried creation land once.
   */
  async function create(caller: CouponCaller, input: NewCouponInput, id: string = randomUUID()) {
    const definition = definitionOf(input);
    if (!caller.admin && input.restaurantId === undefined)
      throw loyaltyErrors.of(
        'validation',
        'invalid_coupon',
        'A restaurant’s coupon names its restaurant (restaurantId).',
        {
          details: { problems: ['restaurantId: required'] },
        },
      );
    if (input.restaurantId !== undefined) await checkRestaurant(caller, input.restaurantId);
    const existing = await repository.byId(id);
    if (existing !== undefined) return couponView(existing);
    const inserted = await repository.insert({
      id,
      code: definition.code,
      funded_by: caller.admin ? 'platform' : 'restaurant',
      restaurant_id: input.restaurantId ?? null,
      kind: definition.kind,
      percent: definition.percent,
      amount_minor: definition.amountMinor,
      max_discount_minor: definition.maxDiscountMinor,
      min_subtotal_minor: definition.minSubtotalMinor,
      starts_at: definition.startsAt,
      ends_at: definition.endsAt,
      total_limit: definition.totalLimit,
      per_customer_limit: definition.perCustomerLimit,
      created_by: caller.userId,
      first_order_only: definition.firstOrderOnly,
      item_ids: definition.itemIds,
      category_ids: definition.categoryIds,
      city: definition.city,
    });
    const coupon = await repository.byId(id);
    if (!inserted || coupon === undefined)
      throw loyaltyErrors.of('conflict', 'coupon_code_taken', 'Another coupon already has this code.');
    const view = couponView(coupon);
    await options.audit({
      action: 'loyalty.coupon_created',
      actor: caller.actor,
      resource: `coupon:${id}`,
      oldValue: null,
      newValue: view,
    });
    return view;
  }

  /** The coupon, if the caller may manage it: admins every one, owners their restaurant's. */
  async function managed(caller: CouponCaller, id: string): Promise<Coupon> {
    const coupon = UUID.test(id) ? await repository.byId(id) : undefined;
    if (coupon === undefined)
      throw loyaltyErrors.of('not_found', 'coupon_not_found', 'There is no such coupon.');
    if (caller.admin) return coupon;
    if (coupon.fundedBy !== 'restaurant' || coupon.restaurantId === null)
      throw loyaltyErrors.of('not_found', 'coupon_not_found', 'There is no such coupon.');
    await checkRestaurant(caller, coupon.restaurantId);
    return coupon;
  }

  async function list(
    caller: CouponCaller,
    query: { restaurantId?: string; cursor?: string; limit?: number },
  ) {
    if (!caller.admin && query.restaurantId === undefined)
      throw loyaltyErrors.of('validation', 'validation_failed', 'Name your restaurant (restaurantId).');
    if (query.restaurantId !== undefined) await checkRestaurant(caller, query.restaurantId);
    const limit = Math.min(query.limit ?? 20, MAX_COUPON_PAGE);
    const rows = await repository.list({
      ...(query.restaurantId === undefined ? {} : { restaurantId: query.restaurantId }),
      ...(query.cursor === undefined ? {} : { before: decodeCursor(query.cursor) }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => couponView(couponOf(row))),
      nextCursor:
        rows.length > limit && last !== undefined
          ? Buffer.from(JSON.stringify({ createdAt: last.created_at.toISOString(), id: last.id })).toString(
              'base64url',
            )
          : null,
    };
  }

  /** Withdraws the coupon from new orders (reservations already held stand); audited, idempotent. */
  async function disable(caller: CouponCaller, id: string) {
    const before = await managed(caller, id);
    if (before.disabledAt !== null) return couponView(before);
    const row = await repository.disable(id, now());
    const view = couponView(couponOf(row!));
    await options.audit({
      action: 'loyalty.coupon_disabled',
      actor: caller.actor,
      resource: `coupon:${id}`,
      oldValue: { disabledAt: null },
      newValue: { disabledAt: view.disabledAt },
    });
    return view;
  }

  /** The campaign's return: delivered orders, their revenue, the discount's cost and who funded it. */
  async function roi(caller: CouponCaller, id: string) {
    const coupon = await managed(caller, id);
    const figures = await repository.figures(id);
    const fresh = await newCustomers(
      (after) => repository.usedOrders(id, after, NEW_CUSTOMERS_PAGE),
      options.firstOrders,
    );
    return {
      couponId: coupon.id,
      code: coupon.code,
      orders: figures.orders,
      pending: figures.held,
      released: figures.released,
      revenueMinor: Number(figures.revenueMinor),
      foodMinor: Number(figures.foodMinor),
      discountCostMinor: Number(figures.discountMinor),
      fundedBy: coupon.fundedBy,
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
    const using = (USING as readonly string[]).includes(event.type);
    const changed = using
      ? await repository.markUsed(orderId, now())
      : await repository.release(orderId, now());
    const outcome = !changed ? 'none' : using ? 'used' : 'released';
    for (const listener of listeners) listener(orderId, outcome);
  }

  /** Releases reservations whose order was never appended (checked on the event store). */
  async function sweepStranded(at: Date = now()): Promise<number> {
    let released = 0;
    for (const orderId of await repository.heldBefore(new Date(at.getTime() - STRANDED_AFTER_MS))) {
      if (await orderStreamExists(eventStore, orderId)) continue;
      if (await repository.release(orderId, at)) released += 1;
    }
    if (released > 0) logger.warn({ released }, 'coupon reservations of orders never placed were released');
    return released;
  }

  const reactor = createReactor({
    name: COUPON_REACTOR,
    db: options.db,
    checkpointTable: 'loyalty_reactor_checkpoints',
    eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: [...USING, ...RELEASING] },
    logger,
    handle,
  });

  return {
    port,
    create,
    list,
    disable,
    roi,
    sweepStranded,
    redemption: repository.redemption,
    start: reactor.start,
    stop: reactor.stop,
    onEnded(listener: (orderId: string, outcome: 'used' | 'released' | 'none') => void) {
      listeners.push(listener);
    },
  };
}

export type Coupons = ReturnType<typeof createCoupons>;
