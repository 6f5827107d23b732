/**
 * Order fixtures for the decider's unit specs and the projections' specs: a created order and
 * the event histories that reach each status. Test-only (imported by *.test.ts files).
 */
import {
  ORDER_STATUSES,
  type OrderCommand,
  type OrderCommandType,
  type OrderCreatedData,
  type OrderEvent,
} from './events.js';
import type { OrderStatusOrNone } from './decider.js';

export const T0 = new Date('2026-11-25T12:00:00.000Z');
export const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
export const iso = (minutes: number): string => at(minutes).toISOString();

export const CUSTOMER = { role: 'customer', id: 'c0a80101-0000-4000-8000-000000000001' } as const;
export const OWNER = { role: 'restaurant', id: 'c0a80101-0000-4000-8000-000000000002' } as const;
export const DRIVER_ID = 'c0a80101-0000-4000-8000-000000000003';
export const OTHER_DRIVER_ID = 'c0a80101-0000-4000-8000-000000000004';
export const SUPPORT = { role: 'support', id: 'c0a80101-0000-4000-8000-000000000005' } as const;
export const ADMIN = { role: 'admin', id: 'c0a80101-0000-4000-8000-000000000006' } as const;

export function createdData(overrides: Partial<OrderCreatedData> = {}): OrderCreatedData {
  return {
    orderId: 'a0000000-0000-4000-8000-000000000001',
    restaurantId: 'b0000000-0000-4000-8000-000000000001',
    restaurantOwnerId: OWNER.id,
    restaurantName: 'Chez Mama',
    customer: { kind: 'user', id: CUSTOMER.id },
    lines: [
      {
        itemId: 'i1',
        name: 'Ndolé',
        quantity: 2,
        unitPriceMinor: 2_500,
        modifiers: [{ groupId: 'g1', optionId: 'o1', name: 'Plantain', priceDeltaMinor: 500 }],
        lineTotalMinor: 6_000,
      },
    ],
    // 6,000 food − 0 discount + 700 delivery (2 km) + 0 tax + 300 tip = 7,000
    pricing: {
      subtotalMinor: 6_000,
      discountMinor: 0,
      deliveryFeeMinor: 700,
      taxMinor: 0,
      tipMinor: 300,
      totalMinor: 7_000,
      distanceMetres: 2_000,
      taxRatePercent: '0',
    },
    couponCode: null,
    delivery: { latitude: 4.05, longitude: 9.7, text: 'Rue 1.234, Akwa, Douala' },
    paymentMethod: { kind: 'wallet' },
    scheduledFor: null,
    trackingSecret: 'secret-secret-secret-22',
    deliveryPin: '4821',
    pickupCode: '7315',
    estimatedPreparationMinutes: 20,
    reservedStock: [],
    policy: {
      paymentTimeoutMinutes: 15,
      acceptTimeoutMinutes: 10,
      disputeWindowMinutes: 1_440,
      trackingExpiryMinutes: 1_440,
      lateCancellationFeePercent: 10,
    },
    at: iso(0),
    ...overrides,
  };
}

const E = {
  created: (): OrderEvent => ({ type: 'OrderCreated', data: createdData() }),
  captured: (): OrderEvent => ({
    type: 'OrderPaymentCaptured',
    data: { paymentId: 'p1', amountMinor: 7_000, at: iso(1) },
  }),
  accepted: (): OrderEvent => ({
    type: 'OrderAccepted',
    data: { by: OWNER, preparationMinutes: 20, at: iso(3) },
  }),
  preparing: (): OrderEvent => ({ type: 'OrderPreparationStarted', data: { by: OWNER, at: iso(4) } }),
  ready: (): OrderEvent => ({ type: 'OrderReadyForPickup', data: { by: OWNER, at: iso(20) } }),
  claimed: (): OrderEvent => ({ type: 'OrderDriverClaimed', data: { driverId: DRIVER_ID, at: iso(21) } }),
  pickedUp: (): OrderEvent => ({ type: 'OrderPickedUp', data: { driverId: DRIVER_ID, at: iso(25) } }),
  delivered: (): OrderEvent => ({ type: 'OrderDelivered', data: { driverId: DRIVER_ID, at: iso(40) } }),
};
export const EVENTS = E;

/** An event history that ends in each status (the shortest natural one). */
export function historyFor(status: OrderStatusOrNone): OrderEvent[] {
  const placed = [E.created(), E.captured()];
  const accepted = [...placed, E.accepted()];
  const ready = [...accepted, E.preparing(), E.ready()];
  const pickedUp = [...ready, E.claimed(), E.pickedUp()];
  const delivered = [...pickedUp, E.delivered()];
  const disputed: OrderEvent[] = [
    ...delivered,
    { type: 'OrderDisputeOpened', data: { by: CUSTOMER, reason: 'cold food', at: iso(50) } },
  ];
  const histories: Record<OrderStatusOrNone, OrderEvent[]> = {
    NONE: [],
    PENDING_PAYMENT: [E.created()],
    PLACED: placed,
    PAYMENT_FAILED: [
      E.created(),
      { type: 'OrderPaymentFailed', data: { reason: 'insufficient funds', at: iso(1) } },
    ],
    PAYMENT_EXPIRED: [E.created(), { type: 'OrderPaymentExpired', data: { at: iso(15) } }],
    ACCEPTED: accepted,
    REJECTED: [
      ...placed,
      {
        type: 'OrderRejected',
        data: { by: OWNER, reason: 'closing', automatic: false, refundMinor: 7_000, at: iso(2) },
      },
    ],
    CANCELLED: [
      ...placed,
      {
        type: 'OrderCancelled',
        data: {
          by: CUSTOMER,
          reason: 'changed my mind',
          previousStatus: 'PLACED',
          refundMinor: 7_000,
          cancellationFeeMinor: 0,
          at: iso(2),
        },
      },
    ],
    PREPARING: [...accepted, E.preparing()],
    READY_FOR_PICKUP: ready,
    PICKED_UP: pickedUp,
    DELIVERED: delivered,
    COMPLETED: [...delivered, { type: 'OrderCompleted', data: { at: iso(40 + 1_440) } }],
    DELIVERY_FAILED: [
      ...pickedUp,
      {
        type: 'OrderDeliveryFailed',
        data: { by: { role: 'driver', id: DRIVER_ID }, reason: 'nobody home', at: iso(45) },
      },
    ],
    DISPUTED: disputed,
    RESOLVED: [
      ...disputed,
      {
        type: 'OrderDisputeResolved',
        data: { by: SUPPORT, refundMinor: 3_000, note: 'half refund', at: iso(60) },
      },
    ],
  };
  return histories[status];
}

/**
 * For each command, one instance that passes every check but the status check: used to prove
 * that the status alone refuses it. Times are late enough for scheduled commands.
 */
export function sampleCommand(type: OrderCommandType): OrderCommand {
  const late = at(100_000);
  const commands: { [K in OrderCommandType]: Extract<OrderCommand, { type: K }> } = {
    CreateOrder: { type: 'CreateOrder', data: createdData() },
    CapturePayment: { type: 'CapturePayment', data: { paymentId: 'p1', amountMinor: 7_000, at: at(1) } },
    FailPayment: { type: 'FailPayment', data: { reason: 'declined', at: at(1) } },
    ExpirePayment: { type: 'ExpirePayment', data: { now: late } },
    AcceptOrder: { type: 'AcceptOrder', data: { by: OWNER, preparationMinutes: 15, at: at(3) } },
    RejectOrder: { type: 'RejectOrder', data: { by: OWNER, reason: 'closing', at: at(3) } },
    RejectUnanswered: { type: 'RejectUnanswered', data: { now: late } },
    CancelOrder: { type: 'CancelOrder', data: { by: ADMIN, reason: 'fraud check', at: at(5) } },
    StartPreparing: { type: 'StartPreparing', data: { by: OWNER, at: at(4) } },
    MarkReady: { type: 'MarkReady', data: { by: OWNER, at: at(20) } },
    ClaimOrder: { type: 'ClaimOrder', data: { driverId: OTHER_DRIVER_ID, at: at(21) } },
    PickUpOrder: { type: 'PickUpOrder', data: { driverId: DRIVER_ID, pickupCode: '7315', at: at(25) } },
    DeliverOrder: { type: 'DeliverOrder', data: { driverId: DRIVER_ID, deliveryPin: '4821', at: at(40) } },
    FailDelivery: {
      type: 'FailDelivery',
      data: { by: { role: 'driver', id: DRIVER_ID }, reason: 'no answer', at: at(45) },
    },
    OpenDispute: { type: 'OpenDispute', data: { by: CUSTOMER, reason: 'missing item', at: at(50) } },
    ResolveDispute: {
      type: 'ResolveDispute',
      data: { by: SUPPORT, refundMinor: 1_000, note: 'partial', at: at(60) },
    },
    CompleteOrder: { type: 'CompleteOrder', data: { now: late } },
    RecordRemedy: {
      type: 'RecordRemedy',
      data: {
        remedyId: 'r1',
        ticketId: 't1',
        kind: 'refund',
        amountMinor: 1_000,
        shares: { restaurantMinor: 600, driverMinor: 0, platformMinor: 400 },
        refundTo: 'wallet',
        by: SUPPORT,
        at: at(70),
      },
    },
  };
  return commands[type];
}

export const ALL_STATUSES: readonly OrderStatusOrNone[] = ['NONE', ...ORDER_STATUSES];
