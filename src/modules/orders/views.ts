/**
 * What each reader sees of an order (pure). The customer sees the delivery PIN, the restaurant
 * the pickup code, the claiming driver the address; the public tracking view sees neither code,
 * a masked address and a PIN hint.
 */
import { remedyRefundMinor, timeOf, type OrderState } from './decider.js';
import type { DeliveryAddress, OrderCreatedData, OrderStatus, PaymentMethod } from './events.js';

/**
 * What an erased person's shredded fields read as (src/eventstore/personal-data.ts puts this string
 * in place of each personal field of an event whose data key was erased).
 */
export const REDACTED = '[redacted]';

/** The delivery address, or a redacted one when the customer was erased (issue #15). */
export function deliveryOf(
  order: OrderCreatedData,
): DeliveryAddress | { text: typeof REDACTED; latitude: null; longitude: null } {
  const delivery = order.delivery as unknown;
  if (
    typeof delivery === 'object' &&
    delivery !== null &&
    typeof (delivery as DeliveryAddress).text === 'string'
  )
    return delivery as DeliveryAddress;
  return { text: REDACTED, latitude: null, longitude: null };
}

/** The payment method, or undefined when the customer was erased. */
export function paymentMethodOf(order: OrderCreatedData): PaymentMethod | undefined {
  const method = order.paymentMethod as unknown;
  if (typeof method === 'object' && method !== null && 'kind' in method) return method as PaymentMethod;
  return undefined;
}

export type Viewer = 'customer' | 'restaurant' | 'driver' | 'staff';

/** Courier speed and hand-over, as the catalog estimates delivery (src/modules/catalog/rules/geo.ts). */
const ROAD_FACTOR = 1.3;
const COURIER_METRES_PER_MINUTE = 333;
const HANDOVER_MINUTES = 5;

export function travelMinutes(distanceMetres: number): number {
  return Math.ceil((distanceMetres * ROAD_FACTOR) / COURIER_METRES_PER_MINUTE) + HANDOVER_MINUTES;
}

const ETA_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'PLACED',
  'ACCEPTED',
  'PREPARING',
  'READY_FOR_PICKUP',
  'PICKED_UP',
]);

/** The expected delivery instant, while the order is on its way; null otherwise. */
export function estimatedDeliveryAt(state: OrderState): string | null {
  const order = state.order;
  if (order === null || !ETA_STATUSES.has(state.status as OrderStatus)) return null;
  const travel = travelMinutes(order.pricing.distanceMetres) * 60_000;
  const pickedUp = timeOf(state, 'PICKED_UP');
  if (pickedUp !== null) return new Date(pickedUp + travel).toISOString();
  const accepted = timeOf(state, 'ACCEPTED');
  const preparation = (state.preparationMinutes ?? order.estimatedPreparationMinutes) * 60_000;
  const start = accepted ?? timeOf(state, 'PLACED') ?? Date.parse(order.at);
  const scheduled = order.scheduledFor === null ? 0 : Date.parse(order.scheduledFor);
  return new Date(Math.max(start + preparation + travel, scheduled)).toISOString();
}

export function maskAddress(text: string): string {
  if (text === REDACTED) return REDACTED;
  // Keep the last comma-separated parts (district, city); hide the street and house.
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (parts.length <= 1) return '•••';
  return ['•••', ...parts.slice(-2)].join(', ');
}

function paymentView(order: OrderCreatedData) {
  const method = paymentMethodOf(order);
  if (method === undefined) return { kind: REDACTED as typeof REDACTED };
  if (method.kind === 'wallet') return { kind: 'wallet' as const };
  return { kind: 'mobile_money' as const, provider: method.provider, phoneEnding: method.phone.slice(-2) };
}

export function orderView(state: OrderState, revision: bigint, viewer: Viewer, trackingUrl: string) {
  const order = state.order!;
  const last = state.timeline.at(-1);
  const seesAddress = viewer !== 'restaurant';
  return {
    id: order.orderId,
    status: state.status as OrderStatus,
    revision: Number(revision),
    restaurant: { id: order.restaurantId, name: order.restaurantName },
    customer: { kind: order.customer.kind, id: order.customer.id },
    lines: order.lines,
    pricing: order.pricing,
    couponCode: order.couponCode,
    delivery: seesAddress ? deliveryOf(order) : { text: maskAddress(deliveryOf(order).text) },
    payment: paymentView(order),
    scheduledFor: order.scheduledFor,
    driverId: state.driverId,
    preparationMinutes: state.preparationMinutes,
    estimatedDeliveryAt: estimatedDeliveryAt(state),
    timeline: state.timeline,
    // The order's own refund (cancellation, rejection, dispute) plus support's refund remedies.
    refundMinor: Number(state.refundMinor) + remedyRefundMinor(state),
    remedies: state.remedies.map((remedy) => ({
      remedyId: remedy.remedyId,
      kind: remedy.kind,
      amountMinor: remedy.amountMinor,
      shares: remedy.shares,
      refundTo: remedy.refundTo,
      at: remedy.at,
    })),
    cancellationFeeMinor: Number(state.cancellationFeeMinor),
    reason: state.reason,
    createdAt: order.at,
    updatedAt: last?.at ?? order.at,
    ...(viewer === 'customer' || viewer === 'staff'
      ? { deliveryPin: order.deliveryPin, trackingUrl, wrongDeliveryPinsAt: state.deliveryPinFailures }
      : {}),
    ...(viewer === 'restaurant' || viewer === 'staff'
      ? { pickupCode: order.pickupCode, wrongPickupCodesAt: state.pickupCodeFailures }
      : {}),
  };
}

export type OrderView = ReturnType<typeof orderView>;

/**
 * What a support agent (not an admin) sees of an order: what a ticket about it needs (status,
 * timeline, lines, amounts, refunds, the wrong PINs and codes given), not the secrets that move
 * it (the delivery PIN, the pickup code, the tracking link) nor the street address (district and
 * city only). Minimum data access (spec §2.5); each such read is audited by the route.
 */
export function supportOrderView(view: OrderView): OrderView {
  return {
    ...view,
    delivery: { text: maskAddress(view.delivery.text) },
    deliveryPin: undefined,
    trackingUrl: undefined,
    pickupCode: undefined,
  } as OrderView;
}

/** When the public link stops working: a stated time after the order ended (delivered or not). */
export function trackingExpiresAt(state: OrderState): number | null {
  const order = state.order;
  if (order === null) return null;
  const ended = timeOf(state, 'DELIVERED') ?? endedAt(state);
  return ended === null ? null : ended + order.policy.trackingExpiryMinutes * 60_000;
}

function endedAt(state: OrderState): number | null {
  const last = state.timeline.at(-1);
  const ended: ReadonlySet<string> = new Set(['PAYMENT_FAILED', 'PAYMENT_EXPIRED', 'REJECTED', 'CANCELLED']);
  return last !== undefined && ended.has(last.status) ? Date.parse(last.at) : null;
}

export function trackingView(state: OrderState) {
  const order = state.order!;
  return {
    status: state.status as OrderStatus,
    restaurant: { name: order.restaurantName },
    address: maskAddress(deliveryOf(order).text),
    estimatedDeliveryAt: estimatedDeliveryAt(state),
    timeline: state.timeline,
    driverAssigned: state.driverId !== null,
    deliveryPinHint: `Give the driver the ${order.deliveryPin.length}-digit delivery PIN shown in your order confirmation.`,
    updatedAt: state.timeline.at(-1)?.at ?? order.at,
  };
}

export type TrackingView = ReturnType<typeof trackingView>;
