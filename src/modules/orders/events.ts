/**
 * The order aggregate's vocabulary: statuses, commands and events as `{ type, data }` unions
 * (Emmett style). Events are JSON: instants are ISO strings, amounts are integer XAF numbers
 * (validated within the safe range when the order is created); the state holds bigint.
 */
import type { EventStore } from '../../eventstore/index.js';

export const ORDER_STATUSES = [
  'PENDING_PAYMENT',
  'PLACED',
  'PAYMENT_FAILED',
  'PAYMENT_EXPIRED',
  'ACCEPTED',
  'REJECTED',
  'CANCELLED',
  'PREPARING',
  'READY_FOR_PICKUP',
  'PICKED_UP',
  'DELIVERED',
  'COMPLETED',
  'DELIVERY_FAILED',
  'DISPUTED',
  'RESOLVED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'PAYMENT_FAILED',
  'PAYMENT_EXPIRED',
  'REJECTED',
  'CANCELLED',
  'COMPLETED',
  'RESOLVED',
]);

/** Who acts on an order, as the decider sees it (the route maps principals to this). */
export type ActorRole = 'customer' | 'restaurant' | 'driver' | 'support' | 'admin' | 'system';
export interface OrderActor {
  role: ActorRole;
  id: string;
}

export interface OrderLineModifier {
  groupId: string;
  optionId: string;
  name: string;
  priceDeltaMinor: number;
}

export interface OrderLine {
  itemId: string;
  name: string;
  quantity: number;
  unitPriceMinor: number;
  modifiers: OrderLineModifier[];
  lineTotalMinor: number;
}

export interface OrderPricingData {
  subtotalMinor: number;
  discountMinor: number;
  deliveryFeeMinor: number;
  taxMinor: number;
  tipMinor: number;
  totalMinor: number;
  distanceMetres: number;
  taxRatePercent: string;
}

export type PaymentMethod =
  { kind: 'wallet' } | { kind: 'mobile_money'; provider: 'MTN' | 'ORANGE'; phone: string };

export interface DeliveryAddress {
  latitude: number;
  longitude: number;
  text: string;
}

/** The time limits of this order, captured at creation so that replays never change meaning. */
export interface OrderPolicy {
  paymentTimeoutMinutes: number;
  acceptTimeoutMinutes: number;
  disputeWindowMinutes: number;
  trackingExpiryMinutes: number;
  /** Percent of (subtotal − discount) kept when the customer cancels an accepted order. */
  lateCancellationFeePercent: number;
  /**
   * Wrong delivery PINs allowed per order in any `deliveryPinLockMinutes`; at the limit even the
   * right PIN waits. Absent on orders created before the limit existed: the defaults apply.
   */
  deliveryPinMaxAttempts?: number;
  deliveryPinLockMinutes?: number;
  /**
   * The same lockout for the restaurant's pickup code (4 digits: guessable without visiting the
   * restaurant otherwise). Absent on orders created before it existed: the defaults apply.
   */
  pickupCodeMaxAttempts?: number;
  pickupCodeLockMinutes?: number;
  /**
   * A scheduled order reaches the kitchen's deadline this long before its time: the restaurant
   * has acceptTimeoutMinutes from then (or from payment, if later). Absent on orders created
   * before it existed: their timer starts at payment, scheduled or not.
   */
  scheduledReleaseMinutes?: number;
}

export interface OrderZone {
  cityId: string;
  zoneId: string | null;
  surgeXaf: number;
}

export interface OrderCreatedData {
  orderId: string;
  restaurantId: string;
  restaurantOwnerId: string;
  restaurantName: string;
  customer: { kind: 'user' | 'guest'; id: string };
  lines: OrderLine[];
  pricing: OrderPricingData;
  couponCode: string | null;
  /**
   * The coupon applied (its discount is pricing.discountMinor) and who funds it: `platform` (the
   * promotions expense pays it into the escrow at settlement) or `restaurant` (the restaurant's
   * share is computed on the food less the discount). Absent without a coupon.
   */
  coupon?: {
    id: string;
    fundedBy: 'platform' | 'restaurant';
    /**
     * The coupon's own part of pricing.discountMinor, exact XAF (the rest is points). Absent on
     * orders placed before coupons and points could stack: the whole discount is the coupon's.
     */
    discountMinor?: number;
    /** A coupon scoped to some dishes: the indexes of `lines` its discount was computed on. */
    lineIndexes?: number[];
  };
  /**
   * The automatic promotion applied instead of a coupon (points may go with it), funded the same
   * way. `discountMinor`: its own part of pricing.discountMinor (absent on orders placed before
   * points could go with a promotion: all of it); `lines`: an item or combo promotion's part per
   * line (indexes of `lines`), summing to `discountMinor`.
   */
  promotion?: {
    id: string;
    fundedBy: 'platform' | 'restaurant';
    kind?: string;
    discountMinor?: number;
    lines?: { index: number; discountMinor: number }[];
  };
  /**
   * A loyalty tier's free delivery (docs/loyalty.md, "Tier benefits"): the delivery fee, inside
   * pricing.discountMinor, paid by the platform (the settlement's `delivery_benefit` leg); one of
   * the customer's `tier` free deliveries of `period` (YYYY-MM, Cameroon time).
   */
  freeDelivery?: { tier: string; period: string; discountMinor: number };
  /** Loyalty points held for this order (their XAF value is in pricing.discountMinor); absent when none. */
  pointsUsed?: number;
  /** The points' XAF part of pricing.discountMinor (applied after a coupon, on the food left). */
  pointsDiscountMinor?: number;
  delivery: DeliveryAddress;
  /**
   * Where the delivery point lay in the city's zones at placement (issue #26): the restaurant's
   * city, the zone (null: the city has no zone there) and the surges in force in the fee (XAF).
   * Absent on orders placed before orders recorded it; zone statistics count only zoned orders.
   */
  zone?: OrderZone;
  /**
   * The commission rate of the restaurant's city in force at placement (its `commissionPercent`
   * rule as the ledger's rate, "0.125"), which the settlement charges unless the restaurant has an
   * override. Absent when the city sets none (the platform's tiers) and on older orders.
   */
  cityCommissionRate?: string;
  paymentMethod: PaymentMethod;
  scheduledFor: string | null;
  /** Half of the public tracking token (the other half is the order id); ≥ 128 random bits. */
  trackingSecret: string;
  /** The customer gives it to the driver at the door (DELIVERED). */
  deliveryPin: string;
  /** The restaurant gives it to the driver at the counter (PICKED_UP). */
  pickupCode: string;
  /** Minutes from placement to ready: the preparation model's prediction, or the stated time. */
  estimatedPreparationMinutes: number;
  /** Present when the model predicted it: the restaurant's stated time and the model's version. */
  preparationEstimate?: { statedMinutes: number; modelVersion: string };
  /** Stock taken from the catalog at placement (items with tracked stock only); given back if the order ends uncooked. */
  reservedStock: { itemId: string; quantity: number }[];
  policy: OrderPolicy;
  at: string;
}

/**
 * A remedy support decided on a ticket about the order (a refund by shares, or a goodwill
 * credit), recorded after support booked its transfers on the ledger: the money already moved,
 * so the order only counts it (its view, the restaurant's revenue report). Once per `remedyId`.
 */
export interface OrderRemedyData {
  remedyId: string;
  ticketId: string;
  kind: 'refund' | 'goodwill_credit';
  amountMinor: number;
  /** Who bore it: the three parts add up to amountMinor (a goodwill credit: the platform). */
  shares: { restaurantMinor: number; driverMinor: number; platformMinor: number };
  /** Where a refund went (`mobile_money`: the wallet, then the customer's withdrawal); null for a credit. */
  refundTo: 'wallet' | 'mobile_money' | null;
  by: OrderActor;
}

export type OrderEvent =
  | { type: 'OrderCreated'; data: OrderCreatedData }
  | { type: 'OrderPaymentCaptured'; data: { paymentId: string; amountMinor: number; at: string } }
  | { type: 'OrderPaymentFailed'; data: { reason: string; at: string } }
  | { type: 'OrderPaymentExpired'; data: { at: string } }
  | { type: 'OrderAccepted'; data: { by: OrderActor; preparationMinutes: number; at: string } }
  | {
      type: 'OrderRejected';
      data: { by: OrderActor; reason: string; automatic: boolean; refundMinor: number; at: string };
    }
  | {
      type: 'OrderCancelled';
      data: {
        by: OrderActor;
        reason: string;
        previousStatus: OrderStatus;
        refundMinor: number;
        cancellationFeeMinor: number;
        at: string;
      };
    }
  | { type: 'OrderPreparationStarted'; data: { by: OrderActor; at: string } }
  | { type: 'OrderReadyForPickup'; data: { by: OrderActor; at: string } }
  | { type: 'OrderDriverClaimed'; data: { driverId: string; at: string } }
  /** The claiming driver gave a wrong pickup code (kept: the lockout counts them, disputes read them). */
  | { type: 'OrderPickupCodeRejected'; data: { driverId: string; at: string } }
  | { type: 'OrderPickedUp'; data: { driverId: string; at: string } }
  | { type: 'OrderDelivered'; data: { driverId: string; at: string } }
  /** The claiming driver gave a wrong delivery PIN (kept: the lockout counts them, disputes read them). */
  | { type: 'OrderDeliveryPinRejected'; data: { driverId: string; at: string } }
  | { type: 'OrderDeliveryFailed'; data: { by: OrderActor; reason: string; at: string } }
  | { type: 'OrderDisputeOpened'; data: { by: OrderActor; reason: string; at: string } }
  | { type: 'OrderDisputeResolved'; data: { by: OrderActor; refundMinor: number; note: string; at: string } }
  | { type: 'OrderCompleted'; data: { at: string } }
  | { type: 'OrderRemedyRecorded'; data: OrderRemedyData & { at: string } };

export type OrderEventType = OrderEvent['type'];
export const ORDER_EVENT_TYPES: readonly OrderEventType[] = [
  'OrderCreated',
  'OrderPaymentCaptured',
  'OrderPaymentFailed',
  'OrderPaymentExpired',
  'OrderAccepted',
  'OrderRejected',
  'OrderCancelled',
  'OrderPreparationStarted',
  'OrderReadyForPickup',
  'OrderDriverClaimed',
  'OrderPickupCodeRejected',
  'OrderPickedUp',
  'OrderDelivered',
  'OrderDeliveryPinRejected',
  'OrderDeliveryFailed',
  'OrderDisputeOpened',
  'OrderDisputeResolved',
  'OrderCompleted',
  'OrderRemedyRecorded',
];

export type OrderCommand =
  | { type: 'CreateOrder'; data: OrderCreatedData }
  | { type: 'CapturePayment'; data: { paymentId: string; amountMinor: number; at: Date } }
  | { type: 'FailPayment'; data: { reason: string; at: Date } }
  /** Scheduled: the payment deadline passed. `now` is the scheduler's clock. */
  | { type: 'ExpirePayment'; data: { now: Date } }
  | { type: 'AcceptOrder'; data: { by: OrderActor; preparationMinutes: number; at: Date } }
  | { type: 'RejectOrder'; data: { by: OrderActor; reason: string; at: Date } }
  /** Scheduled: the restaurant did not answer within the policy's acceptTimeoutMinutes. */
  | { type: 'RejectUnanswered'; data: { now: Date } }
  | { type: 'CancelOrder'; data: { by: OrderActor; reason: string; at: Date } }
  | { type: 'StartPreparing'; data: { by: OrderActor; at: Date } }
  | { type: 'MarkReady'; data: { by: OrderActor; at: Date } }
  | { type: 'ClaimOrder'; data: { driverId: string; at: Date } }
  | { type: 'PickUpOrder'; data: { driverId: string; pickupCode: string; at: Date } }
  | { type: 'DeliverOrder'; data: { driverId: string; deliveryPin: string; at: Date } }
  | { type: 'FailDelivery'; data: { by: OrderActor; reason: string; at: Date } }
  | { type: 'OpenDispute'; data: { by: OrderActor; reason: string; at: Date } }
  | { type: 'ResolveDispute'; data: { by: OrderActor; refundMinor: number; note: string; at: Date } }
  /** Scheduled: the dispute window after delivery closed. */
  | { type: 'CompleteOrder'; data: { now: Date } }
  /** Support's remedy, already booked on the ledger: recorded once, in any status. */
  | { type: 'RecordRemedy'; data: OrderRemedyData & { at: Date } };

export type OrderCommandType = OrderCommand['type'];

export const orderStream = (orderId: string): string => `order-${orderId}`;
export const ORDER_STREAM_PREFIX = 'order-';

/** Whether the order was ever appended (asked of the event store, whichever adapter holds it). */
export async function orderStreamExists(
  eventStore: Pick<EventStore, 'readStream'>,
  orderId: string,
): Promise<boolean> {
  return (
    (await eventStore.readStream(orderStream(orderId), { maxCount: 1, missingAsEmpty: true })).length > 0
  );
}
