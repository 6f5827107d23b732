/**
 * Pricing an order at placement: the catalog's snapshot at the moment that counts (now, or the
 * scheduled time), the delivery rule, the coupon, the price, and the OrderCreated data.
 */
import { randomInt } from 'node:crypto';
import type { DeliveryTerms, OrderSnapshot } from '../catalog/index.js';
import { ordersErrors } from './errors.js';
import type { OrderCreatedData, OrderPolicy, PaymentMethod } from './events.js';
import type { Logger } from 'pino';
import type {
  CatalogPort,
  CouponPort,
  DiscountFunder,
  PointsPort,
  PointsRules,
  PreparationEstimate,
  PreparationPort,
} from './ports.js';
import { deliveryFeeMinor, priceOrder, PricingError, stackedDiscount, type Discount } from './pricing.js';
import { newTrackingSecret } from './tracking-token.js';

/**
 * The catalog's delivery rule (src/modules/catalog/orders-api.ts checkDelivery) applied to the
 * restaurant the snapshot already loaded: one query fewer per order. Great-circle metres, rounded.
 */
export function deliveryCheck(
  restaurant: OrderSnapshot['restaurant'],
  point: { latitude: number; longitude: number },
) {
  const distanceM = Math.round(haversineMetres(point, restaurant.location));
  const reason = !restaurant.active
    ? 'not_active'
    : !restaurant.openAt
      ? 'closed'
      : distanceM > restaurant.deliveryRadiusM
        ? 'outside_radius'
        : undefined;
  return {
    deliverable: reason === undefined,
    reason,
    distanceM,
    deliveryRadiusM: restaurant.deliveryRadiusM,
  };
}

const EARTH_RADIUS_M = 6_371_000;
function haversineMetres(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const radians = (degrees: number) => (degrees * Math.PI) / 180;
  const h =
    Math.sin(radians(b.latitude - a.latitude) / 2) ** 2 +
    Math.cos(radians(a.latitude)) *
      Math.cos(radians(b.latitude)) *
      Math.sin(radians(b.longitude - a.longitude) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** How far ahead a scheduled order may be (ORDER_SCHEDULE_MIN_LEAD_MINUTES, ORDER_SCHEDULE_MAX_DAYS). */
export interface ScheduleWindow {
  minLeadMinutes: number;
  maxDays: number;
}
export const DEFAULT_SCHEDULE_WINDOW: ScheduleWindow = { minLeadMinutes: 30, maxDays: 7 };

export interface PlaceOrderInput {
  restaurantId: string;
  items: { itemId: string; quantity: number; optionIds?: string[] }[];
  delivery: { latitude: number; longitude: number; text: string };
  payment: PaymentMethod;
  tipMinor: number;
  couponCode?: string;
  usePoints?: number;
  scheduledFor?: string;
}

/** The coupon or promotion an order applies, as OrderCreated records it. */
export interface AppliedCoupon {
  id: string;
  fundedBy: DiscountFunder;
  /** A coupon's own part of the order's discount (points are the rest), exact XAF. */
  discountMinor?: number;
  /** A coupon scoped to some dishes: the indexes of the order's lines it applied to. */
  lineIndexes?: number[];
}

/** The automatic promotion an order applies, as OrderCreated records it. */
export interface AppliedPromotion {
  id: string;
  fundedBy: DiscountFunder;
  kind?: string;
  /** The promotion's own part of the order's discount (points are the rest), exact XAF. */
  discountMinor: number;
  /** An item or combo promotion: its part on each line. */
  lines?: { index: number; discountMinor: number }[];
}

/** A loyalty tier's free delivery: the waived delivery fee, one of the month's. */
export interface AppliedFreeDelivery {
  tier: string;
  period: string;
  discountMinor: number;
}

/** The catalog's refusal of a delivery (its city's or zone's rules) as the order's problem code. */
const REFUSAL_CODES: Record<NonNullable<DeliveryTerms['refusal']>, string> = {
  city_inactive: 'city_service_closed',
  service_closed: 'city_service_closed',
  outside_service_hours: 'outside_service_hours',
  outside_zones: 'outside_delivery_zone',
  zone_not_served: 'outside_delivery_zone',
};

/**
 * The city's and zone's rules at the delivery point (catalog's delivery terms, the one place
 * that decides them): a refusal, the city's distance cap, or a subtotal under the city's minimum
 * is a 422 that places nothing.
 */
export function checkDeliveryTerms(
  terms: DeliveryTerms & { restaurantRefusal?: 'outside_restaurant_zones' | 'outside_restaurant_area' },
  distanceM: number,
  subtotalMinor: bigint,
  /** The restaurant's own delivery zones (issue #26); null: its radius alone. */
  deliveryZones: readonly string[] | null = null,
): void {
  if (terms.refusal !== undefined)
    throw ordersErrors.of(
      'unprocessable',
      REFUSAL_CODES[terms.refusal],
      `We do not deliver there now (${terms.refusal}).`,
      { details: { city: terms.cityId, zone: terms.zoneId, reason: terms.refusal } },
    );
  if (terms.restaurantRefusal === 'outside_restaurant_area')
    throw ordersErrors.of(
      'unprocessable',
      'outside_delivery_zone',
      'The restaurant does not deliver to this point (outside its own delivery area).',
      { details: { city: terms.cityId, zone: terms.zoneId, reason: 'outside_restaurant_area' } },
    );
  if (deliveryZones !== null && (terms.zoneId === null || !deliveryZones.includes(terms.zoneId)))
    throw ordersErrors.of(
      'unprocessable',
      'outside_delivery_zone',
      'The restaurant does not deliver to this zone.',
      {
        details: {
          city: terms.cityId,
          zone: terms.zoneId,
          reason: 'outside_restaurant_zones',
          restaurantZones: deliveryZones,
        },
      },
    );
  if (terms.maxDeliveryDistanceM !== null && distanceM > terms.maxDeliveryDistanceM)
    throw ordersErrors.of(
      'unprocessable',
      'outside_delivery_radius',
      `The restaurant is too far for a delivery in this city (${terms.maxDeliveryDistanceM} m at most).`,
      { details: { distanceMetres: distanceM, deliveryRadiusMetres: terms.maxDeliveryDistanceM } },
    );
  if (subtotalMinor < BigInt(terms.minimumOrderXaf))
    throw ordersErrors.of(
      'unprocessable',
      'below_minimum_order',
      `An order in this city is at least ${terms.minimumOrderXaf} XAF of food.`,
      { details: { minimumOrderXaf: terms.minimumOrderXaf, subtotalXaf: Number(subtotalMinor) } },
    );
}

const digits = (count: number) => Array.from({ length: count }, () => String(randomInt(0, 10))).join('');

export interface OrderQuoteDependencies {
  catalog: CatalogPort;
  coupons: CouponPort;
  points: () => PointsPort;
  /** The preparation-time model; undefined: the stated time. */
  preparation: () => PreparationPort | undefined;
  logger: Logger;
  pointsRules: PointsRules;
  taxRatePercent: string;
  policy: OrderPolicy;
  schedule: ScheduleWindow;
  /** Whether the customer has no other order placed, paid or under way (a first-order coupon asks). */
  firstOrder: (customerId: string, exceptOrderId: string | undefined) => Promise<boolean>;
}

export type OrderQuote = ReturnType<typeof createOrderQuote>;
export type Quoted = Awaited<ReturnType<OrderQuote['quote']>>;

export function createOrderQuote(deps: OrderQuoteDependencies) {
  const { catalog, policy, schedule } = deps;

  /**
   * The order's discounts, in their order of application (docs/loyalty.md, "Order of
   * application"): 1. the offer, a coupon (on its lines) or else the automatic promotion (on the
   * food or its lines); 2. points on the food the offer left; 3. a loyalty tier's free delivery
   * on the delivery fee (not when a free-delivery promotion already gave the fee).
   */
  async function resolveDiscount(
    input: PlaceOrderInput,
    order: { customerId: string; orderId: string | undefined; at: Date; deliveryFee: bigint },
    snapshot: OrderSnapshot,
    subtotalMinor: bigint,
  ): Promise<{
    discount: Discount;
    coupon?: AppliedCoupon;
    promotion?: AppliedPromotion;
    pointsDiscountMinor?: bigint;
    freeDelivery?: AppliedFreeDelivery;
  }> {
    const offer = await resolveOffer(input, order, snapshot, subtotalMinor);
    const offerBaseMinor =
      offer.lineIndexes === undefined
        ? subtotalMinor
        : offer.lineIndexes.reduce((sum, index) => sum + snapshot.lines[index]!.linePrice, 0n);
    let stacked = stackedDiscount({ subtotalMinor, offer: offer.discount, offerBaseMinor, pointsMinor: 0n });
    if (input.usePoints !== undefined) {
      const pointsMinor = await pointsDiscount(input.usePoints, order, subtotalMinor - stacked.offerMinor);
      stacked = stackedDiscount({ subtotalMinor, offer: offer.discount, offerBaseMinor, pointsMinor });
    }
    const discount: Discount =
      stacked.totalMinor === 0n ? { kind: 'none' } : { kind: 'fixed', amountMinor: stacked.totalMinor };
    const freeDelivery =
      offer.promotion?.kind === 'free_delivery' ? undefined : await tierFreeDelivery(order);
    return {
      discount,
      ...(offer.coupon === undefined
        ? {}
        : {
            coupon: {
              ...offer.coupon,
              discountMinor: Number(stacked.offerMinor),
              ...(offer.lineIndexes === undefined ? {} : { lineIndexes: offer.lineIndexes }),
            },
          }),
      ...(offer.promotion === undefined
        ? {}
        : { promotion: { ...offer.promotion, discountMinor: Number(stacked.offerMinor) } }),
      ...(input.usePoints === undefined ? {} : { pointsDiscountMinor: stacked.pointsMinor }),
      ...(freeDelivery === undefined ? {} : { freeDelivery }),
    };
  }

  /** The customer's tier free delivery, when the points port offers one and one is left this month. */
  async function tierFreeDelivery(order: {
    customerId: string;
    orderId: string | undefined;
    at: Date;
    deliveryFee: bigint;
  }): Promise<AppliedFreeDelivery | undefined> {
    const port = deps.points();
    if (port.freeDelivery === undefined || order.deliveryFee === 0n) return undefined;
    const benefit = await port.freeDelivery(order.customerId, order.at, order.orderId);
    if (benefit === undefined) return undefined;
    return { ...benefit, discountMinor: Number(order.deliveryFee) };
  }

  /** The coupon of the code, or (no code) the largest automatic promotion. */
  async function resolveOffer(
    input: PlaceOrderInput,
    order: { customerId: string; orderId: string | undefined; at: Date; deliveryFee: bigint },
    snapshot: OrderSnapshot,
    subtotalMinor: bigint,
  ): Promise<{
    discount: Discount;
    coupon?: AppliedCoupon;
    promotion?: Omit<AppliedPromotion, 'discountMinor'>;
    lineIndexes?: number[];
  }> {
    const context = {
      restaurantId: input.restaurantId,
      customerId: order.customerId,
      subtotalMinor,
      at: order.at,
    };
    if (input.couponCode === undefined) {
      const automatic = await deps.coupons.automatic?.({
        ...context,
        deliveryFeeMinor: order.deliveryFee,
        lines: snapshot.lines.map((line) => ({
          itemId: line.itemId,
          quantity: line.quantity,
          lineTotalMinor: line.linePrice,
        })),
      });
      if (automatic === undefined) return { discount: { kind: 'none' } };
      const lines = automatic.lines?.map((line) => ({
        index: line.index,
        discountMinor: Number(line.discountMinor),
      }));
      return {
        discount: automatic.discount,
        promotion: {
          id: automatic.promotionId,
          fundedBy: automatic.fundedBy,
          ...(automatic.kind === undefined ? {} : { kind: automatic.kind }),
          ...(lines === undefined ? {} : { lines }),
        },
        ...(lines === undefined ? {} : { lineIndexes: lines.map((line) => line.index) }),
      };
    }
    const result = await deps.coupons.evaluate(input.couponCode, {
      ...context,
      restaurantCity: snapshot.restaurant.city,
      lines: snapshot.lines.map((line) => ({
        itemId: line.itemId,
        categoryId: line.categoryId,
        lineTotalMinor: line.linePrice,
      })),
      firstOrder: () => deps.firstOrder(order.customerId, order.orderId),
    });
    if (!result.valid)
      throw ordersErrors.of(
        'unprocessable',
        result.code ?? 'coupon_invalid',
        `The coupon cannot be used: ${result.reason}.`,
      );
    return {
      discount: result.discount,
      coupon: { id: result.couponId, fundedBy: result.fundedBy },
      ...(result.lineIndexes === null ? {} : { lineIndexes: result.lineIndexes }),
    };
  }

  /** Points as a fixed amount on the food left after a coupon: within the cap, within the balance. */
  async function pointsDiscount(
    usePoints: number,
    order: { customerId: string; orderId: string | undefined },
    foodLeftMinor: bigint,
  ): Promise<bigint> {
    const { valueXaf, maxSharePercent } = deps.pointsRules;
    const maxPoints = (foodLeftMinor * maxSharePercent) / 100n / valueXaf;
    const points = BigInt(usePoints);
    if (points > maxPoints)
      throw ordersErrors.of(
        'unprocessable',
        'points_over_cap',
        `Points may pay at most ${maxSharePercent} % of the food (after a coupon): ${maxPoints} points for this order.`,
        { details: { maxPoints: Number(maxPoints) } },
      );
    const available = await deps.points().available(order.customerId);
    // A keyed order (Idempotency-Key) may be a retry whose first attempt held these very points
    // and stopped before appending: the available balance no longer counts them, so the hold
    // decides (the ledger answers that order's own hold `exists`, or refuses a short balance).
    if (points > available && order.orderId === undefined)
      throw ordersErrors.of('unprocessable', 'points_insufficient', 'You do not have that many points.', {
        details: { available: Number(available) },
      });
    return points * valueXaf;
  }

  function checkSchedule(scheduledFor: string | undefined, current: Date): Date {
    if (scheduledFor === undefined) return current;
    const instant = new Date(scheduledFor);
    const lead = instant.getTime() - current.getTime();
    if (
      Number.isNaN(lead) ||
      lead < schedule.minLeadMinutes * 60_000 ||
      lead > schedule.maxDays * 86_400_000
    ) {
      throw ordersErrors.of(
        'unprocessable',
        'invalid_schedule',
        `A scheduled order is ${schedule.minLeadMinutes} minutes to ${schedule.maxDays} days ahead.`,
      );
    }
    return instant;
  }

  /** Reads the catalog at the moment that counts and prices the order; throws a 4xx problem when it cannot be placed. */
  /** `orderId`: a keyed placement's order id (a retry may find its own coupon and points held). */
  async function quote(input: PlaceOrderInput, customerId: string, current: Date, orderId?: string) {
    const at = checkSchedule(input.scheduledFor, current);
    const point = { latitude: input.delivery.latitude, longitude: input.delivery.longitude };
    const snapshot = await catalog.readOrderSnapshot(input.restaurantId, input.items, at);
    if (snapshot === undefined)
      throw ordersErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
    const delivery = deliveryCheck(snapshot.restaurant, point);
    if (!delivery.deliverable) {
      const code =
        delivery.reason === 'outside_radius'
          ? 'outside_delivery_radius'
          : delivery.reason === 'closed'
            ? 'restaurant_closed'
            : 'restaurant_not_active';
      throw ordersErrors.of(
        'unprocessable',
        code,
        `The restaurant cannot deliver this order (${delivery.reason}).`,
        { details: { distanceMetres: delivery.distanceM, deliveryRadiusMetres: delivery.deliveryRadiusM } },
      );
    }
    if (!snapshot.orderable) {
      const lines = snapshot.lines
        .filter((line) => !line.availability.orderable)
        .map((line) => ({
          itemId: line.itemId,
          reason: line.availability.orderable ? 'ok' : line.availability.reason,
          problems: line.problems,
        }));
      throw ordersErrors.of('unprocessable', 'items_unavailable', 'Some items cannot be ordered now.', {
        details: { lines },
      });
    }
    const subtotal = snapshot.lines.reduce((sum, line) => sum + line.linePrice, 0n);
    // The catalog's one place: the city's and zone's terms with the restaurant's own area applied.
    const terms = await catalog.restaurantTerms(snapshot.restaurant, point, at);
    // The restaurant's city is a foreign key: a missing city is a broken invariant, not a refusal.
    if (terms === undefined) throw new Error(`restaurant ${snapshot.restaurant.id} names an unknown city`);
    checkDeliveryTerms(terms, delivery.distanceM, subtotal, snapshot.restaurant.deliveryZones);
    const taxRatePercent = terms.taxRatePercent ?? deps.taxRatePercent;
    try {
      const deliveryFee = deliveryFeeMinor(delivery.distanceM, terms.fee);
      const { discount, coupon, promotion, pointsDiscountMinor, freeDelivery } = await resolveDiscount(
        input,
        { customerId, orderId, at: current, deliveryFee },
        snapshot,
        subtotal,
      );
      const pricing = priceOrder({
        lines: snapshot.lines.map((line) => ({
          quantity: line.quantity,
          unitPriceMinor: line.itemPrice,
          modifiers: line.options.map((option) => ({ priceDeltaMinor: option.priceDelta })),
        })),
        distanceMetres: delivery.distanceM,
        deliveryFee: terms.fee,
        taxRatePercent,
        tipMinor: BigInt(input.tipMinor),
        discount,
        ...(freeDelivery === undefined ? {} : { deliveryDiscountMinor: BigInt(freeDelivery.discountMinor) }),
      });
      return {
        snapshot,
        delivery: { ...delivery, zoneId: terms.zoneId },
        zone: { cityId: terms.cityId, zoneId: terms.zoneId, surgeXaf: terms.surgeXaf },
        cityCommissionRate: terms.commissionRate,
        pricing,
        taxRatePercent,
        at,
        coupon,
        promotion,
        pointsDiscountMinor,
        freeDelivery,
      };
    } catch (error) {
      if (error instanceof PricingError)
        throw ordersErrors.of('unprocessable', 'invalid_order', error.message);
      throw error;
    }
  }

  /** The restaurant's stated time: its own, or a slower dish's. */
  function statedPreparation(snapshot: Quoted['snapshot']): number {
    return Math.max(
      snapshot.restaurant.prepTimeMinutes,
      ...snapshot.lines.map((line) => line.prepTimeMinutes ?? 0),
    );
  }

  /**
   * The model's preparation time for this order, or undefined (no model, no history yet, or the
   * model failed: placement never fails because of it, the stated time is used).
   */
  async function preparationEstimate(
    quoted: Quoted,
    current: Date,
  ): Promise<PreparationEstimate | undefined> {
    try {
      const port = deps.preparation();
      if (port === undefined) return undefined;
      return await port.estimate({
        restaurantId: quoted.snapshot.restaurant.id,
        statedMinutes: statedPreparation(quoted.snapshot),
        items: quoted.snapshot.lines.reduce((sum, line) => sum + line.quantity, 0),
        at: current,
        place: quoted.snapshot.restaurant.location,
      });
    } catch (error) {
      deps.logger.warn({ err: error }, 'orders: preparation estimate failed, the stated time is used');
      return undefined;
    }
  }

  function creationData(
    orderId: string,
    input: PlaceOrderInput,
    customer: OrderCreatedData['customer'],
    quoted: Quoted,
    current: Date,
    estimate?: PreparationEstimate,
  ): OrderCreatedData {
    const { snapshot, pricing, delivery } = quoted;
    const lines = snapshot.lines.map((line, index) => ({
      itemId: line.itemId,
      name: line.name.fr,
      quantity: line.quantity,
      unitPriceMinor: Number(line.itemPrice),
      modifiers: line.options.map((option) => ({
        groupId: option.groupId,
        optionId: option.optionId,
        name: option.name.fr,
        priceDeltaMinor: Number(option.priceDelta),
      })),
      lineTotalMinor: Number(pricing.lineTotalsMinor[index]!),
    }));
    const stated = statedPreparation(snapshot);
    return {
      orderId,
      restaurantId: snapshot.restaurant.id,
      restaurantOwnerId: snapshot.restaurant.ownerId,
      restaurantName: snapshot.restaurant.name,
      customer,
      lines,
      pricing: {
        subtotalMinor: Number(pricing.subtotalMinor),
        discountMinor: Number(pricing.discountMinor),
        deliveryFeeMinor: Number(pricing.deliveryFeeMinor),
        taxMinor: Number(pricing.taxMinor),
        tipMinor: Number(pricing.tipMinor),
        totalMinor: Number(pricing.totalMinor),
        distanceMetres: delivery.distanceM,
        taxRatePercent: quoted.taxRatePercent,
      },
      couponCode: input.couponCode ?? null,
      ...(quoted.coupon === undefined ? {} : { coupon: quoted.coupon }),
      ...(quoted.promotion === undefined ? {} : { promotion: quoted.promotion }),
      ...(quoted.freeDelivery === undefined ? {} : { freeDelivery: quoted.freeDelivery }),
      ...(input.usePoints === undefined
        ? {}
        : { pointsUsed: input.usePoints, pointsDiscountMinor: Number(quoted.pointsDiscountMinor ?? 0n) }),
      delivery: {
        latitude: input.delivery.latitude,
        longitude: input.delivery.longitude,
        text: input.delivery.text.trim(),
      },
      zone: quoted.zone,
      ...(quoted.cityCommissionRate === null ? {} : { cityCommissionRate: quoted.cityCommissionRate }),
      paymentMethod: input.payment,
      scheduledFor: input.scheduledFor === undefined ? null : quoted.at.toISOString(),
      trackingSecret: newTrackingSecret(),
      deliveryPin: digits(4),
      pickupCode: digits(4),
      estimatedPreparationMinutes: estimate?.minutes ?? stated,
      ...(estimate === undefined
        ? {}
        : { preparationEstimate: { statedMinutes: stated, modelVersion: estimate.modelVersion } }),
      reservedStock: snapshot.lines
        .filter((line) => line.stock !== null)
        .map((line) => ({ itemId: line.itemId, quantity: line.quantity })),
      policy,
      at: current.toISOString(),
    };
  }

  return { quote, creationData, preparationEstimate };
}
