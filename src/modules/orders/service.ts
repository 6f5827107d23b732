/**
 * The orders application service: placement (catalog snapshot → pricing → stock → OrderCreated →
 * payment), every other command through the event store's handleCommand (read, decide, append
 * with the expected revision, retry on a lost race), scheduled commands (the sweeper), reads of
 * one order from its stream (strongly consistent, ETag = revision), and the fan-out hook.
 *
 * Split along its seams: pricing at placement (order-quote.ts), commands and reads on the streams
 * (order-store.ts), the payment (order-payments.ts); placement and the sweeper are here.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  tracedDecide,
  WrongExpectedVersion,
  type EventMetadata,
  type EventStore,
} from '../../eventstore/index.js';
import { isOrderRefusal, ordersErrors } from './errors.js';
import {
  decide,
  DEFAULT_DELIVERY_PIN_LOCK_MINUTES,
  DEFAULT_DELIVERY_PIN_MAX_ATTEMPTS,
  DEFAULT_PICKUP_CODE_LOCK_MINUTES,
  DEFAULT_PICKUP_CODE_MAX_ATTEMPTS,
  evolve,
  initialState,
  type OrderState,
} from './decider.js';
import {
  orderStream,
  TERMINAL_STATUSES,
  type OrderCommand,
  type OrderCreatedData,
  type OrderEvent,
  type OrderPolicy,
} from './events.js';
import { createOrderPayments, isProviderOutage } from './order-payments.js';
import {
  createOrderQuote,
  DEFAULT_SCHEDULE_WINDOW,
  type PlaceOrderInput,
  type ScheduleWindow,
} from './order-quote.js';
import { createOrderStore, type OrderChange } from './order-store.js';
import {
  noPoints,
  type CatalogPort,
  type CouponPort,
  type PaymentPort,
  type PointsPort,
  type PreparationPort,
  type PointsRules,
} from './ports.js';
import type { OrdersRepository } from './repository.js';
import type { StockReservations } from './stock.js';
import { trackingToken } from './tracking-token.js';

export {
  deliveryCheck,
  DEFAULT_SCHEDULE_WINDOW,
  type PlaceOrderInput,
  type ScheduleWindow,
} from './order-quote.js';
export type { OrderChange } from './order-store.js';

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
  /** Loyalty points at checkout (a `later` need: loyalty is built after orders). */
  points?: () => PointsPort;
  /** The preparation-time model (a `later` need); absent or undefined: the stated time. */
  preparation?: () => PreparationPort | undefined;
  pointsRules?: PointsRules;
  taxRatePercent: string;
  publicBaseUrl: string;
  policy?: OrderPolicy;
  schedule?: ScheduleWindow;
  now?: () => Date;
}

export function createOrdersService(deps: OrdersDependencies) {
  const { eventStore, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const policy = deps.policy ?? DEFAULT_ORDER_POLICY;
  const store = createOrderStore({ eventStore, stock: deps.stock, logger });
  const { execute, load, find } = store;
  const quoting = createOrderQuote({
    catalog: deps.catalog,
    coupons: deps.coupons,
    points: deps.points ?? (() => noPoints),
    preparation: deps.preparation ?? (() => undefined),
    logger,
    pointsRules: deps.pointsRules ?? { valueXaf: 1n, maxSharePercent: 50n },
    taxRatePercent: deps.taxRatePercent,
    policy,
    schedule: deps.schedule ?? DEFAULT_SCHEDULE_WINDOW,
    firstOrder: (customerId, exceptOrderId) => deps.repository.isFirstOrder(customerId, exceptOrderId),
  });
  const payment = createOrderPayments({ store, payments: deps.payments, logger, now });
  const { recordPaymentOutcome } = payment;

  /** Placement needs a payment port that accepts the order's payment method. */
  function checkPaymentMethod(input: PlaceOrderInput): void {
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
  }

  /**
   * Holds the order's points after its stock (placement order: stock, points, payment, append).
   * Refused or failed, the stock of the order (never appended) goes back and nothing is held: a
   * hold that may have landed (the ledger's answer lost) ends with its own timeout.
   */
  async function holdPoints(data: OrderCreatedData): Promise<void> {
    if (data.pointsUsed === undefined) return;
    const points = deps.points ?? (() => noPoints);
    let held: boolean;
    try {
      held = await points().hold(data.orderId, data.customer.id, BigInt(data.pointsUsed));
    } catch (error) {
      await restoreUnplaced(data.orderId);
      throw error;
    }
    if (!held) {
      await restoreUnplaced(data.orderId);
      await releaseCoupon(data);
      await releaseFreeDelivery(data);
      const available = await points()
        .available(data.customer.id)
        .catch(() => undefined);
      throw ordersErrors.of(
        'unprocessable',
        'points_insufficient',
        'You do not have that many points.',
        available === undefined ? undefined : { details: { available: Number(available) } },
      );
    }
  }

  /**
   * Reserves the coupon's use after the stock (idempotent by order: a retried placement finds its
   * reservation). Refused (a cap reached meanwhile), the stock of the never-appended order goes
   * back. A reservation whose order is never appended is released by loyalty's sweep.
   */
  async function reserveCoupon(data: OrderCreatedData, at: Date): Promise<void> {
    if (data.coupon === undefined) return;
    let result;
    try {
      result = await deps.coupons.reserve({
        couponId: data.coupon.id,
        orderId: data.orderId,
        customerId: data.customer.id,
        restaurantId: data.restaurantId,
        // The coupon's own part: with points the order's discount is more than the coupon gave.
        discountMinor: BigInt(data.coupon.discountMinor ?? data.pricing.discountMinor),
        subtotalMinor: BigInt(data.pricing.subtotalMinor),
        totalMinor: BigInt(data.pricing.totalMinor),
        at,
      });
    } catch (error) {
      await restoreUnplaced(data.orderId);
      throw error;
    }
    if (!result.reserved) {
      await restoreUnplaced(data.orderId);
      throw ordersErrors.of('unprocessable', result.code, `The coupon cannot be used: ${result.reason}.`);
    }
  }

  /**
   * Takes one of the customer's tier free deliveries of the month after the coupon (idempotent by
   * order: a retried placement finds its own). Refused (another order took the last one
   * meanwhile), the stock and the coupon's use of the never-appended order go back: 409.
   */
  async function reserveFreeDelivery(data: OrderCreatedData): Promise<void> {
    const benefit = data.freeDelivery;
    const port = (deps.points ?? (() => noPoints))();
    if (benefit === undefined || port.reserveFreeDelivery === undefined) return;
    let reserved: boolean;
    try {
      reserved = await port.reserveFreeDelivery({
        orderId: data.orderId,
        customerId: data.customer.id,
        tier: benefit.tier,
        period: benefit.period,
        discountMinor: BigInt(benefit.discountMinor),
      });
    } catch (error) {
      await restoreUnplaced(data.orderId);
      await releaseCoupon(data);
      throw error;
    }
    if (!reserved) {
      await restoreUnplaced(data.orderId);
      await releaseCoupon(data);
      throw ordersErrors.of(
        'conflict',
        'free_delivery_taken',
        'Another order took your last free delivery of the month; place the order again.',
      );
    }
  }

  /** Points refused after the free delivery was taken: it goes back now (the order never existed). */
  async function releaseFreeDelivery(data: OrderCreatedData): Promise<void> {
    const port = (deps.points ?? (() => noPoints))();
    if (data.freeDelivery === undefined || port.releaseFreeDelivery === undefined) return;
    await port.releaseFreeDelivery(data.orderId).catch((error: unknown) => {
      logger.error(
        { err: error, orderId: data.orderId },
        'free delivery release after refused points failed',
      );
    });
  }

  /** Points refused after the coupon was reserved: its use goes back now rather than at the sweep. */
  async function releaseCoupon(data: OrderCreatedData): Promise<void> {
    if (data.coupon === undefined || deps.coupons.releaseUnplaced === undefined) return;
    await deps.coupons.releaseUnplaced(data.orderId).catch((error: unknown) => {
      logger.error(
        { err: error, orderId: data.orderId },
        'coupon release after refused points failed; the sweep does it',
      );
    });
  }

  async function restoreUnplaced(orderId: string): Promise<void> {
    await deps.stock.restoreIfUnplaced(orderId).catch((error: unknown) => {
      logger.error(
        { err: error, orderId },
        'stock restore after a refused points hold or coupon failed; the sweep retries',
      );
    });
  }

  /** Only items whose stock the catalog tracks are reserved: untracked ones need no row lock. */
  async function reserveStock(data: OrderCreatedData, resume: boolean): Promise<void> {
    if (data.reservedStock.length === 0) return;
    const stock = await deps.stock.reserve(data.orderId, data.restaurantId, data.reservedStock, { resume });
    if (!stock.ok)
      throw ordersErrors.of('conflict', 'insufficient_stock', 'Some items sold out meanwhile.', {
        details: { insufficient: stock.insufficient },
      });
  }

  /**
   * Appends the new order's first events. Should the append fail, the order another attempt with
   * the same key appended is the answer (`existing`); otherwise its stock goes back and the
   * error is thrown.
   */
  async function appendPlacement(
    data: OrderCreatedData,
    events: OrderEvent[],
    metadata: EventMetadata | undefined,
    keyed: boolean,
  ): Promise<{ nextRevision: bigint } | { existing: NonNullable<Awaited<ReturnType<typeof find>>> }> {
    const { orderId } = data;
    try {
      return await eventStore.append(
        orderStream(orderId),
        events.map((event, index) =>
          index === 0
            ? {
                ...event,
                metadata,
                personalData: { subjectId: data.customer.id, fields: ['delivery', 'paymentMethod'] },
              }
            : { ...event, metadata },
        ),
        { expectedRevision: 'no_stream' },
      );
    } catch (error) {
      // Another attempt with the same key appended first: its order is this request's answer.
      if (keyed && error instanceof WrongExpectedVersion) {
        const existing = await find(orderId);
        if (existing !== undefined) return { existing };
      }
      // Given back only once the order is known not to exist (the append may have landed before
      // the error reached us); if this check fails too, the stranded-stock sweep does it later.
      if (data.reservedStock.length > 0)
        await deps.stock.restoreIfUnplaced(orderId).catch((restoreError: unknown) => {
          logger.error(
            { err: restoreError, orderId },
            'stock restore after a failed append failed; the sweep retries',
          );
        });
      throw error;
    }
  }

  /** A Mobile Money order, appended PENDING_PAYMENT: its collection starts now. */
  async function startPayment(
    orderId: string,
    known: { state: OrderState; revision: bigint },
    metadata: EventMetadata | undefined,
  ) {
    let outcome;
    try {
      outcome = await payment.requestPayment(known.state.order!);
    } catch (error) {
      if (isProviderOutage(error)) return payment.failForOutage(orderId, error, metadata, known);
      throw error;
    }
    return outcome === undefined ? known : await recordPaymentOutcome(orderId, outcome, metadata, known);
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
    options: { orderId?: string; resume?: boolean; expectedTotalMinor?: number } = {},
  ) {
    checkPaymentMethod(input);
    const current = now();
    const orderId = options.orderId ?? randomUUID();
    const quoted = await quoting.quote(input, customer.id, current, options.orderId);
    checkAgreedTotal(quoted, options.expectedTotalMinor);
    const estimate = await quoting.preparationEstimate(quoted, current);
    const data = quoting.creationData(orderId, input, customer, quoted, current, estimate);
    const create: OrderCommand = { type: 'CreateOrder', data };
    const [created] = tracedDecide(orderStream(orderId), create, () => decide(create, initialState()));
    await reserveStock(data, options.resume === true);
    await reserveCoupon(data, current);
    await reserveFreeDelivery(data);
    await holdPoints(data);
    const createdState = evolve(initialState(), created!);
    // A wallet settles at once: its money moves first and the order is appended once, created
    // and paid (or failed) together. Should this process stop between the two, the escrow holds
    // money for an order that does not exist, and the stranded-escrow sweep gives it back.
    // Mobile Money answers later: the order exists (PENDING_PAYMENT) before the collection starts.
    const settled =
      input.payment.kind === 'wallet' ? await payment.requestPayment(createdState.order!) : undefined;
    const events = [created!, ...payment.paymentEvents(createdState, settled, now())];
    const appended = await appendPlacement(data, events, metadata, options.orderId !== undefined);
    if ('existing' in appended) return appended.existing;
    const state = events.slice(1).reduce(evolve, createdState);
    await store.appended(orderId, state, events, appended.nextRevision);
    const tracking = trackingToken(orderId, data.trackingSecret);
    const known = { state, revision: appended.nextRevision };
    if (input.payment.kind === 'wallet') return { ...known, trackingToken: tracking };
    return { ...(await startPayment(orderId, known, metadata)), trackingToken: tracking };
  }

  /**
   * What `place` would charge for this input now, without placing anything (no stock, no points,
   * no payment): the same catalog snapshot, delivery rule and pricing, the same refusals. For
   * channels that confirm a total before placing (USSD).
   */
  async function quote(input: PlaceOrderInput, customerId: string) {
    return figuresOf(await quoting.quote(input, customerId, now()));
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

  return {
    place,
    quote,
    find,
    paymentProgress: payment.paymentProgress,
    execute,
    load,
    recordPaymentOutcome,
    sweep,
    trackingUrl: (state: OrderState) =>
      `${deps.publicBaseUrl.replace(/\/$/, '')}/track/${trackingToken(state.order!.orderId, state.order!.trackingSecret)}`,
    onChange: (listener: (change: OrderChange) => void): (() => void) => store.onChange(listener),
    isTerminal: (state: OrderState) => state.status !== 'NONE' && TERMINAL_STATUSES.has(state.status),
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;

type Quoted = {
  pricing: Record<
    'subtotalMinor' | 'discountMinor' | 'deliveryFeeMinor' | 'taxMinor' | 'tipMinor' | 'totalMinor',
    bigint | number
  >;
  delivery: { distanceM: number };
};

/** A quote's figures as a client reads them (XAF, numbers). */
function figuresOf({ pricing, delivery }: Quoted) {
  return {
    subtotalMinor: Number(pricing.subtotalMinor),
    discountMinor: Number(pricing.discountMinor),
    deliveryFeeMinor: Number(pricing.deliveryFeeMinor),
    taxMinor: Number(pricing.taxMinor),
    tipMinor: Number(pricing.tipMinor),
    totalMinor: Number(pricing.totalMinor),
    distanceMetres: delivery.distanceM,
  };
}

/**
 * The total the customer agreed to (an offline order's, a USSD confirmation's) against the one
 * this placement priced, before anything is reserved or charged: the price charged is the one
 * priced here, so a price changed since the customer's quote is refused (409 `order_repriced`,
 * the new figures in `quote`), never charged silently.
 */
function checkAgreedTotal(quoted: Quoted, expectedTotalMinor: number | undefined): void {
  if (expectedTotalMinor === undefined || Number(quoted.pricing.totalMinor) === expectedTotalMinor) return;
  throw ordersErrors.of(
    'conflict',
    'order_repriced',
    `The total is now ${Number(quoted.pricing.totalMinor)} XAF, not ${expectedTotalMinor}; nothing was placed.`,
    { details: { expectedTotalMinor, quote: figuresOf(quoted) } },
  );
}
