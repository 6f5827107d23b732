/**
 * An order's payment: asked of the payment port at placement (a wallet settles at once, Mobile
 * Money answers later), and its outcome recorded on the order when it comes.
 */
import type { Logger } from 'pino';
import { tracedDecide, type EventMetadata } from '../../eventstore/index.js';
import { DomainError, isDomainError } from '../../shared/errors.js';
import { decide, type OrderState } from './decider.js';
import { orderStream, type OrderCommand, type OrderEvent } from './events.js';
import type { OrderStore } from './order-store.js';
import type { OrderPaymentProgress, PaymentOutcome, PaymentPort } from './ports.js';

/** The key an order's payment is requested under: the same order never starts two collections. */
const paymentKeyOf = (orderId: string) => `order-${orderId}`;

/** A payment port's "no provider could take it" (see PaymentPort). */
export function isProviderOutage(error: unknown): error is DomainError {
  return isDomainError(error) && (error.kind === 'unavailable' || error.kind === 'bad_gateway');
}

export interface OrderPaymentsDependencies {
  store: OrderStore;
  /** Undefined until a payment port is configured: placement answers 503 before asking. */
  payments: PaymentPort | undefined;
  logger: Logger;
  now: () => Date;
}

export type OrderPayments = ReturnType<typeof createOrderPayments>;

export function createOrderPayments(deps: OrderPaymentsDependencies) {
  const { logger, now } = deps;
  const { execute, executeOnKnown, load } = deps.store;

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

  return { requestPayment, failForOutage, paymentEvents, recordPaymentOutcome, paymentProgress };
}
