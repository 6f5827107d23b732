/**
 * The order decider (Emmett style): pure `decide(command, state)`, `evolve(state, event)` and
 * `initialState()`. No I/O, no clock: scheduled commands carry `now`, the others `at`.
 *
 * The legal transitions are one table (`TRANSITIONS`): the decider checks it first, the unit
 * specs generate every illegal case from it, and docs/orders.md prints it.
 */
import type { Decider } from '../../eventstore/index.js';
import { DomainError, type ErrorKind } from '../../shared/errors.js';
import {
  ORDER_STATUSES,
  type OrderActor,
  type OrderCommand,
  type OrderCommandType,
  type OrderCreatedData,
  type OrderEvent,
  type OrderRemedyData,
  type OrderStatus,
} from './events.js';

export type OrderStatusOrNone = OrderStatus | 'NONE';

/** For each command, the statuses it may start from ('NONE': no order yet). */
export const TRANSITIONS: Readonly<Record<OrderCommandType, readonly OrderStatusOrNone[]>> = {
  CreateOrder: ['NONE'],
  CapturePayment: ['PENDING_PAYMENT'],
  FailPayment: ['PENDING_PAYMENT'],
  ExpirePayment: ['PENDING_PAYMENT'],
  AcceptOrder: ['PLACED'],
  RejectOrder: ['PLACED'],
  RejectUnanswered: ['PLACED'],
  CancelOrder: ['PENDING_PAYMENT', 'PLACED', 'ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'],
  StartPreparing: ['ACCEPTED'],
  MarkReady: ['PREPARING'],
  ClaimOrder: ['ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'],
  PickUpOrder: ['READY_FOR_PICKUP'],
  DeliverOrder: ['PICKED_UP'],
  FailDelivery: ['PICKED_UP'],
  OpenDispute: ['DELIVERED'],
  ResolveDispute: ['DISPUTED', 'DELIVERY_FAILED'],
  CompleteOrder: ['DELIVERED'],
  // The money already moved (support booked it): the order counts it whatever its status.
  RecordRemedy: ORDER_STATUSES,
};

/**
 * Cancellation rules (stated in docs/orders.md): who may cancel from which status.
 * The customer cancels for free until the restaurant accepts; after acceptance (and before
 * preparation starts) the customer pays the late-cancellation fee; once the kitchen is
 * cooking only the restaurant (it cannot fulfil) or staff may cancel, and the customer gets
 * everything back; once the driver has the food nobody cancels (delivery failure or dispute).
 */
export const CANCELLATION_RULES: Readonly<Record<OrderStatus, readonly OrderActor['role'][]>> = {
  PENDING_PAYMENT: ['customer', 'support', 'admin', 'system'],
  PLACED: ['customer', 'support', 'admin'],
  ACCEPTED: ['customer', 'restaurant', 'support', 'admin'],
  PREPARING: ['restaurant', 'support', 'admin'],
  READY_FOR_PICKUP: ['support', 'admin'],
  PAYMENT_FAILED: [],
  PAYMENT_EXPIRED: [],
  REJECTED: [],
  CANCELLED: [],
  PICKED_UP: [],
  DELIVERED: [],
  COMPLETED: [],
  DELIVERY_FAILED: [],
  DISPUTED: [],
  RESOLVED: [],
};

export const MAX_PREPARATION_MINUTES = 240;
export const MAX_REASON_LENGTH = 500;

export type OrderErrorCode =
  | 'order_not_found'
  | 'illegal_transition'
  | 'cancellation_not_allowed'
  | 'already_claimed'
  | 'not_assigned_driver'
  | 'invalid_pickup_code'
  | 'pickup_code_locked'
  | 'invalid_delivery_pin'
  | 'delivery_pin_locked'
  | 'too_early'
  | 'dispute_window_closed'
  | 'invalid_command';

const KIND_OF_ERROR: Record<OrderErrorCode, ErrorKind> = {
  order_not_found: 'not_found',
  illegal_transition: 'conflict',
  cancellation_not_allowed: 'conflict',
  already_claimed: 'conflict',
  not_assigned_driver: 'forbidden',
  invalid_pickup_code: 'unprocessable',
  pickup_code_locked: 'rate_limited',
  invalid_delivery_pin: 'unprocessable',
  delivery_pin_locked: 'rate_limited',
  too_early: 'conflict',
  dispute_window_closed: 'conflict',
  invalid_command: 'unprocessable',
};

/**
 * The order refuses (it is missing, or its state does not allow the command). A domain error:
 * the edge answers it with its code, `currentStatus` and the details; other contexts (payments)
 * recognise it by class, never by HTTP status.
 */
export class OrderError extends DomainError {
  declare readonly code: OrderErrorCode;

  constructor(
    code: OrderErrorCode,
    message: string,
    readonly currentStatus: OrderStatusOrNone,
    /** Extra fields for the client (e.g. attemptsLeft); `retryAfterSeconds` becomes Retry-After. */
    details: Record<string, unknown> = {},
  ) {
    const { retryAfterSeconds, ...rest } = details;
    super('orders', KIND_OF_ERROR[code], code, message, {
      details: { currentStatus, ...rest },
      retryAfterSeconds: typeof retryAfterSeconds === 'number' ? retryAfterSeconds : undefined,
    });
    this.name = 'OrderError';
  }
}

export interface TimelineEntry {
  status: OrderStatus;
  at: string;
}

export interface OrderState {
  status: OrderStatusOrNone;
  order: OrderCreatedData | null;
  timeline: TimelineEntry[];
  driverId: string | null;
  driverClaimedAt: string | null;
  paymentId: string | null;
  preparationMinutes: number | null;
  /** When the money-relevant outcome is known: refunded to the customer, kept as a fee. */
  refundMinor: bigint;
  cancellationFeeMinor: bigint;
  /** The last reason given (rejection, cancellation, delivery failure, dispute). */
  reason: string | null;
  /** When each wrong delivery PIN was given (OrderDeliveryPinRejected), oldest first. */
  deliveryPinFailures: string[];
  /** When each wrong pickup code was given (OrderPickupCodeRejected), oldest first. */
  pickupCodeFailures: string[];
  /** Support's remedies (OrderRemedyRecorded), oldest first; one per remedy id. */
  remedies: (OrderRemedyData & { at: string })[];
}

/** What support's refund remedies gave back of the order (goodwill credits are not refunds). */
export function remedyRefundMinor(state: Pick<OrderState, 'remedies'>): number {
  return state.remedies
    .filter((remedy) => remedy.kind === 'refund')
    .reduce((sum, remedy) => sum + remedy.amountMinor, 0);
}

export function initialState(): OrderState {
  return {
    status: 'NONE',
    order: null,
    timeline: [],
    driverId: null,
    driverClaimedAt: null,
    paymentId: null,
    preparationMinutes: null,
    refundMinor: 0n,
    cancellationFeeMinor: 0n,
    reason: null,
    deliveryPinFailures: [],
    pickupCodeFailures: [],
    remedies: [],
  };
}

const MINUTE_MS = 60_000;

export function timeOf(state: OrderState, status: OrderStatus): number | null {
  for (let index = state.timeline.length - 1; index >= 0; index -= 1) {
    const entry = state.timeline[index]!;
    if (entry.status === status) return Date.parse(entry.at);
  }
  return null;
}

/**
 * When the restaurant's time to accept starts: at payment, or for a scheduled order (whose policy
 * has scheduledReleaseMinutes) when it is released to the kitchen, scheduledFor − release, if later.
 * A scheduled order placed while the restaurant is closed is not rejected before it opens.
 */
export function acceptanceStartsAt(state: OrderState): number {
  const order = created(state);
  const placed = timeOf(state, 'PLACED')!;
  const release = order.policy.scheduledReleaseMinutes;
  if (order.scheduledFor === null || release === undefined) return placed;
  return Math.max(placed, Date.parse(order.scheduledFor) - release * MINUTE_MS);
}

export const DEFAULT_DELIVERY_PIN_MAX_ATTEMPTS = 5;
export const DEFAULT_DELIVERY_PIN_LOCK_MINUTES = 15;
export const DEFAULT_PICKUP_CODE_MAX_ATTEMPTS = 5;
export const DEFAULT_PICKUP_CODE_LOCK_MINUTES = 15;

export interface SecretAttempts {
  attemptsLeft: number;
  lockedUntil: string | null;
  retryAfterSeconds: number;
}

/**
 * The lockout of a 4-digit secret given at a counter or a door: at most `max` wrong ones in any
 * `windowMinutes` (a sliding window per order). With the window full, every try, the right one
 * too, waits until the oldest failure leaves it: 4 digits cannot be guessed from afar.
 */
export function secretAttempts(
  failures: readonly string[],
  max: number,
  windowMinutes: number,
  at: Date,
): SecretAttempts {
  const windowMs = windowMinutes * MINUTE_MS;
  const recent = failures.map(Date.parse).filter((time) => time > at.getTime() - windowMs);
  const attemptsLeft = Math.max(0, max - recent.length);
  if (attemptsLeft > 0) return { attemptsLeft, lockedUntil: null, retryAfterSeconds: 0 };
  // The window is full: it opens again when the oldest failure that fills it leaves.
  const opens = recent[recent.length - max]! + windowMs;
  return {
    attemptsLeft,
    lockedUntil: new Date(opens).toISOString(),
    retryAfterSeconds: Math.max(1, Math.ceil((opens - at.getTime()) / 1000)),
  };
}

/** The delivery PIN lockout, by the order's captured policy (defaults for older orders). */
export function deliveryPinAttempts(state: OrderState, at: Date): SecretAttempts {
  const policy = state.order?.policy;
  return secretAttempts(
    state.deliveryPinFailures,
    policy?.deliveryPinMaxAttempts ?? DEFAULT_DELIVERY_PIN_MAX_ATTEMPTS,
    policy?.deliveryPinLockMinutes ?? DEFAULT_DELIVERY_PIN_LOCK_MINUTES,
    at,
  );
}

/** The pickup code lockout, by the order's captured policy (defaults for older orders). */
export function pickupCodeAttempts(state: OrderState, at: Date): SecretAttempts {
  const policy = state.order?.policy;
  return secretAttempts(
    state.pickupCodeFailures,
    policy?.pickupCodeMaxAttempts ?? DEFAULT_PICKUP_CODE_MAX_ATTEMPTS,
    policy?.pickupCodeLockMinutes ?? DEFAULT_PICKUP_CODE_LOCK_MINUTES,
    at,
  );
}

const triesLeft = (count: number) => `${count} ${count === 1 ? 'try' : 'tries'} left before a pause`;

/** When a DeliverOrder decided only OrderDeliveryPinRejected: the 422 to answer after appending it. */
export function deliveryPinRefusal(events: readonly OrderEvent[], state: OrderState): OrderError | undefined {
  const last = events[events.length - 1];
  if (events.length !== 1 || last?.type !== 'OrderDeliveryPinRejected') return undefined;
  const { attemptsLeft } = deliveryPinAttempts(state, new Date(last.data.at));
  return new OrderError(
    'invalid_delivery_pin',
    attemptsLeft > 0
      ? `The customer's delivery PIN is wrong (${triesLeft(attemptsLeft)}).`
      : "The customer's delivery PIN is wrong; no tries left for now.",
    state.status,
    { attemptsLeft },
  );
}

/** When a PickUpOrder decided only OrderPickupCodeRejected: the 422 to answer after appending it. */
export function pickupCodeRefusal(events: readonly OrderEvent[], state: OrderState): OrderError | undefined {
  const last = events[events.length - 1];
  if (events.length !== 1 || last?.type !== 'OrderPickupCodeRejected') return undefined;
  const { attemptsLeft } = pickupCodeAttempts(state, new Date(last.data.at));
  return new OrderError(
    'invalid_pickup_code',
    attemptsLeft > 0
      ? `The pickup code is wrong (${triesLeft(attemptsLeft)}).`
      : 'The pickup code is wrong; no tries left for now.',
    state.status,
    { attemptsLeft },
  );
}

function moved(state: OrderState, status: OrderStatus, at: string): OrderState {
  return { ...state, status, timeline: [...state.timeline, { status, at }] };
}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderCreated':
      return { ...moved(state, 'PENDING_PAYMENT', event.data.at), order: event.data };
    case 'OrderPaymentCaptured':
      return { ...moved(state, 'PLACED', event.data.at), paymentId: event.data.paymentId };
    case 'OrderPaymentFailed':
      return { ...moved(state, 'PAYMENT_FAILED', event.data.at), reason: event.data.reason };
    case 'OrderPaymentExpired':
      return moved(state, 'PAYMENT_EXPIRED', event.data.at);
    case 'OrderAccepted':
      return {
        ...moved(state, 'ACCEPTED', event.data.at),
        preparationMinutes: event.data.preparationMinutes,
      };
    case 'OrderRejected':
      return {
        ...moved(state, 'REJECTED', event.data.at),
        reason: event.data.reason,
        refundMinor: BigInt(event.data.refundMinor),
      };
    case 'OrderCancelled':
      return {
        ...moved(state, 'CANCELLED', event.data.at),
        reason: event.data.reason,
        refundMinor: BigInt(event.data.refundMinor),
        cancellationFeeMinor: BigInt(event.data.cancellationFeeMinor),
      };
    case 'OrderPreparationStarted':
      return moved(state, 'PREPARING', event.data.at);
    case 'OrderReadyForPickup':
      return moved(state, 'READY_FOR_PICKUP', event.data.at);
    case 'OrderDriverClaimed':
      return { ...state, driverId: event.data.driverId, driverClaimedAt: event.data.at };
    case 'OrderPickedUp':
      return moved(state, 'PICKED_UP', event.data.at);
    case 'OrderDelivered':
      return moved(state, 'DELIVERED', event.data.at);
    case 'OrderDeliveryPinRejected':
      return { ...state, deliveryPinFailures: [...state.deliveryPinFailures, event.data.at] };
    case 'OrderPickupCodeRejected':
      return { ...state, pickupCodeFailures: [...state.pickupCodeFailures, event.data.at] };
    case 'OrderDeliveryFailed':
      return { ...moved(state, 'DELIVERY_FAILED', event.data.at), reason: event.data.reason };
    case 'OrderDisputeOpened':
      return { ...moved(state, 'DISPUTED', event.data.at), reason: event.data.reason };
    case 'OrderDisputeResolved':
      return { ...moved(state, 'RESOLVED', event.data.at), refundMinor: BigInt(event.data.refundMinor) };
    case 'OrderCompleted':
      return moved(state, 'COMPLETED', event.data.at);
    case 'OrderRemedyRecorded':
      // Not a status change: the order counts the remedy.
      return { ...state, remedies: [...state.remedies, event.data] };
    default: {
      const exhaustive: never = event;
      throw new Error(`unknown order event ${JSON.stringify(exhaustive)}`);
    }
  }
}

function assertLegal(command: OrderCommand, state: OrderState): void {
  if (TRANSITIONS[command.type].includes(state.status)) return;
  if (state.status === 'NONE') throw new OrderError('order_not_found', 'There is no such order.', 'NONE');
  throw new OrderError(
    'illegal_transition',
    `${command.type} is not possible while the order is ${state.status}.`,
    state.status,
  );
}

function checkReason(reason: string, state: OrderState): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_REASON_LENGTH) {
    throw new OrderError(
      'invalid_command',
      `A reason of 1-${MAX_REASON_LENGTH} characters is required.`,
      state.status,
    );
  }
  return trimmed;
}

const iso = (date: Date): string => date.toISOString();

function created(state: OrderState): OrderCreatedData {
  // assertLegal ran first: every status but NONE has an OrderCreated behind it.
  if (state.order === null) throw new Error('invariant: an order past NONE has its creation data');
  return state.order;
}

function decideCreate(data: OrderCreatedData): OrderEvent[] {
  const pricing = data.pricing;
  const amounts = [
    pricing.subtotalMinor,
    pricing.discountMinor,
    pricing.deliveryFeeMinor,
    pricing.taxMinor,
    pricing.tipMinor,
    pricing.totalMinor,
  ];
  const invalid = (message: string) => new OrderError('invalid_command', message, 'NONE');
  if (amounts.some((amount) => !Number.isSafeInteger(amount) || amount < 0))
    throw invalid('amounts are non-negative integers');
  const lines = data.lines.reduce((sum, line) => sum + line.lineTotalMinor, 0);
  if (lines !== pricing.subtotalMinor) throw invalid('the lines do not add up to the subtotal');
  if (pricing.discountMinor > pricing.subtotalMinor)
    throw invalid('a discount is at most the food it discounts');
  const total =
    pricing.subtotalMinor -
    pricing.discountMinor +
    pricing.deliveryFeeMinor +
    pricing.taxMinor +
    pricing.tipMinor;
  if (total !== pricing.totalMinor) throw invalid('the parts do not add up to the total');
  if (data.lines.length === 0) throw invalid('an order has at least one line');
  return [{ type: 'OrderCreated', data }];
}

/** Refund and fee of a cancellation by `by` from the current status (the rules above). */
export function cancellationOutcome(
  state: OrderState,
  by: OrderActor,
): { refundMinor: bigint; cancellationFeeMinor: bigint } {
  const order = created(state);
  if (state.status === 'PENDING_PAYMENT') return { refundMinor: 0n, cancellationFeeMinor: 0n };
  const total = BigInt(order.pricing.totalMinor);
  if (state.status === 'ACCEPTED' && by.role === 'customer') {
    const food = BigInt(order.pricing.subtotalMinor - order.pricing.discountMinor);
    // Rounded down: the fee never exceeds the stated percentage (in the customer's favour).
    const fee = (food * BigInt(order.policy.lateCancellationFeePercent)) / 100n;
    return { refundMinor: total - fee, cancellationFeeMinor: fee };
  }
  return { refundMinor: total, cancellationFeeMinor: 0n };
}

function decideCancel(
  command: Extract<OrderCommand, { type: 'CancelOrder' }>,
  state: OrderState,
): OrderEvent[] {
  const status = state.status as OrderStatus;
  const { by } = command.data;
  if (!CANCELLATION_RULES[status].includes(by.role)) {
    throw new OrderError(
      'cancellation_not_allowed',
      `A ${by.role} cannot cancel an order that is ${status}.`,
      status,
    );
  }
  const reason = checkReason(command.data.reason, state);
  const outcome = cancellationOutcome(state, by);
  return [
    {
      type: 'OrderCancelled',
      data: {
        by,
        reason,
        previousStatus: status,
        refundMinor: Number(outcome.refundMinor),
        cancellationFeeMinor: Number(outcome.cancellationFeeMinor),
        at: iso(command.data.at),
      },
    },
  ];
}

function decideScheduled(command: OrderCommand, state: OrderState): OrderEvent[] {
  const order = created(state);
  const policy = order.policy;
  const tooEarly = (what: string, dueMs: number) =>
    new OrderError('too_early', `${what} is due at ${new Date(dueMs).toISOString()}.`, state.status);
  switch (command.type) {
    case 'ExpirePayment': {
      const due = timeOf(state, 'PENDING_PAYMENT')! + policy.paymentTimeoutMinutes * MINUTE_MS;
      if (command.data.now.getTime() < due) throw tooEarly('The payment deadline', due);
      return [{ type: 'OrderPaymentExpired', data: { at: iso(command.data.now) } }];
    }
    case 'RejectUnanswered': {
      const due = acceptanceStartsAt(state) + policy.acceptTimeoutMinutes * MINUTE_MS;
      if (command.data.now.getTime() < due) throw tooEarly('The automatic rejection', due);
      const by: OrderActor = { role: 'system', id: 'acceptance-timeout' };
      const reason = `no answer from the restaurant within ${policy.acceptTimeoutMinutes} minutes`;
      const refundMinor = order.pricing.totalMinor;
      return [
        {
          type: 'OrderRejected',
          data: { by, reason, automatic: true, refundMinor, at: iso(command.data.now) },
        },
      ];
    }
    case 'CompleteOrder': {
      const due = timeOf(state, 'DELIVERED')! + policy.disputeWindowMinutes * MINUTE_MS;
      if (command.data.now.getTime() < due) throw tooEarly('Completion', due);
      return [{ type: 'OrderCompleted', data: { at: iso(command.data.now) } }];
    }
    default:
      throw new Error(`${command.type} is not a scheduled command`);
  }
}

/**
 * A handover with a 4-digit secret: the pickup code at the counter, the delivery PIN at the door.
 * Only the claiming driver; while the lockout window is full every try is refused (429); a wrong
 * secret is recorded, not thrown: the service appends it, then answers 422 with the tries left.
 */
function decideHandover(
  state: OrderState,
  data: { driverId: string; at: Date },
  handover: {
    verb: string;
    attempts: SecretAttempts;
    secretIsRight: boolean;
    locked: [code: OrderErrorCode, what: string];
    rejected: 'OrderPickupCodeRejected' | 'OrderDeliveryPinRejected';
    done: 'OrderPickedUp' | 'OrderDelivered';
  },
): OrderEvent[] {
  if (state.driverId !== data.driverId) {
    throw new OrderError(
      'not_assigned_driver',
      `Only the driver who claimed the order ${handover.verb}.`,
      state.status,
    );
  }
  const { attemptsLeft, lockedUntil, retryAfterSeconds } = handover.attempts;
  if (attemptsLeft === 0) {
    const [code, what] = handover.locked;
    throw new OrderError(code, `${what}; the next try is possible at ${lockedUntil}.`, state.status, {
      lockedUntil,
      retryAfterSeconds,
    });
  }
  const type = handover.secretIsRight ? handover.done : handover.rejected;
  return [{ type, data: { driverId: data.driverId, at: iso(data.at) } }];
}

function decideDriver(command: OrderCommand, state: OrderState): OrderEvent[] {
  const order = created(state);
  switch (command.type) {
    case 'ClaimOrder': {
      if (state.driverId === command.data.driverId) return []; // a retried claim changes nothing
      if (state.driverId !== null)
        throw new OrderError('already_claimed', 'Another driver has this order.', state.status);
      return [
        { type: 'OrderDriverClaimed', data: { driverId: command.data.driverId, at: iso(command.data.at) } },
      ];
    }
    case 'PickUpOrder':
      return decideHandover(state, command.data, {
        verb: 'picks it up',
        attempts: pickupCodeAttempts(state, command.data.at),
        secretIsRight: command.data.pickupCode === order.pickupCode,
        locked: ['pickup_code_locked', 'Too many wrong pickup codes'],
        rejected: 'OrderPickupCodeRejected',
        done: 'OrderPickedUp',
      });
    case 'DeliverOrder':
      return decideHandover(state, command.data, {
        verb: 'delivers it',
        attempts: deliveryPinAttempts(state, command.data.at),
        secretIsRight: command.data.deliveryPin === order.deliveryPin,
        locked: ['delivery_pin_locked', 'Too many wrong delivery PINs'],
        rejected: 'OrderDeliveryPinRejected',
        done: 'OrderDelivered',
      });
    case 'FailDelivery': {
      const { by } = command.data;
      if (by.role === 'driver' && state.driverId !== by.id) {
        throw new OrderError(
          'not_assigned_driver',
          'Only the driver who claimed the order reports a failure.',
          state.status,
        );
      }
      const reason = checkReason(command.data.reason, state);
      return [{ type: 'OrderDeliveryFailed', data: { by, reason, at: iso(command.data.at) } }];
    }
    default:
      throw new Error(`${command.type} is not a driver command`);
  }
}

function decideRestaurant(command: OrderCommand, state: OrderState): OrderEvent[] {
  const order = created(state);
  switch (command.type) {
    case 'AcceptOrder': {
      const minutes = command.data.preparationMinutes;
      if (!Number.isSafeInteger(minutes) || minutes < 1 || minutes > MAX_PREPARATION_MINUTES) {
        throw new OrderError(
          'invalid_command',
          `Preparation takes 1-${MAX_PREPARATION_MINUTES} minutes.`,
          state.status,
        );
      }
      return [
        {
          type: 'OrderAccepted',
          data: { by: command.data.by, preparationMinutes: minutes, at: iso(command.data.at) },
        },
      ];
    }
    case 'RejectOrder': {
      const reason = checkReason(command.data.reason, state);
      const data = {
        by: command.data.by,
        reason,
        automatic: false,
        refundMinor: order.pricing.totalMinor,
        at: iso(command.data.at),
      };
      return [{ type: 'OrderRejected', data }];
    }
    case 'StartPreparing':
      return [{ type: 'OrderPreparationStarted', data: { by: command.data.by, at: iso(command.data.at) } }];
    case 'MarkReady':
      return [{ type: 'OrderReadyForPickup', data: { by: command.data.by, at: iso(command.data.at) } }];
    default:
      throw new Error(`${command.type} is not a restaurant command`);
  }
}

function decidePayment(command: OrderCommand, state: OrderState): OrderEvent[] {
  const order = created(state);
  switch (command.type) {
    case 'CapturePayment':
      if (command.data.amountMinor !== order.pricing.totalMinor) {
        throw new OrderError(
          'invalid_command',
          `The captured amount ${command.data.amountMinor} is not the order total ${order.pricing.totalMinor}.`,
          state.status,
        );
      }
      return [{ type: 'OrderPaymentCaptured', data: { ...command.data, at: iso(command.data.at) } }];
    case 'FailPayment':
      return [
        {
          type: 'OrderPaymentFailed',
          data: { reason: checkReason(command.data.reason, state), at: iso(command.data.at) },
        },
      ];
    default:
      throw new Error(`${command.type} is not a payment command`);
  }
}

function decideDispute(command: OrderCommand, state: OrderState): OrderEvent[] {
  const order = created(state);
  switch (command.type) {
    case 'OpenDispute': {
      const closes = timeOf(state, 'DELIVERED')! + order.policy.disputeWindowMinutes * MINUTE_MS;
      if (command.data.at.getTime() >= closes) {
        throw new OrderError(
          'dispute_window_closed',
          `Disputes closed at ${new Date(closes).toISOString()}.`,
          state.status,
        );
      }
      const reason = checkReason(command.data.reason, state);
      return [
        { type: 'OrderDisputeOpened', data: { by: command.data.by, reason, at: iso(command.data.at) } },
      ];
    }
    case 'ResolveDispute': {
      const refund = command.data.refundMinor;
      // Support's refund remedies already gave part of the order back: never refund more than it cost.
      const refundable = order.pricing.totalMinor - remedyRefundMinor(state);
      if (!Number.isSafeInteger(refund) || refund < 0 || refund > refundable) {
        throw new OrderError('invalid_command', `The refund is 0 to ${refundable} XAF.`, state.status, {
          refundableMinor: refundable,
        });
      }
      const note = checkReason(command.data.note, state);
      return [
        {
          type: 'OrderDisputeResolved',
          data: { by: command.data.by, refundMinor: refund, note, at: iso(command.data.at) },
        },
      ];
    }
    default:
      throw new Error(`${command.type} is not a dispute command`);
  }
}

/**
 * Support's remedy, booked on the ledger before it reaches the order: recorded once (a retry or
 * a sweep naming the same remedy appends nothing), never refused for the order's status.
 */
function decideRemedy(
  command: Extract<OrderCommand, { type: 'RecordRemedy' }>,
  state: OrderState,
): OrderEvent[] {
  const { at, ...remedy } = command.data;
  if (state.remedies.some((earlier) => earlier.remedyId === remedy.remedyId)) return [];
  const { restaurantMinor, driverMinor, platformMinor } = remedy.shares;
  const parts = [remedy.amountMinor, restaurantMinor, driverMinor, platformMinor];
  if (
    parts.some((part) => !Number.isSafeInteger(part) || part < 0) ||
    remedy.amountMinor === 0 ||
    restaurantMinor + driverMinor + platformMinor !== remedy.amountMinor
  )
    throw new OrderError(
      'invalid_command',
      'A remedy is a positive amount its shares add up to.',
      state.status,
    );
  return [{ type: 'OrderRemedyRecorded', data: { ...remedy, at: iso(at) } }];
}

export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  assertLegal(command, state);
  switch (command.type) {
    case 'CreateOrder':
      return decideCreate(command.data);
    case 'CapturePayment':
    case 'FailPayment':
      return decidePayment(command, state);
    case 'ExpirePayment':
    case 'RejectUnanswered':
    case 'CompleteOrder':
      return decideScheduled(command, state);
    case 'AcceptOrder':
    case 'RejectOrder':
    case 'StartPreparing':
    case 'MarkReady':
      return decideRestaurant(command, state);
    case 'CancelOrder':
      return decideCancel(command, state);
    case 'ClaimOrder':
    case 'PickUpOrder':
    case 'DeliverOrder':
    case 'FailDelivery':
      return decideDriver(command, state);
    case 'OpenDispute':
    case 'ResolveDispute':
      return decideDispute(command, state);
    case 'RecordRemedy':
      return decideRemedy(command, state);
    default: {
      const exhaustive: never = command;
      throw new Error(`unknown order command ${JSON.stringify(exhaustive)}`);
    }
  }
}

export const orderDecider: Decider<OrderCommand, OrderEvent, OrderState> = { decide, evolve, initialState };
