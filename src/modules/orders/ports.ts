/**
 * What the orders context needs from others, as narrow interfaces (ports). The catalog's
 * implementation is `services.catalog.orders`; payments (issue 8) will provide the real
 * PaymentPort; coupons are a hook with a default that knows no code (loyalty implements it).
 */
import type { CatalogOrdersApi } from '../catalog/index.js';
import type { OrderPricingData, PaymentMethod } from './events.js';
import type { Discount } from './pricing.js';

export type CatalogPort = Pick<
  CatalogOrdersApi,
  'readOrderSnapshot' | 'decrementStock' | 'restoreStock' | 'deliveryTerms' | 'restaurantTerms'
>;

export interface PaymentRequest {
  orderId: string;
  payerId: string;
  amountMinor: bigint;
  currency: 'XAF';
  method: PaymentMethod;
  /** The same key for a retry of the same order's payment: providers must not charge twice. */
  idempotencyKey: string;
  /**
   * The order's price breakdown as recorded in OrderCreated (it sums to amountMinor): a wallet
   * payment books food, delivery and tips apart. Absent, the port reads it from the order.
   */
  pricing?: Omit<OrderPricingData, 'distanceMetres' | 'taxRatePercent'>;
  /** The order was created by this very request: no payment can have been requested for it yet. */
  firstAttempt?: boolean;
}

/**
 * Authorize and capture the order's total into escrow (wallet debit or Mobile Money collection).
 * `captured` and `failed` are final; `pending` means the provider answers later (a Mobile Money
 * push waiting for the customer's PIN) and the payments context then calls
 * `orders.recordPaymentOutcome(orderId, outcome)`. Refunds follow the refundMinor carried by
 * OrderRejected / OrderCancelled / OrderDisputeResolved events (payments reacts to them).
 */
export type PaymentOutcome =
  | { status: 'captured'; paymentId: string; amountMinor: bigint }
  | { status: 'failed'; reason: string }
  | { status: 'pending'; paymentId: string };

/** Why a payment method cannot be used (checked before the order exists). */
export interface PaymentMethodProblem {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** A Mobile Money payment an order waits for, as its customer needs to see it. */
export interface OrderPaymentProgress {
  paymentId: string;
  /** The payment attempt's status (PENDING until the customer approves on the phone). */
  status: string;
  /** The code the customer dials to approve, when the provider gave one. */
  ussdCode: string | null;
  /** When the attempt stops waiting. */
  expiresAt: string | null;
}

export interface PaymentPort {
  readonly name: string;
  /**
   * The Mobile Money payment placement started for this order (same payer and key as its
   * PaymentRequest); undefined when there is none. Optional: a port without it shows no progress.
   */
  paymentOf?(
    request: Pick<PaymentRequest, 'orderId' | 'payerId' | 'idempotencyKey'>,
  ): Promise<OrderPaymentProgress | undefined>;
  /** Refuses a method that cannot work (e.g. a number of another operator) before placement; optional. */
  checkMethod?(method: PaymentMethod): PaymentMethodProblem | undefined;
  /**
   * Throws a DomainError of kind `unavailable` or `bad_gateway` when no provider could take a
   * Mobile Money payment: the order then fails with that code and the error reaches the client.
   */
  authorizeAndCapture(request: PaymentRequest): Promise<PaymentOutcome>;
}

export interface CouponContext {
  restaurantId: string;
  customerId: string;
  subtotalMinor: bigint;
  at: Date;
}

/** An order line as a coupon's scope sees it (the order's lines, in their order). */
export interface CouponScopeLine {
  itemId: string;
  categoryId: string | null;
  lineTotalMinor: bigint;
}

/** What a code's scope needs beyond the amounts: the restaurant's city, the lines, a first order. */
export interface CouponScopeContext extends CouponContext {
  /** The restaurant's city as the catalog stores it (free text today). */
  restaurantCity: string | null;
  lines: readonly CouponScopeLine[];
  /** Whether this is the customer's first order (no other order placed, paid or under way); one read, asked only when a coupon needs it. */
  firstOrder: () => Promise<boolean>;
}

/** Who pays a coupon's discount: the platform (promotions expense) or the restaurant (its share). */
export type DiscountFunder = 'platform' | 'restaurant';

export type CouponResult =
  | {
      valid: true;
      discount: Discount;
      couponId: string;
      fundedBy: DiscountFunder;
      /** The lines the discount applies to (on their total only); null: the whole food subtotal. */
      lineIndexes: number[] | null;
    }
  | { valid: false; reason: string; code?: CouponRefusalCode };

/** A coupon's use, reserved at placement for an order that is about to exist. */
export interface CouponReservation {
  couponId: string;
  orderId: string;
  customerId: string;
  restaurantId: string;
  /** The order's exact discount and amounts (for the campaign's figures). */
  discountMinor: bigint;
  subtotalMinor: bigint;
  totalMinor: bigint;
  at: Date;
}

/** Why a coupon cannot be used: it does not apply, its total cap, or the customer's cap. */
export type CouponRefusalCode = 'coupon_invalid' | 'coupon_exhausted' | 'coupon_customer_limit';

export type CouponReserveResult =
  | { reserved: true }
  | {
      reserved: false;
      code: CouponRefusalCode;
      reason: string;
    };

/**
 * The coupon hook: resolves a code to a discount or a refusal (`evaluate`, at the quote), then
 * reserves one use for the order at placement (`reserve`, race-safe: the caps hold under
 * concurrent orders; idempotent by order). The implementer ends the reservation from the order's
 * events (used at delivery, released when the order fails or is cancelled).
 */
export interface CouponPort {
  evaluate(code: string, context: CouponScopeContext): Promise<CouponResult>;
  reserve(reservation: CouponReservation): Promise<CouponReserveResult>;
  /**
   * Gives the order's reservation back when its order will not be appended (points refused
   * after the coupon was reserved); does nothing once the order exists. Optional: without it the
   * implementer's stranded sweep releases it later.
   */
  releaseUnplaced?(orderId: string): Promise<void>;
  /**
   * The automatic promotion (no code) an order without a coupon or points gets, if any: the
   * largest that runs now for this restaurant. Optional: without it, no promotions.
   */
  automatic?(context: PromotionContext): Promise<AutomaticDiscount | undefined>;
}

export interface PromotionContext extends CouponContext {
  deliveryFeeMinor: bigint;
  /** The order's lines (item, quantity, line total), for item, "buy X get Y" and combo promotions. */
  lines: readonly { itemId: string; quantity: number; lineTotalMinor: bigint }[];
}

export interface AutomaticDiscount {
  promotionId: string;
  fundedBy: DiscountFunder;
  /** The promotion's kind (percent, fixed, free_delivery, buy_get, combo), as the order records it. */
  kind?: string;
  discount: Discount;
  /** An item or combo promotion: its part on each line (indexes of the order's lines), summing to the discount. */
  lines?: readonly { index: number; discountMinor: bigint }[];
}

/**
 * Loyalty points at checkout (implemented by the loyalty context; orders never imports it). Points
 * are a platform-funded discount: the order's `discountMinor` includes them, and settlement pays it
 * into the escrow from the promotions expense.
 */
export interface PointsPort {
  /** What the customer may spend now (0 for a guest or a customer without points). */
  available(customerId: string): Promise<bigint>;
  /**
   * Holds the points for this order on the ledger (idempotent by order: a retry answers the same
   * hold); false when the balance is short (nothing held). Posted at payment, voided or given
   * back when the order fails or is cancelled (loyalty's reactor follows the order's events).
   */
  hold(orderId: string, customerId: string, points: bigint): Promise<boolean>;
  /**
   * The customer's tier free delivery, when one is left this month (advisory, at the quote;
   * `orderId`: a keyed retry's own reservation does not count). Optional: without it, none.
   */
  freeDelivery?(
    customerId: string,
    at: Date,
    orderId?: string,
  ): Promise<{ tier: string; period: string } | undefined>;
  /** Takes it for the order at placement (race-safe, idempotent by order); false when none is left. */
  reserveFreeDelivery?(reservation: FreeDeliveryReservation): Promise<boolean>;
  /** Gives it back when the order will not be appended (placement refused after it). */
  releaseFreeDelivery?(orderId: string): Promise<void>;
}

export interface FreeDeliveryReservation {
  orderId: string;
  customerId: string;
  tier: string;
  period: string;
  discountMinor: bigint;
}

export interface PointsRules {
  /** XAF one point is worth at checkout. */
  valueXaf: bigint;
  /** The share of the food subtotal points may pay, in percent. */
  maxSharePercent: bigint;
}

export const noPoints: PointsPort = {
  async available() {
    return 0n;
  },
  async hold() {
    return false;
  },
};

export const noCoupons: CouponPort = {
  async evaluate() {
    return { valid: false, reason: 'unknown coupon code' };
  },
  async reserve() {
    return { reserved: false, code: 'coupon_invalid', reason: 'unknown coupon code' };
  },
};

/** A driver's last accepted position, as the public tracking view shows it. */
export interface DriverPosition {
  latitude: number;
  longitude: number;
  recordedAt: string;
  heading: number | null;
}

/**
 * Where a driver is (dispatch implements it): the public tracking view shows the position while
 * the order is PICKED_UP, and nothing otherwise.
 */
export interface DriverPositionPort {
  lastPosition(driverId: string): Promise<DriverPosition | undefined>;
}

/**
 * The proof a driver hands over with a delivery (dispatch implements it over the files context):
 * the delivery photo (required unless DISPATCH_DELIVERY_PHOTO_REQUIRED is false) and an optional
 * signature, each a clean file of that purpose for this order uploaded by this driver. Throws a
 * 422 problem when the proof is missing or not this order's; resolves when the delivery may go on.
 */
export interface DeliveryProofPort {
  checkDelivery(
    orderId: string,
    driverId: string,
    proof: { photoFileId?: string | undefined; signatureFileId?: string | undefined },
  ): Promise<void>;
}

/** An order a driver has claimed and not handed over yet, with who follows it. */
export interface CarriedOrder {
  orderId: string;
  status: 'ACCEPTED' | 'PREPARING' | 'READY_FOR_PICKUP' | 'PICKED_UP';
  customerId: string;
  restaurantOwnerId: string;
}

/** What orders tells dispatch of a driver's orders (read from the orders projection). */
export interface DriverOrdersLookup {
  carriedBy(driverId: string): Promise<CarriedOrder[]>;
  /** The same for many drivers in one query (every id answered, [] when none); optional. */
  carriedByMany?(driverIds: readonly string[]): Promise<Map<string, CarriedOrder[]>>;
  /**
   * The ids of the orders the driver delivered within [from, to) (at most `limit`, newest first):
   * dispatch's performance asks support about complaints on them.
   */
  deliveredBy(driverId: string, from: Date, to: Date, limit: number): Promise<string[]>;
}

/** The preparation time a model predicts for an order about to be placed (issue #24). */
export interface PreparationEstimate {
  /** Whole minutes from placement to ready for pickup. */
  minutes: number;
  modelVersion: string;
}

/**
 * Predicts an order's preparation time from the restaurant's current load and history
 * (implemented by recommendations). Must answer from memory, never reading a database in the
 * placement path; undefined (no model, no history read yet) keeps the restaurant's stated time.
 */
export interface PreparationPort {
  estimate(query: {
    restaurantId: string;
    statedMinutes: number;
    items: number;
    at: Date;
    /** The restaurant's place: the weather there is one of the model's features. */
    place?: { latitude: number; longitude: number };
  }): Promise<PreparationEstimate | undefined>;
}

/**
 * Which orders a support agent may see (support implements it, built after orders: a `later`
 * need): supervisors and admins every order, a plain agent only the orders their tickets name.
 */
export interface SupportOrderAccessPort {
  mayView(viewer: { userId: string; permissions: ReadonlySet<string> }, orderId: string): Promise<boolean>;
  /** `all`, or the ids of the orders the viewer's tickets name (a bounded list). */
  visibleOrders(viewer: { userId: string; permissions: ReadonlySet<string> }): Promise<'all' | string[]>;
}
