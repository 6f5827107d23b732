/**
 * Mobile Money payment attempts: initiate a collection, learn its outcome (webhook hint →
 * re-read from the provider, polling job with backoff, stale sweep), and book it in the ledger
 * exactly once. What a success does:
 *   - a top-up: provider clearing → the customer's wallet, and the provider fee as its own transfer;
 *   - an order's payment: provider clearing → the order's escrow (+ fee), then the order is told;
 *     if the order can no longer take it (expired, cancelled), the money goes on to the wallet;
 *   - a late success after the attempt expired: the money lands in the customer's wallet.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { tracedDecide, WrongExpectedVersion, type EventStore } from '../../eventstore/index.js';
import type { JobQueue } from '../../jobs/index.js';
import { paymentsErrors } from './errors.js';
import { uuidFromName } from './ids.js';
import type { LedgerPort } from './ledger-port.js';
import { createPaymentAttemptsRepository } from './payment-attempts-repository.js';
import { createPaymentBooking, type BulkCollectionsHook, type OrdersHook } from './payment-booking.js';
import {
  decidePayment,
  initialPaymentState,
  PAYMENT_EXPIRY_MINUTES,
  paymentStream,
  evolvePayment,
  type PaymentPurpose,
  type PaymentState,
} from './payment-decider.js';
import { createPaymentStatus, POLL_QUEUE } from './payment-status.js';
import { createPaymentStore } from './payment-store.js';
import { createPaymentSweep, SETTLE_QUEUE, UNREACHABLE } from './payment-sweep.js';
import { createPaymentWebhooks, WEBHOOK_RECHECK_QUEUE } from './payment-webhooks.js';
import {
  detectOperator,
  ProviderRejected,
  ProviderUnavailable,
  toE164,
  type Operator,
  type PaymentRouter,
  type ProviderName,
} from './providers/index.js';
import type { PaymentsDb } from './tables.js';

export type { BulkCollectionsHook, OrdersHook } from './payment-booking.js';
export { POLL_QUEUE } from './payment-status.js';
export { LATE_POLL_WINDOW_MS, LOCATE_AFTER_MS, SETTLE_QUEUE } from './payment-sweep.js';
export { WEBHOOK_RECHECK_QUEUE } from './payment-webhooks.js';

/** The attempt an idempotency key names for a user (the same key always names the same attempt). */
export const paymentIdOf = (userId: string, idempotencyKey: string): string =>
  uuidFromName('payment', `${userId}\n${idempotencyKey}`);

/** Largest single Mobile Money payment (CamPay/MTN wallets cap far below this). */
export const MAX_PAYMENT_MINOR = 5_000_000n;

export interface PaymentsServiceOptions {
  db: PaymentsDb;
  eventStore: EventStore;
  router: PaymentRouter;
  ledger: LedgerPort;
  queue: JobQueue;
  logger: Logger;
  /** Late-bound: the orders context is built after payments (it takes our PaymentPort). */
  orders: () => OrdersHook | undefined;
  /** Late-bound: community's bulk orders, told when their deposit or balance lands or fails. */
  bulkOrders?: () => BulkCollectionsHook | undefined;
  /** Webhook references that are not collections (payout disbursements) go here. */
  onUnknownReference?: (
    provider: ProviderName,
    providerReference: string,
    externalReference?: string,
  ) => Promise<boolean>;
  pollInitialDelayMs: number;
  now?: () => Date;
}

export interface InitiateInput {
  userId: string;
  purpose: PaymentPurpose;
  amountMinor: bigint;
  currency: 'XAF';
  phone: string;
  /** The operator the client says the number belongs to (an order's payment method): checked. */
  operator?: Operator;
  idempotencyKey: string;
  description: string;
  /**
   * The caller knows no attempt with this key can exist yet (an order placed by this very
   * request): the existence read is skipped. A wrong hint costs no money: the append expects no
   * stream and the existing attempt is answered.
   */
  firstAttempt?: boolean;
}

export interface PaymentView {
  paymentId: string;
  status: PaymentState['status'];
  purpose: PaymentPurpose['kind'];
  orderId: string | null;
  /** A bulk order's deposit or balance (community): the request it pays. */
  bulkOrderId: string | null;
  amountMinor: bigint;
  currency: string;
  provider: ProviderName | null;
  operator: string | null;
  ussdCode: string | null;
  failureReason: string | null;
  afterExpiry: boolean;
  createdAt: string | null;
  expiresAt: string | null;
}

export function paymentView(paymentId: string, state: PaymentState): PaymentView {
  const initiated = state.initiated;
  return {
    paymentId,
    status: state.status,
    purpose: initiated?.purpose.kind ?? 'topup',
    orderId: initiated?.purpose.kind === 'order' ? initiated.purpose.orderId : null,
    bulkOrderId: initiated?.purpose.kind === 'bulk_order' ? initiated.purpose.bulkOrderId : null,
    amountMinor: BigInt(initiated?.amountMinor ?? 0),
    currency: initiated?.currency ?? 'XAF',
    provider: state.requested?.provider ?? null,
    operator: initiated?.operator ?? null,
    ussdCode: state.requested?.ussdCode ?? null,
    failureReason: state.failureReason,
    afterExpiry: state.succeeded?.afterExpiry ?? false,
    createdAt: initiated?.at ?? null,
    expiresAt: initiated?.expiresAt ?? null,
  };
}

/**
 * The parts of the service, along its seams: the attempt's persistence (store, rows), its
 * booking in the ledger, what its provider says (status, polls), webhooks, and the sweep.
 */
function createParts(options: PaymentsServiceOptions, now: () => Date) {
  const { eventStore, router, ledger, queue, logger } = options;
  const attempts = createPaymentAttemptsRepository(options.db);
  const store = createPaymentStore({ eventStore, attempts, now });
  const booking = createPaymentBooking({
    store,
    attempts,
    ledger,
    orders: options.orders,
    ...(options.bulkOrders === undefined ? {} : { bulkOrders: options.bulkOrders }),
    logger,
    now,
  });
  const status = createPaymentStatus({
    store,
    attempts,
    booking,
    router,
    queue,
    logger,
    pollInitialDelayMs: options.pollInitialDelayMs,
    now,
  });
  const webhooks = createPaymentWebhooks({
    attempts,
    status,
    router,
    queue,
    logger,
    ...(options.onUnknownReference === undefined ? {} : { onUnknownReference: options.onUnknownReference }),
  });
  const sweeper = createPaymentSweep({ store, attempts, status, booking, queue, logger });
  return { store, booking, status, webhooks, sweeper };
}

export function createPaymentsService(options: PaymentsServiceOptions) {
  const { eventStore, router, queue } = options;
  const now = options.now ?? (() => new Date());
  const { store, booking, status, webhooks, sweeper } = createParts(options, now);
  const { load, execute } = store;

  function checkInput(input: InitiateInput): { phone: string; operator: Operator } {
    const phone = toE164(input.phone);
    const operator = phone === undefined ? undefined : detectOperator(phone);
    if (phone === undefined || operator === undefined)
      throw paymentsErrors.of(
        'unprocessable',
        'unsupported_phone',
        'Give an MTN or Orange Mobile Money number from Cameroon.',
      );
    if (input.operator !== undefined && input.operator !== operator)
      throw paymentsErrors.of(
        'unprocessable',
        'operator_mismatch',
        `This number is an ${operator} number, not ${input.operator}.`,
        { details: { operator } },
      );
    if (input.amountMinor < 100n || input.amountMinor > MAX_PAYMENT_MINOR)
      throw paymentsErrors.of(
        'unprocessable',
        'invalid_amount',
        `A Mobile Money payment is 100 to ${MAX_PAYMENT_MINOR} XAF.`,
      );
    return { phone, operator };
  }

  /** The attempt as it stands before any provider is asked; undefined if this key already has one. */
  async function recordInitiation(
    paymentId: string,
    input: InitiateInput,
    phone: string,
    operator: Operator,
  ): Promise<{ state: PaymentState; revision: bigint } | undefined> {
    const at = now();
    const [initiated] = tracedDecide(paymentStream(paymentId), { type: 'InitiatePayment' }, () =>
      decidePayment(
        {
          type: 'InitiatePayment',
          data: {
            initiated: {
              paymentId,
              userId: input.userId,
              purpose: input.purpose,
              amountMinor: Number(input.amountMinor),
              currency: input.currency,
              phone,
              operator,
              idempotencyKey: input.idempotencyKey,
              at: at.toISOString(),
              expiresAt: new Date(at.getTime() + PAYMENT_EXPIRY_MINUTES * 60_000).toISOString(),
            },
          },
        },
        initialPaymentState(),
      ),
    );
    try {
      const appended = await eventStore.append(
        paymentStream(paymentId),
        [{ ...initiated!, personalData: { subjectId: input.userId, fields: ['phone'] } }],
        { expectedRevision: 'no_stream' },
      );
      const state = evolvePayment(initialPaymentState(), initiated!);
      store.remember(paymentId, state, appended.nextRevision);
      await store.saveRow(paymentId, state, appended.nextRevision);
      return { state, revision: appended.nextRevision };
    } catch (error) {
      // A concurrent request with the same key recorded it first: that one asks the provider.
      if (error instanceof WrongExpectedVersion) return undefined;
      throw error;
    }
  }

  /**
   * Starts a collection (or returns the attempt this idempotency key already started). The
   * attempt is recorded before the provider is asked, so a crash after the provider took the
   * collect leaves a PENDING attempt that the sweep and the webhooks find by our id.
   */
  async function initiate(input: InitiateInput): Promise<PaymentView> {
    const { phone, operator } = checkInput(input);
    const paymentId = paymentIdOf(input.userId, input.idempotencyKey);
    if (input.firstAttempt !== true) {
      const existing = await load(paymentId);
      if (existing.state.status !== 'NONE')
        return paymentView(paymentId, await locateOnRetry(paymentId, existing.state, existing.revision));
    }
    if ((await recordInitiation(paymentId, input, phone, operator)) === undefined)
      return paymentView(paymentId, (await load(paymentId)).state);
    let collected;
    try {
      collected = await router.collect({
        amountMinor: input.amountMinor,
        currency: input.currency,
        phoneE164: phone,
        description: input.description,
        externalReference: paymentId,
      });
    } catch (error) {
      throw await collectFailed(paymentId, error);
    }
    const { state } = await execute(paymentId, {
      type: 'RecordRequest',
      data: {
        provider: collected.provider,
        providerReference: collected.providerReference,
        ussdCode: collected.ussdCode ?? null,
        failedOver: collected.attempts.map((attempt) => `${attempt.provider}:${attempt.code}`),
        at: now().toISOString(),
      },
    });
    webhooks.started(paymentId, {
      provider: collected.provider,
      provider_reference: collected.providerReference,
      operator: collected.operator,
    });
    await status.schedulePoll(paymentId, 1);
    webhooks.catchUpEarlyWebhook(paymentId, collected.provider, collected.providerReference);
    return paymentView(paymentId, state);
  }

  /**
   * A retry of an attempt still waiting to learn where its collection went (its first request
   * died, or lost the provider's answer): it is looked for at once by our reference, instead of
   * waiting for the sweep. Found → recorded and re-read (a success is booked now); anything else
   * → answered as it stands (absence proves nothing yet: the sweep decides that, later). Its row
   * is written again first (a no-op when it exists): a process killed between the initiation's
   * append and its row left an attempt the sweep could not see.
   */
  async function locateOnRetry(
    paymentId: string,
    state: PaymentState,
    revision: bigint | 'no_stream',
  ): Promise<PaymentState> {
    if (state.status !== 'PENDING' || state.requested !== null || revision === 'no_stream') return state;
    try {
      await store.saveRow(paymentId, state, revision);
      if ((await status.locate(paymentId)) !== 'found') return state;
      const located = await status.refresh(paymentId);
      if (located.status === 'PENDING') await status.schedulePoll(paymentId, 1);
      return located;
    } catch (error) {
      options.logger.warn(
        { err: error, paymentId },
        'a retried payment could not be located yet; the sweep looks for it',
      );
      return state;
    }
  }

  /**
   * The provider refused or could not be reached: the attempt fails at once and the caller
   * learns what happened (an order's placement fails its order). An unreachable provider may
   * still have taken the collect (a timeout): the sweep keeps looking for it by our id for a
   * day, and money found lands in the wallet.
   */
  async function collectFailed(paymentId: string, error: unknown): Promise<unknown> {
    if (error instanceof ProviderRejected) {
      // A refusal after failover from a provider that did not answer: that provider may hold the
      // collection, so the attempt fails as unreachable, which the sweep keeps looking for by our
      // reference for a day (a success found there still lands in the wallet).
      const reason = error.mayHaveReached.length > 0 ? UNREACHABLE : error.code;
      await execute(paymentId, { type: 'FailSubmission', data: { reason, at: now() } });
      return paymentsErrors.of(
        'unprocessable',
        'payment_rejected',
        'The payment provider refused the request',
        {
          details: { paymentId, provider: error.provider, providerCode: error.code },
        },
      );
    }
    if (!(error instanceof ProviderUnavailable)) return error; // ours: the attempt stays PENDING for the sweep
    await execute(paymentId, { type: 'FailSubmission', data: { reason: UNREACHABLE, at: now() } });
    const garbage = error.code === 'BAD_RESPONSE';
    return paymentsErrors.of(
      garbage ? 'bad_gateway' : 'unavailable',
      garbage ? 'payment_provider_bad_response' : 'payment_provider_unavailable',
      garbage
        ? 'The payment provider answered something we cannot read; try again later.'
        : 'No payment provider is reachable; try again later.',
      { details: { paymentId, providerCode: error.code }, retryAfterSeconds: 30 },
    );
  }

  function defineJobs(): void {
    queue.define<{ paymentId: string; attempt: number }>({
      queue: POLL_QUEUE,
      concurrency: 16,
      attempts: 5,
      backoffMs: 2_000,
      handler: async (data) => status.poll(data.paymentId, data.attempt),
    });
    queue.define<{ provider: ProviderName; providerReference: string; attempt: number }>({
      queue: WEBHOOK_RECHECK_QUEUE,
      concurrency: 8,
      attempts: 3,
      backoffMs: 1_000,
      handler: async (data) => webhooks.recheckWebhook(data.provider, data.providerReference, data.attempt),
    });
    queue.define<{ paymentId: string }>({
      queue: SETTLE_QUEUE,
      concurrency: 4,
      attempts: 10,
      backoffMs: 2_000,
      handler: async (data) => booking.settle(data.paymentId),
    });
  }

  async function view(paymentId: string): Promise<PaymentView | undefined> {
    const { state } = await load(paymentId);
    return state.status === 'NONE' ? undefined : paymentView(paymentId, state);
  }

  return {
    initiate,
    refresh: status.refresh,
    settle: booking.settle,
    recoverCollection: status.recoverCollection,
    handleWebhook: webhooks.handleWebhook,
    poll: status.poll,
    /** Expires stale attempts, re-reads expired ones (late successes), and books any success left unbooked. */
    sweep: (at?: Date) => sweeper.sweep(at ?? now()),
    defineJobs,
    load,
    view,
    newId: randomUUID,
  };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
