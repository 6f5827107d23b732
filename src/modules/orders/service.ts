/**
 * The orders application service: placement (catalog snapshot → pricing → stock → OrderCreated →
 * payment), every other command through the event store's handleCommand (read, decide, append
 * with the expected revision, retry on a lost race), scheduled commands (the sweeper), reads of
 * one order from its stream (strongly consistent, ETag = revision), and the fan-out hook.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  aggregateStream,
  createAggregateCache,
  handleCommand,
  tracedDecide,
  WrongExpectedVersion,
  type EventMetadata,
  type EventStore,
} from '../../eventstore/index.js';
import { DomainError, isDomainError } from '../../shared/errors.js';
import { isOrderRefusal, ordersErrors } from './errors.js';
import {
  decide,
  DEFAULT_DELIVERY_PIN_LOCK_MINUTES,
  DEFAULT_DELIVERY_PIN_MAX_ATTEMPTS,
  DEFAULT_PICKUP_CODE_LOCK_MINUTES,
  DEFAULT_PICKUP_CODE_MAX_ATTEMPTS,
  deliveryPinRefusal,
  pickupCodeRefusal,
  evolve,
  initialState,
  orderDecider,
  type OrderState,
} from './decider.js';
import {
  orderStream,
  TERMINAL_STATUSES,
  type OrderCommand,
  type OrderCreatedData,
  type OrderEvent,
  type OrderPolicy,
  type PaymentMethod,
} from './events.js';
import type { OrderSnapshot } from '../catalog/index.js';
import type { CatalogPort, CouponPort, OrderPaymentProgress, PaymentOutcome, PaymentPort } from './ports.js';

/** The key an order's payment is requested under: the same order never starts two collections. */
const paymentKeyOf = (orderId: string) => `order-${orderId}`;
import { priceOrder, PricingError, type Discount } from './pricing.js';
import type { OrdersRepository } from './repository.js';
import { stockOutcomeOf, type StockReservations } from './stock.js';
import { newTrackingSecret, trackingToken } from './tracking-token.js';

/**
 * The catalog's delivery rule (src/modules/catalog/orders-api.ts checkDelivery) applied to the
 * restaurant the snapshot already loaded: one query fewer per order. Great-circle metres, rounded.
 */
/** A payment port's "no provider could take it" (see PaymentPort). */
function isProviderOutage(error: unknown): error is DomainError {
  return isDomainError(error) && (error.kind === 'unavailable' || error.kind === 'bad_gateway');
}

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

export const DEFAULT_ORDER_POLICY: OrderPolicy = {
  paymentTimeoutMinutes: 15,
  acceptTimeoutMinutes: 10,
  disputeWindowMinutes: 24 * 60,
  trackingExpiryMinutes: 24 * 60,
  lateCancellationFeePercent: 10,
  deliveryPinMaxAttempts: DEFAULT_DELIVERY_PIN_MAX_ATTEMPTS,
  deliveryPinLockMinutes: DEFAULT_DELIVERY_PIN_LOCK_MINUTES,
  pickupCodeMaxAttempts: DEFAULT_PICKUP_CODE_MAX_ATTEMPTS,
  pickupCodeLockMinutes: DEFAULT_PICKUP_CODE_LOCK_MINUTES,
  scheduledReleaseMinutes: 60,
};

/** The policy new orders capture, from the ORDER_* variables (README, Configuration). */
export function orderPolicyFromConfig(config: {
  ORDER_PAYMENT_TIMEOUT_MINUTES: number;
  ORDER_ACCEPT_TIMEOUT_MINUTES: number;
  ORDER_DISPUTE_WINDOW_MINUTES: number;
  ORDER_TRACKING_EXPIRY_MINUTES: number;
  ORDER_LATE_CANCELLATION_FEE_PERCENT: number;
  ORDER_DELIVERY_PIN_MAX_ATTEMPTS: number;
  ORDER_DELIVERY_PIN_LOCK_MINUTES: number;
  ORDER_PICKUP_CODE_MAX_ATTEMPTS: number;
  ORDER_PICKUP_CODE_LOCK_MINUTES: number;
  ORDER_SCHEDULED_RELEASE_MINUTES: number;
}): OrderPolicy {
  return {
    paymentTimeoutMinutes: config.ORDER_PAYMENT_TIMEOUT_MINUTES,
    acceptTimeoutMinutes: config.ORDER_ACCEPT_TIMEOUT_MINUTES,
    disputeWindowMinutes: config.ORDER_DISPUTE_WINDOW_MINUTES,
    trackingExpiryMinutes: config.ORDER_TRACKING_EXPIRY_MINUTES,
    lateCancellationFeePercent: config.ORDER_LATE_CANCELLATION_FEE_PERCENT,
    deliveryPinMaxAttempts: config.ORDER_DELIVERY_PIN_MAX_ATTEMPTS,
    deliveryPinLockMinutes: config.ORDER_DELIVERY_PIN_LOCK_MINUTES,
    pickupCodeMaxAttempts: config.ORDER_PICKUP_CODE_MAX_ATTEMPTS,
    pickupCodeLockMinutes: config.ORDER_PICKUP_CODE_LOCK_MINUTES,
    scheduledReleaseMinutes: config.ORDER_SCHEDULED_RELEASE_MINUTES,
  };
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
  scheduledFor?: string;
}

/** What the real-time fan-out receives after every successful append. */
export interface OrderChange {
  order: OrderCreatedData;
  state: OrderState;
  events: OrderEvent[];
  revision: bigint;
}

export interface OrdersDependencies {
  eventStore: EventStore;
  /** Takes stock at placement and gives it back once (stock.ts). */
  stock: Pick<StockReservations, 'reserve' | 'settle' | 'restoreIfUnplaced'>;
  repository: OrdersRepository;
  logger: Logger;
  catalog: CatalogPort;
  /** Undefined until a payment port is configured: placement answers 503. */
  payments: PaymentPort | undefined;
  coupons: CouponPort;
  taxRatePercent: string;
  publicBaseUrl: string;
  policy?: OrderPolicy;
  schedule?: ScheduleWindow;
  now?: () => Date;
}

const digits = (count: number) => Array.from({ length: count }, () => String(randomInt(0, 10))).join('');

export function createOrdersService(deps: OrdersDependencies) {
  const { eventStore, logger, catalog } = deps;
  const now = deps.now ?? (() => new Date());
  const policy = deps.policy ?? DEFAULT_ORDER_POLICY;
  const schedule = deps.schedule ?? DEFAULT_SCHEDULE_WINDOW;
  const listeners: ((change: OrderChange) => void)[] = [];

  // The last state written per order stream: a command on an order this process just moved
  // (a payment webhook after placement, say) needs no read (see AggregateCache).
  const orderStates = createAggregateCache<OrderState>();

  function notify(change: OrderChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error }, 'order change listener failed');
      }
    }
  }

  async function afterEvents(state: OrderState, events: OrderEvent[], revision: bigint) {
    const order = state.order!;
    notify({ order, state, events, revision });
    // Stock taken at placement comes back when the order ends without being cooked: here at once,
    // exactly once (should this fail or the process stop, the stock reactor settles it).
    // Consumed (pickup) is left to the reactor: it moves no stock and need not delay the answer.
    if (order.reservedStock.length > 0 && events.some((event) => stockOutcomeOf(event.type) === 'restored')) {
      await deps.stock.settle(order.orderId, 'restored').catch((error: unknown) => {
        logger.error(
          { err: error, orderId: order.orderId },
          'stock restore failed; the stock reactor retries',
        );
      });
    }
  }

  /** A refusal that is recorded before it is answered (a wrong PIN or pickup code counts towards its lockout). */
  function refuseAfterAppend(events: readonly OrderEvent[], state: OrderState): void {
    const refusal = deliveryPinRefusal(events, state) ?? pickupCodeRefusal(events, state);
    if (refusal !== undefined) throw refusal;
  }

  /** Decides on a state this process just wrote and appends at its revision: no re-read. */
  async function executeOnKnown(
    orderId: string,
    command: OrderCommand,
    known: { state: OrderState; revision: bigint },
    metadata?: EventMetadata,
  ) {
    const events = tracedDecide(orderStream(orderId), command, () => decide(command, known.state));
    if (events.length === 0) return known;
    try {
      const appended = await eventStore.append(
        orderStream(orderId),
        events.map((event) => ({ ...event, metadata })),
        { expectedRevision: known.revision },
      );
      const state = events.reduce(evolve, known.state);
      orderStates.set(orderStream(orderId), state, appended.nextRevision);
      await afterEvents(state, events, appended.nextRevision);
      refuseAfterAppend(events, state);
      return { state, revision: appended.nextRevision };
    } catch (error) {
      if (error instanceof WrongExpectedVersion) return execute(orderId, command, metadata);
      throw error;
    }
  }

  async function execute(orderId: string, command: OrderCommand, metadata?: EventMetadata) {
    const result = await handleCommand(eventStore, orderStream(orderId), orderDecider, command, {
      metadata,
      maxAttempts: 5,
      cache: orderStates,
    });
    if (result.newEvents.length > 0 && result.revision !== 'no_stream') {
      await afterEvents(result.state, result.newEvents, result.revision);
    }
    refuseAfterAppend(result.newEvents, result.state);
    return { state: result.state, revision: result.revision === 'no_stream' ? -1n : result.revision };
  }

  async function load(orderId: string): Promise<{ state: OrderState; revision: bigint }> {
    const loaded = await aggregateStream(eventStore, orderStream(orderId), evolve, initialState(), 10_000);
    if (loaded.revision === 'no_stream' || loaded.state.order === null)
      throw ordersErrors.of('not_found', 'order_not_found', 'There is no such order.');
    return { state: loaded.state, revision: loaded.revision };
  }

  async function resolveDiscount(
    input: PlaceOrderInput,
    customerId: string,
    subtotalMinor: bigint,
    at: Date,
  ): Promise<Discount> {
    if (input.couponCode === undefined) return { kind: 'none' };
    const result = await deps.coupons.evaluate(input.couponCode, {
      restaurantId: input.restaurantId,
      customerId,
      subtotalMinor,
      at,
    });
    if (!result.valid)
      throw ordersErrors.of(
        'unprocessable',
        'coupon_invalid',
        `The coupon cannot be used: ${result.reason}.`,
      );
    return result.discount;
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
  async function quote(input: PlaceOrderInput, customerId: string, current: Date) {
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
    const discount = await resolveDiscount(input, customerId, subtotal, current);
    try {
      const pricing = priceOrder({
        lines: snapshot.lines.map((line) => ({
          quantity: line.quantity,
          unitPriceMinor: line.itemPrice,
          modifiers: line.options.map((option) => ({ priceDeltaMinor: option.priceDelta })),
        })),
        distanceMetres: delivery.distanceM,
        taxRatePercent: deps.taxRatePercent,
        tipMinor: BigInt(input.tipMinor),
        discount,
      });
      return { snapshot, delivery, pricing, at };
    } catch (error) {
      if (error instanceof PricingError)
        throw ordersErrors.of('unprocessable', 'invalid_order', error.message);
      throw error;
    }
  }

  function creationData(
    orderId: string,
    input: PlaceOrderInput,
    customer: OrderCreatedData['customer'],
    quoted: Awaited<ReturnType<typeof quote>>,
    current: Date,
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
    const preparation = Math.max(
      snapshot.restaurant.prepTimeMinutes,
      ...snapshot.lines.map((line) => line.prepTimeMinutes ?? 0),
    );
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
        taxRatePercent: deps.taxRatePercent,
      },
      couponCode: input.couponCode ?? null,
      delivery: {
        latitude: input.delivery.latitude,
        longitude: input.delivery.longitude,
        text: input.delivery.text.trim(),
      },
      paymentMethod: input.payment,
      scheduledFor: input.scheduledFor === undefined ? null : quoted.at.toISOString(),
      trackingSecret: newTrackingSecret(),
      deliveryPin: digits(4),
      pickupCode: digits(4),
      estimatedPreparationMinutes: preparation,
      reservedStock: snapshot.lines
        .filter((line) => line.stock !== null)
        .map((line) => ({ itemId: line.itemId, quantity: line.quantity })),
      policy,
      at: current.toISOString(),
    };
  }

  /** At placement: asks the payment port for the new order's total; undefined when the request itself failed. */
  async function requestPayment(
    order: NonNullable<OrderState['order']>,
  ): Promise<PaymentOutcome | undefined> {
    if (deps.payments === undefined) throw new Error('unreachable: checked before placement');
    try {
      return await deps.payments.authorizeAndCapture({
        orderId: order.orderId,
        payerId: order.customer.id,
        amountMinor: BigInt(order.pricing.totalMinor),
        currency: 'XAF',
        method: order.paymentMethod,
        idempotencyKey: paymentKeyOf(order.orderId),
        pricing: order.pricing,
        firstAttempt: true, // only placement asks, for the order it is creating
      });
    } catch (error) {
      // No provider could take it: the caller fails the order and tells the client (503/502).
      if (isProviderOutage(error)) throw error;
      // The order stays PENDING_PAYMENT: the provider may still answer, or the deadline expires it
      // (and the escrow reactor refunds whatever reached the escrow).
      logger.error({ err: error, orderId: order.orderId }, 'payment request failed');
      return undefined;
    }
  }

  /**
   * The payment could not start because no provider could take it: the order fails now with the
   * port's code (visible on the order), and the client gets the error with the order's id,
   * instead of an order left waiting 15 minutes for a payment nobody asked for.
   */
  async function failForOutage(
    orderId: string,
    error: DomainError,
    metadata: EventMetadata | undefined,
    known: { state: OrderState; revision: bigint },
  ): Promise<never> {
    await recordPaymentOutcome(orderId, { status: 'failed', reason: error.code }, metadata, known);
    throw new DomainError(error.context, error.kind, error.code, error.message, {
      details: { ...error.details, orderId, orderStatus: 'PAYMENT_FAILED' },
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
      cause: error,
    });
  }

  /** The events a final payment outcome adds to an order awaiting payment (none while pending). */
  function paymentEvents(state: OrderState, outcome: PaymentOutcome | undefined, at: Date): OrderEvent[] {
    if (outcome === undefined || outcome.status === 'pending') return [];
    const command: OrderCommand =
      outcome.status === 'captured'
        ? {
            type: 'CapturePayment',
            data: { paymentId: outcome.paymentId, amountMinor: Number(outcome.amountMinor), at },
          }
        : { type: 'FailPayment', data: { reason: outcome.reason, at } };
    return tracedDecide(orderStream(state.order?.orderId ?? 'unknown'), command, () =>
      decide(command, state),
    );
  }

  async function recordPaymentOutcome(
    orderId: string,
    outcome: PaymentOutcome,
    metadata?: EventMetadata,
    known?: { state: OrderState; revision: bigint },
  ) {
    const at = now();
    const run = (command: OrderCommand) =>
      known === undefined
        ? execute(orderId, command, metadata)
        : executeOnKnown(orderId, command, known, metadata);
    switch (outcome.status) {
      case 'captured':
        return run({
          type: 'CapturePayment',
          data: { paymentId: outcome.paymentId, amountMinor: Number(outcome.amountMinor), at },
        });
      case 'failed':
        return run({ type: 'FailPayment', data: { reason: outcome.reason, at } });
      case 'pending':
        return known ?? load(orderId);
      default: {
        const exhaustive: never = outcome;
        throw new Error(`unknown payment outcome ${JSON.stringify(exhaustive)}`);
      }
    }
  }

  /** The order placed under this id with its tracking token, or undefined when there is none. */
  async function find(orderId: string) {
    const loaded = await aggregateStream(eventStore, orderStream(orderId), evolve, initialState(), 10_000);
    if (loaded.revision === 'no_stream' || loaded.state.order === null) return undefined;
    const tracking = trackingToken(orderId, loaded.state.order.trackingSecret);
    return { state: loaded.state, revision: loaded.revision, trackingToken: tracking };
  }

  /**
   * `options.orderId` names the order after the request's Idempotency-Key, so that its stream is
   * the placement's stored answer (written by the append itself); `options.resume` says an
   * earlier attempt may have reserved the stock or moved the wallet money already (both are
   * idempotent by the order id) and then stopped before appending.
   */
  async function place(
    input: PlaceOrderInput,
    customer: OrderCreatedData['customer'],
    metadata?: EventMetadata,
    options: { orderId?: string; resume?: boolean } = {},
  ) {
    if (deps.payments === undefined)
      throw ordersErrors.of(
        'unavailable',
        'payments_unavailable',
        'Payments are not configured on this server.',
      );
    const methodProblem = deps.payments.checkMethod?.(input.payment);
    if (methodProblem !== undefined)
      throw ordersErrors.of('unprocessable', methodProblem.code, methodProblem.message, {
        details: methodProblem.details ?? {},
      });
    const current = now();
    const quoted = await quote(input, customer.id, current);
    const orderId = options.orderId ?? randomUUID();
    const data = creationData(orderId, input, customer, quoted, current);
    const create: OrderCommand = { type: 'CreateOrder', data };
    const [created] = tracedDecide(orderStream(orderId), create, () => decide(create, initialState()));
    // Only items whose stock the catalog tracks are reserved: untracked ones need no row lock.
    const stockLines = data.reservedStock;
    if (stockLines.length > 0) {
      const stock = await deps.stock.reserve(orderId, data.restaurantId, stockLines, {
        resume: options.resume === true,
      });
      if (!stock.ok)
        throw ordersErrors.of('conflict', 'insufficient_stock', 'Some items sold out meanwhile.', {
          details: { insufficient: stock.insufficient },
        });
    }
    const createdState = evolve(initialState(), created!);
    // A wallet settles at once: its money moves first and the order is appended once, created
    // and paid (or failed) together. Should this process stop between the two, the escrow holds
    // money for an order that does not exist, and the stranded-escrow sweep gives it back.
    // Mobile Money answers later: the order exists (PENDING_PAYMENT) before the collection starts.
    const settled = input.payment.kind === 'wallet' ? await requestPayment(createdState.order!) : undefined;
    const events = [created!, ...paymentEvents(createdState, settled, now())];
    let appended;
    try {
      appended = await eventStore.append(
        orderStream(orderId),
        events.map((event, index) =>
          index === 0
            ? {
                ...event,
                metadata,
                personalData: { subjectId: customer.id, fields: ['delivery', 'paymentMethod'] },
              }
            : { ...event, metadata },
        ),
        { expectedRevision: 'no_stream' },
      );
    } catch (error) {
      // Another attempt with the same key appended first: its order is this request's answer.
      if (options.orderId !== undefined && error instanceof WrongExpectedVersion) {
        const existing = await find(orderId);
        if (existing !== undefined) return existing;
      }
      // Given back only once the order is known not to exist (the append may have landed before
      // the error reached us); if this check fails too, the stranded-stock sweep does it later.
      if (stockLines.length > 0)
        await deps.stock.restoreIfUnplaced(orderId).catch((restoreError: unknown) => {
          logger.error(
            { err: restoreError, orderId },
            'stock restore after a failed append failed; the sweep retries',
          );
        });
      throw error;
    }
    const state = events.slice(1).reduce(evolve, createdState);
    orderStates.set(orderStream(orderId), state, appended.nextRevision);
    await afterEvents(state, events, appended.nextRevision);
    const tracking = trackingToken(orderId, data.trackingSecret);
    const known = { state, revision: appended.nextRevision };
    if (input.payment.kind === 'wallet') return { ...known, trackingToken: tracking };
    let outcome;
    try {
      outcome = await requestPayment(state.order!);
    } catch (error) {
      if (isProviderOutage(error)) return failForOutage(orderId, error, metadata, known);
      throw error;
    }
    const placed =
      outcome === undefined ? known : await recordPaymentOutcome(orderId, outcome, metadata, known);
    return { ...placed, trackingToken: tracking };
  }

  /** Scheduled commands whose time has come (payment deadline, unanswered order, dispute window). */
  async function sweep(at: Date = now()): Promise<{ expired: number; rejected: number; completed: number }> {
    const minutes = (count: number) => new Date(at.getTime() - count * 60_000);
    const counts = { expired: 0, rejected: 0, completed: 0 };
    const jobs = [
      {
        status: 'PENDING_PAYMENT',
        before: minutes(policy.paymentTimeoutMinutes),
        command: { type: 'ExpirePayment', data: { now: at } },
        key: 'expired',
      },
      {
        status: 'PLACED',
        before: minutes(policy.acceptTimeoutMinutes),
        command: { type: 'RejectUnanswered', data: { now: at } },
        key: 'rejected',
      },
      {
        status: 'DELIVERED',
        before: minutes(policy.disputeWindowMinutes),
        command: { type: 'CompleteOrder', data: { now: at } },
        key: 'completed',
      },
    ] as const;
    for (const job of jobs) {
      const release = job.status === 'PLACED' ? (policy.scheduledReleaseMinutes ?? 0) : 0;
      for (const orderId of await deps.repository.due(job.status, job.before, release)) {
        try {
          await execute(orderId, job.command as OrderCommand, { actorRole: 'system' });
          counts[job.key] += 1;
        } catch (error) {
          // Another instance or a person got there first, or the order's own policy says later.
          if (!isOrderRefusal(error)) logger.warn({ err: error, orderId }, 'scheduled order command failed');
        }
      }
    }
    return counts;
  }

  /** The Mobile Money payment the order waits for (placement started it), when the port can tell. */
  async function paymentProgress(state: OrderState): Promise<OrderPaymentProgress | undefined> {
    const order = state.order;
    if (
      order === null ||
      order.paymentMethod.kind !== 'mobile_money' ||
      deps.payments?.paymentOf === undefined
    )
      return undefined;
    return deps.payments.paymentOf({
      orderId: order.orderId,
      payerId: order.customer.id,
      idempotencyKey: paymentKeyOf(order.orderId),
    });
  }

  return {
    place,
    find,
    paymentProgress,
    execute,
    load,
    recordPaymentOutcome,
    sweep,
    trackingUrl: (state: OrderState) =>
      `${deps.publicBaseUrl.replace(/\/$/, '')}/track/${trackingToken(state.order!.orderId, state.order!.trackingSecret)}`,
    onChange(listener: (change: OrderChange) => void): () => void {
      listeners.push(listener);
      return () => {
        const index = listeners.indexOf(listener);
        if (index >= 0) listeners.splice(index, 1);
      };
    },
    isTerminal: (state: OrderState) => state.status !== 'NONE' && TERMINAL_STATUSES.has(state.status),
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
