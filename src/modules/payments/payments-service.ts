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
import {
  customerWalletId,
  orderEscrowId,
  providerClearingId,
  providerFeesExpenseId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import { sql, type Insertable } from 'kysely';
import type { PaymentTables, PaymentsDb } from './tables.js';
import { createGroupRunner } from '../../db/group-runner.js';
import {
  aggregateStream,
  createAggregateCache,
  handleCommand,
  tracedDecide,
  WrongExpectedVersion,
  type EventStore,
} from '../../eventstore/index.js';
import { isOrderRefusal } from '../orders/index.js';
import { paymentsErrors } from './errors.js';
import type { JobQueue } from '../../jobs/index.js';
import { createBoundedMap } from './bounded-map.js';
import { isUuid, uuidFromName } from './ids.js';
import { LedgerRefusal, linked, submitAll, type LedgerPort } from './ledger-port.js';
import {
  decidePayment,
  initialPaymentState,
  PAYMENT_EXPIRY_MINUTES,
  paymentDecider,
  paymentStream,
  evolvePayment,
  type PaymentCommand,
  type PaymentEvent,
  type PaymentPurpose,
  type PaymentState,
} from './payment-decider.js';
import {
  detectOperator,
  PROVIDER_NAMES,
  ProviderRejected,
  ProviderUnavailable,
  toE164,
  type Operator,
  type PaymentRouter,
  type ProviderName,
  type TransactionStatus,
  type WebhookRequest,
} from './providers/index.js';

export const POLL_QUEUE = 'payments-poll';
export const SETTLE_QUEUE = 'payments-settle';
export const WEBHOOK_RECHECK_QUEUE = 'payments-webhook-recheck';
/** A webhook for a reference not recorded yet is looked up again this many times (250 ms, doubling). */
const WEBHOOK_RECHECKS = 5;
const MAX_EARLY_WEBHOOKS = 10_000;
const STARTED_HERE_MAX = 20_000;
/** After expiry a payment is still re-read for this long: a late success must land. */
export const LATE_POLL_WINDOW_MS = 24 * 60 * 60_000;
const SWEEP_BATCH = 500;
/**
 * An attempt with no provider reference this old is looked for at the providers by our id: its
 * initiate crashed or lost the answer (a live one spends at most two providers' timeouts, with
 * retries, well under this).
 */
export const LOCATE_AFTER_MS = 2 * 60_000;
/** Failure reasons that leave the collect's fate unknown (the answer was lost, not refused). */
const UNREACHABLE = 'PROVIDER_UNREACHABLE';
const NOT_SUBMITTED = 'NOT_SUBMITTED';
const MAX_POLLS = 12;
/** Largest single Mobile Money payment (CamPay/MTN wallets cap far below this). */
export const MAX_PAYMENT_MINOR = 5_000_000n;

export interface OrdersHook {
  recordPaymentOutcome(
    orderId: string,
    outcome:
      { status: 'captured'; paymentId: string; amountMinor: bigint } | { status: 'failed'; reason: string },
  ): Promise<unknown>;
  load(orderId: string): Promise<{ state: { status: string; paymentId?: string | null } }>;
}

export interface PaymentsServiceOptions {
  db: PaymentsDb;
  eventStore: EventStore;
  router: PaymentRouter;
  ledger: LedgerPort;
  queue: JobQueue;
  logger: Logger;
  /** Late-bound: the orders context is built after payments (it takes our PaymentPort). */
  orders: () => OrdersHook | undefined;
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

export function createPaymentsService(options: PaymentsServiceOptions) {
  const { db, eventStore, router, ledger, queue, logger } = options;
  const now = options.now ?? (() => new Date());
  /** Webhooks that arrived before our record of their attempt (this instance), by provider:reference. */
  const earlyWebhooks = new Map<string, number>();

  function noteEarlyWebhook(provider: ProviderName, providerReference: string): void {
    if (earlyWebhooks.size >= MAX_EARLY_WEBHOOKS) earlyWebhooks.delete(earlyWebhooks.keys().next().value!);
    earlyWebhooks.set(`${provider}:${providerReference}`, Date.now());
  }

  /** After recording an attempt: if its webhook already came, apply it now instead of waiting for the recheck. */
  function catchUpEarlyWebhook(paymentId: string, provider: ProviderName, providerReference: string): void {
    const key = `${provider}:${providerReference}`;
    if (!earlyWebhooks.delete(key)) return;
    void refresh(paymentId).catch((error: unknown) =>
      logger.warn(
        { err: error, paymentId },
        'early webhook catch-up failed; the recheck or the poll will apply it',
      ),
    );
  }

  // Attempts started by this process, by provider reference (which never changes): the webhook
  // that follows finds its payment without a query. Bounded; other instances' webhooks read the row.
  const startedHere = createBoundedMap<{
    payment_id: string;
    provider: string;
    provider_reference: string;
    operator: string;
  }>(STARTED_HERE_MAX);

  // The last state written per payment stream: the webhook, the re-read and the settlement that
  // follow an initiation need no read of the stream (see AggregateCache).
  const paymentStates = createAggregateCache<PaymentState>();

  async function load(paymentId: string): Promise<{ state: PaymentState; revision: bigint | 'no_stream' }> {
    const loaded = await aggregateStream(
      eventStore,
      paymentStream(paymentId),
      evolvePayment,
      initialPaymentState(),
      1_000,
    );
    return { state: loaded.state, revision: loaded.revision };
  }

  /**
   * The read-model rows beside the streams; a newer revision always wins, so a row heals itself.
   * settled_at, once given, stays (also when the row is already at that revision). Concurrent
   * saves leave together in one statement (group commit); a group that fails (two saves of one
   * payment in it) is written row by row.
   */
  async function upsertRows(rows: Insertable<PaymentTables['payment_attempts']>[]): Promise<void> {
    await db
      .insertInto('payment_attempts')
      .values(rows)
      .onConflict((conflict) =>
        conflict.column('payment_id').doUpdateSet((eb) => ({
          provider: eb.ref('excluded.provider'),
          provider_reference: eb.ref('excluded.provider_reference'),
          status: eb.ref('excluded.status'),
          received_minor: eb.ref('excluded.received_minor'),
          fee_minor: eb.ref('excluded.fee_minor'),
          failure_reason: eb.ref('excluded.failure_reason'),
          after_expiry: eb.ref('excluded.after_expiry'),
          revision: eb.ref('excluded.revision'),
          updated_at: eb.ref('excluded.updated_at'),
          settled_at: sql`coalesce(excluded.settled_at, payment_attempts.settled_at)`,
        })).where(sql<boolean>`payment_attempts.revision < excluded.revision
            OR (payment_attempts.revision = excluded.revision AND payment_attempts.settled_at IS NULL AND excluded.settled_at IS NOT NULL)`),
      )
      .execute();
  }
  const rowWriter = createGroupRunner<Insertable<PaymentTables['payment_attempts']>, void>({
    runOne: (row) => upsertRows([row]),
    runMany: async (rows) => {
      await upsertRows(rows);
      return rows.map(() => undefined);
    },
  });

  async function saveRow(
    paymentId: string,
    state: PaymentState,
    revision: bigint,
    settledAt?: Date,
  ): Promise<void> {
    const initiated = state.initiated;
    const requested = state.requested;
    if (initiated === null || state.status === 'NONE') return;
    await rowWriter.run({
      payment_id: paymentId,
      user_id: initiated.userId,
      purpose: initiated.purpose.kind,
      order_id: initiated.purpose.kind === 'order' ? initiated.purpose.orderId : null,
      amount_minor: BigInt(initiated.amountMinor),
      currency: initiated.currency,
      operator: initiated.operator,
      provider: requested?.provider ?? null,
      provider_reference: requested?.providerReference ?? null,
      status: state.status,
      // What the provider reported; what was booked is the event's amountMinor (never more than requested).
      received_minor:
        state.succeeded === null
          ? null
          : BigInt(state.succeeded.reportedMinor ?? state.succeeded.amountMinor),
      fee_minor: state.succeeded === null ? null : BigInt(state.succeeded.feeMinor),
      failure_reason: state.failureReason,
      after_expiry: state.succeeded?.afterExpiry ?? false,
      idempotency_key: initiated.idempotencyKey,
      revision,
      created_at: initiated.at,
      expires_at: initiated.expiresAt,
      updated_at: now(),
      settled_at: settledAt ?? null,
    });
  }

  /** `deferRow`: the caller writes the read-model row itself (once, after what follows). */
  async function execute(
    paymentId: string,
    command: PaymentCommand,
    deferRow = false,
  ): Promise<{ state: PaymentState; newEvents: PaymentEvent[]; revision: bigint | 'no_stream' }> {
    const result = await handleCommand(eventStore, paymentStream(paymentId), paymentDecider, command, {
      maxAttempts: 5,
      maxEvents: 1_000,
      cache: paymentStates,
    });
    if (result.revision !== 'no_stream' && !deferRow) await saveRow(paymentId, result.state, result.revision);
    return { state: result.state, newEvents: result.newEvents, revision: result.revision };
  }

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
      paymentStates.set(paymentStream(paymentId), state, appended.nextRevision);
      await saveRow(paymentId, state, appended.nextRevision);
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
    const paymentId = uuidFromName('payment', `${input.userId}\n${input.idempotencyKey}`);
    if (input.firstAttempt !== true) {
      const existing = await load(paymentId);
      if (existing.state.status !== 'NONE') return paymentView(paymentId, existing.state);
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
    startedHere.set(`${collected.provider}:${collected.providerReference}`, {
      payment_id: paymentId,
      provider: collected.provider,
      provider_reference: collected.providerReference,
      operator: collected.operator,
    });
    await schedulePoll(paymentId, 1);
    catchUpEarlyWebhook(paymentId, collected.provider, collected.providerReference);
    return paymentView(paymentId, state);
  }

  /**
   * The provider refused or could not be reached: the attempt fails at once and the caller
   * learns what happened (an order's placement fails its order). An unreachable provider may
   * still have taken the collect (a timeout): the sweep keeps looking for it by our id for a
   * day, and money found lands in the wallet.
   */
  async function collectFailed(paymentId: string, error: unknown): Promise<unknown> {
    if (error instanceof ProviderRejected) {
      await execute(paymentId, { type: 'FailSubmission', data: { reason: error.code, at: now() } });
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

  async function schedulePoll(paymentId: string, attempt: number): Promise<void> {
    const delayMs = Math.min(options.pollInitialDelayMs * 2 ** (attempt - 1), 5 * 60_000);
    await queue.enqueue(
      POLL_QUEUE,
      { paymentId, attempt },
      { jobId: `poll-${paymentId}-${attempt}`, delayMs },
    );
  }

  /**
   * Finds where an attempt with no provider reference went, by our id at every provider that
   * serves its operator, and records it. `absent`: every provider answered that it holds nothing.
   */
  async function locate(paymentId: string): Promise<'found' | 'absent' | 'unknown'> {
    const { state } = await load(paymentId);
    if (state.requested !== null) return 'found';
    if (state.initiated === null) return 'unknown';
    const operator = state.initiated.operator;
    const candidates = PROVIDER_NAMES.filter((name) => {
      try {
        return router.provider(name).operators.includes(operator);
      } catch {
        return false; // not configured here
      }
    });
    let verdict: 'absent' | 'unknown' = candidates.length === 0 ? 'unknown' : 'absent';
    for (const provider of candidates) {
      const lookup = await router
        .findByExternalReference(provider, {
          externalReference: paymentId,
          kind: 'collection',
          since: new Date(state.initiated.at),
        })
        .catch((error: unknown) => ({ verdict: 'unknown' as const, reason: String(error) }));
      if (lookup.verdict === 'unknown') verdict = 'unknown';
      if (lookup.verdict !== 'found') continue;
      if (lookup.transactions.length > 1)
        logger.error(
          { paymentId, provider, count: lookup.transactions.length },
          'one attempt, several collections: reconciliation shows them',
        );
      await adoptReference(paymentId, provider, lookup.transactions[0]!);
      return 'found';
    }
    return verdict;
  }

  async function adoptReference(
    paymentId: string,
    provider: ProviderName,
    found: TransactionStatus,
  ): Promise<void> {
    logger.info(
      { paymentId, provider },
      'a collection found by our id: recording its reference (the usual case when its webhook came before our initiate call returned)',
    );
    await execute(paymentId, {
      type: 'RecordRequest',
      data: {
        provider,
        providerReference: found.providerReference,
        ussdCode: null,
        failedOver: [],
        at: now().toISOString(),
      },
    });
  }

  async function referenceOf(
    paymentId: string,
  ): Promise<{ provider: string; provider_reference: string; operator: string } | undefined> {
    const row = await db
      .selectFrom('payment_attempts')
      .select(['provider', 'provider_reference', 'operator'])
      .where('payment_id', '=', paymentId)
      .executeTakeFirst();
    if (row === undefined)
      throw paymentsErrors.of('not_found', 'payment_not_found', 'There is no such payment.');
    if (row.provider !== null && row.provider_reference !== null)
      return { provider: row.provider, provider_reference: row.provider_reference, operator: row.operator };
    if ((await locate(paymentId)) !== 'found') return undefined;
    const { state } = await load(paymentId);
    return {
      provider: state.requested!.provider,
      provider_reference: state.requested!.providerReference,
      operator: row.operator,
    };
  }

  /** Re-reads the provider and applies what it says; books the money when it succeeded. */
  async function refresh(
    paymentId: string,
    known?: { provider: string; provider_reference: string; operator: string },
  ): Promise<PaymentState> {
    const row = known ?? (await referenceOf(paymentId));
    if (row === undefined) return (await load(paymentId)).state; // not at any provider (yet)
    const status = await router.status(row.provider as ProviderName, row.provider_reference, 'collection');
    const { state, newEvents, revision } = await execute(
      paymentId,
      {
        type: 'ApplyProviderStatus',
        data: {
          status: status.status,
          amountMinor: status.amountMinor,
          operator: status.operator ?? (row.operator as Operator),
          ...(status.reason === undefined ? {} : { reason: status.reason }),
          ...(status.operatorReference === undefined ? {} : { operatorReference: status.operatorReference }),
          at: now(),
        },
      },
      true,
    );
    // A success is booked first and its row written once, with settled_at; should booking fail,
    // the row still says SUCCEEDED unsettled, for the sweep to settle again.
    const succeeded = newEvents.find((event) => event.type === 'PaymentSucceeded');
    if (succeeded !== undefined && succeeded.data.reportedMinor !== succeeded.data.amountMinor)
      logger.error(
        {
          paymentId,
          requestedMinor: state.initiated?.amountMinor,
          reportedMinor: succeeded.data.reportedMinor,
        },
        'the provider reports another amount than requested: booked at most the request; reconciliation shows the difference',
      );
    if (revision !== 'no_stream') {
      if (succeeded !== undefined) {
        await settle(paymentId, state, { revision }).catch(async (error: unknown) => {
          await saveRow(paymentId, state, revision);
          throw error;
        });
      } else {
        await saveRow(paymentId, state, revision);
      }
    }
    for (const event of newEvents) {
      if (event.type === 'PaymentFailed') await tellOrderFailed(state, event.data.reason);
    }
    return state;
  }

  /**
   * Reconciliation found a collection of ours we never recorded (its reference was lost): record
   * it and book it through the normal path, so it reaches the payer's wallet (or order) exactly
   * once. Answers the transfer that credited it.
   */
  async function recoverCollection(
    paymentId: string,
    provider: ProviderName,
    providerReference: string,
  ): Promise<{ transferId: string } | undefined> {
    const { state: before } = await load(paymentId);
    if (before.status === 'NONE') return undefined;
    if (before.requested === null) {
      const found = await router.status(provider, providerReference, 'collection');
      if (found.externalReference !== undefined && found.externalReference !== paymentId) return undefined;
      await adoptReference(paymentId, provider, found);
    } else if (before.requested.providerReference !== providerReference) {
      return undefined; // another collection for the same attempt: finance books it by hand
    }
    const state = await refresh(paymentId);
    if (state.status !== 'SUCCEEDED') return undefined;
    await settle(paymentId, state);
    return { transferId: `pay:${paymentId}:${bookingOf(state)}` };
  }

  async function tellOrderFailed(state: PaymentState, reason: string): Promise<void> {
    const purpose = state.initiated?.purpose;
    if (purpose?.kind !== 'order') return;
    await options
      .orders()
      ?.recordPaymentOutcome(purpose.orderId, {
        status: 'failed',
        reason: `mobile_money_${reason}`.toLowerCase(),
      })
      .catch((error: unknown) => {
        if (!isOrderRefusal(error)) throw error; // the order already moved on
      });
  }

  function feeTransfer(paymentId: string, provider: ProviderName, feeMinor: bigint): Transfer[] {
    if (feeMinor === 0n) return [];
    return [
      {
        id: `pay:${paymentId}:fee`,
        debitAccountId: providerFeesExpenseId('XAF'),
        creditAccountId: providerClearingId(provider, 'XAF'),
        amountMinor: feeMinor,
        currency: 'XAF',
        code: 'provider_fee',
        flags: {},
        userData: { paymentId },
      },
    ];
  }

  function toWallet(
    paymentId: string,
    userId: string,
    debitAccountId: string,
    amountMinor: bigint,
    suffix: string,
    code: 'topup' | 'refund',
  ): Transfer {
    return {
      id: `pay:${paymentId}:${suffix}`,
      debitAccountId,
      creditAccountId: customerWalletId(userId, 'XAF'),
      amountMinor,
      currency: 'XAF',
      code,
      flags: {},
      userData: { paymentId, userId, category: code === 'topup' ? 'top-ups' : 'refunds' },
    };
  }

  async function book(transfers: Transfer[]): Promise<void> {
    const refusal = await submitAll(ledger, linked(transfers));
    if (refusal !== null) throw new LedgerRefusal(refusal);
  }

  /** Where a success goes: the order's escrow (its full total, in time) or the payer's wallet. */
  function bookingOf(state: PaymentState): 'capture' | 'credit' {
    const { initiated, succeeded } = state;
    return initiated?.purpose.kind === 'order' &&
      succeeded !== null &&
      !succeeded.afterExpiry &&
      options.orders() !== undefined &&
      BigInt(succeeded.amountMinor) === BigInt(initiated.amountMinor)
      ? 'capture'
      : 'credit';
  }

  /** Books a succeeded payment once (transfer ids make a retry land nothing twice). */
  /** `row`: write the read-model row at this revision with settled_at (else only mark settled_at). */
  async function settle(paymentId: string, known?: PaymentState, row?: { revision: bigint }): Promise<void> {
    const state = known ?? (await load(paymentId)).state;
    const { initiated, requested, succeeded } = state;
    if (state.status !== 'SUCCEEDED' || initiated === null || requested === null || succeeded === null) {
      if (row !== undefined) await saveRow(paymentId, state, row.revision);
      return;
    }
    const received = BigInt(succeeded.amountMinor);
    const clearing = providerClearingId(requested.provider, 'XAF');
    const fee = feeTransfer(paymentId, requested.provider, BigInt(succeeded.feeMinor));
    const purpose = initiated.purpose;
    const orders = options.orders();
    if (bookingOf(state) === 'credit' || purpose.kind !== 'order' || orders === undefined) {
      await book([toWallet(paymentId, initiated.userId, clearing, received, 'credit', 'topup'), ...fee]);
      // Less than the order's total cannot pay it: the money is the customer's, the order fails.
      if (purpose.kind === 'order' && !succeeded.afterExpiry) await tellOrderFailed(state, 'AMOUNT_SHORT');
    } else {
      const escrow = orderEscrowId(purpose.orderId, 'XAF');
      await book([
        {
          id: `pay:${paymentId}:capture`,
          debitAccountId: clearing,
          creditAccountId: escrow,
          amountMinor: received,
          currency: 'XAF',
          code: 'payment_capture',
          flags: {},
          userData: { paymentId, orderId: purpose.orderId },
        },
        ...fee,
      ]);
      await captureIntoOrder(paymentId, purpose.orderId, initiated.userId, received, orders);
    }
    if (row !== undefined) await saveRow(paymentId, state, row.revision, now());
    else
      await db
        .updateTable('payment_attempts')
        .set({ settled_at: now() })
        .where('payment_id', '=', paymentId)
        .execute();
  }

  async function captureIntoOrder(
    paymentId: string,
    orderId: string,
    userId: string,
    received: bigint,
    orders: OrdersHook,
  ): Promise<void> {
    try {
      await orders.recordPaymentOutcome(orderId, { status: 'captured', paymentId, amountMinor: received });
    } catch (error) {
      if (!isOrderRefusal(error)) throw error;
      const { state } = await orders.load(orderId);
      if (state.paymentId === paymentId) return; // already captured by an earlier try
      // The order no longer waits for this money (expired, cancelled): it goes on to the wallet.
      logger.warn(
        { paymentId, orderId, orderStatus: state.status },
        'payment arrived for an order that moved on: crediting the wallet',
      );
      await book([toWallet(paymentId, userId, orderEscrowId(orderId, 'XAF'), received, 'return', 'refund')]);
    }
  }

  function findByReference(provider: ProviderName, providerReference: string) {
    return db
      .selectFrom('payment_attempts')
      .select(['payment_id', 'provider', 'provider_reference', 'operator'])
      .where('provider', '=', provider)
      .where('provider_reference', '=', providerReference)
      .executeTakeFirst();
  }

  /**
   * A webhook names a reference we have not recorded, for an attempt of ours (by our id): its
   * initiate is still waiting for the provider's answer, or crashed after the provider took it.
   * The provider is asked about the reference, and it is adopted only if the provider says it
   * is ours (a webhook's fields are hints).
   */
  async function adoptFromWebhook(
    provider: ProviderName,
    providerReference: string,
    ours: string,
  ): Promise<boolean> {
    if (!isUuid(ours)) return false;
    const attempt = await db
      .selectFrom('payment_attempts')
      .select(['payment_id', 'provider_reference'])
      .where('payment_id', '=', ours)
      .executeTakeFirst();
    if (attempt === undefined) return false;
    if (attempt.provider_reference === null) {
      const found = await router.status(provider, providerReference, 'collection');
      if (found.externalReference?.toLowerCase() !== ours.toLowerCase()) {
        logger.warn(
          { paymentId: ours, provider },
          'a webhook named a reference the provider does not tie to this attempt',
        );
        return false;
      }
      await adoptReference(ours, provider, found);
    }
    await refresh(ours);
    return true;
  }

  async function handleWebhook(
    provider: ProviderName,
    request: WebhookRequest,
  ): Promise<{ applied: boolean }> {
    const verdict = await router.verifyWebhook(provider, request);
    if (!verdict.accepted)
      throw paymentsErrors.of(
        'unauthorized',
        'webhook_signature_invalid',
        'The webhook signature does not verify.',
      );
    const reference = verdict.providerReference;
    // Ours as the webhook tells it: CamPay sends our external reference; MTN's reference id is ours.
    const ours = verdict.externalReference ?? reference;
    const row = startedHere.get(`${provider}:${reference}`) ?? (await findByReference(provider, reference));
    if (row !== undefined) {
      // The webhook is only a hint: what counts is the status re-read from the provider.
      await refresh(
        row.payment_id,
        row as { payment_id: string; provider: string; provider_reference: string; operator: string },
      );
      return { applied: true };
    }
    if (verdict.kind !== 'disbursement' && (await adoptFromWebhook(provider, reference, ours)))
      return { applied: true };
    // Not a collection of ours by either reference (yet): a payout's, or an attempt whose record
    // is not visible yet. Note it, then look once more: either this lookup sees the record, or
    // the initiate that writes it sees the note (no lost wake-up).
    noteEarlyWebhook(provider, reference);
    const handled = (await options.onUnknownReference?.(provider, reference, ours)) ?? false;
    const recorded = handled ? undefined : await findByReference(provider, reference);
    if (handled || recorded !== undefined) earlyWebhooks.delete(`${provider}:${reference}`);
    if (recorded !== undefined) await refresh(recorded.payment_id);
    else if (!handled) await scheduleWebhookRecheck(provider, reference, 1);
    return { applied: handled || recorded !== undefined };
  }

  async function scheduleWebhookRecheck(
    provider: ProviderName,
    providerReference: string,
    attempt: number,
  ): Promise<void> {
    if (attempt > WEBHOOK_RECHECKS) return;
    const jobId = `recheck-${provider}-${providerReference.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)}-${attempt}`;
    await queue.enqueue(
      WEBHOOK_RECHECK_QUEUE,
      { provider, providerReference, attempt },
      { jobId, delayMs: 250 * 2 ** (attempt - 1) },
    );
  }

  async function recheckWebhook(
    provider: ProviderName,
    providerReference: string,
    attempt: number,
  ): Promise<void> {
    const row = await findByReference(provider, providerReference);
    if (row !== undefined) await refresh(row.payment_id);
    else if (!((await options.onUnknownReference?.(provider, providerReference)) ?? false))
      await scheduleWebhookRecheck(provider, providerReference, attempt + 1);
  }

  async function poll(paymentId: string, attempt: number): Promise<void> {
    const state = await refresh(paymentId);
    if (state.status === 'PENDING' && attempt < MAX_POLLS) await schedulePoll(paymentId, attempt + 1);
  }

  /**
   * Attempts that never learned their provider reference (a crash between the provider's answer
   * and our record, or a lost answer): looked for by our id. Found → applied like any other;
   * every provider says it holds nothing → the attempt failed (NOT_SUBMITTED); a provider that
   * cannot tell → left for expiry and the late re-reads.
   */
  async function locateUnrecorded(current: Date): Promise<number> {
    const unlocated = await db
      .selectFrom('payment_attempts')
      .select('payment_id')
      .where('status', '=', 'PENDING')
      .where('provider_reference', 'is', null)
      .where('created_at', '<=', new Date(current.getTime() - LOCATE_AFTER_MS))
      .orderBy('created_at')
      .limit(SWEEP_BATCH)
      .execute();
    let found = 0;
    for (const { payment_id: paymentId } of unlocated) {
      const verdict = await locate(paymentId).catch(() => 'unknown' as const);
      if (verdict === 'found') {
        found += 1;
        await refresh(paymentId).catch((error: unknown) =>
          logger.warn({ err: error, paymentId }, 'a located attempt could not be read yet; the poll retries'),
        );
        await schedulePoll(paymentId, 1);
      } else if (verdict === 'absent') {
        const { state, newEvents } = await execute(paymentId, {
          type: 'FailSubmission',
          data: { reason: NOT_SUBMITTED, at: current },
        });
        if (newEvents.length > 0) await tellOrderFailed(state, NOT_SUBMITTED);
      }
    }
    return found;
  }

  /** Expires stale attempts, re-reads expired ones (late successes), and books any success left unbooked. */
  async function sweep(
    at?: Date,
  ): Promise<{ located: number; expired: number; repolled: number; resettled: number }> {
    const current = at ?? now();
    const located = await locateUnrecorded(current);
    const stale = await db
      .selectFrom('payment_attempts')
      .select('payment_id')
      .where('status', '=', 'PENDING')
      .where('expires_at', '<=', current)
      .orderBy('expires_at')
      .limit(SWEEP_BATCH)
      .execute();
    let expired = 0;
    for (const { payment_id: paymentId } of stale) {
      const state = await refresh(paymentId).catch(() => undefined); // an outage must not block expiry
      if (state !== undefined && state.status !== 'PENDING') continue;
      const { newEvents } = await execute(paymentId, { type: 'ExpirePayment', data: { now: current } });
      expired += newEvents.length;
    }
    // Late successes: expired attempts, and those that failed before any provider answered (the
    // collect may still have reached the payer).
    const late = await db
      .selectFrom('payment_attempts')
      .select('payment_id')
      .where((eb) =>
        eb.or([
          eb('status', '=', 'EXPIRED'),
          eb.and([
            eb('status', '=', 'FAILED'),
            eb('provider_reference', 'is', null),
            eb('failure_reason', 'in', [UNREACHABLE, NOT_SUBMITTED]),
          ]),
        ]),
      )
      .where('created_at', '>', new Date(current.getTime() - LATE_POLL_WINDOW_MS))
      .orderBy('updated_at')
      .limit(SWEEP_BATCH)
      .execute();
    const slot = Math.floor(current.getTime() / 600_000);
    for (const { payment_id: paymentId } of late) {
      await queue.enqueue(
        POLL_QUEUE,
        { paymentId, attempt: MAX_POLLS },
        { jobId: `late-${paymentId}-${slot}` },
      );
    }
    const unsettled = await db
      .selectFrom('payment_attempts')
      .select('payment_id')
      .where('status', '=', 'SUCCEEDED')
      .where('settled_at', 'is', null)
      .where('updated_at', '<', new Date(current.getTime() - 30_000))
      .limit(SWEEP_BATCH)
      .execute();
    for (const { payment_id: paymentId } of unsettled) {
      await queue.enqueue(SETTLE_QUEUE, { paymentId }, { jobId: `settle-${paymentId}` });
    }
    return { located, expired, repolled: late.length, resettled: unsettled.length };
  }

  function defineJobs(): void {
    queue.define<{ paymentId: string; attempt: number }>({
      queue: POLL_QUEUE,
      concurrency: 16,
      attempts: 5,
      backoffMs: 2_000,
      handler: async (data) => poll(data.paymentId, data.attempt),
    });
    queue.define<{ provider: ProviderName; providerReference: string; attempt: number }>({
      queue: WEBHOOK_RECHECK_QUEUE,
      concurrency: 8,
      attempts: 3,
      backoffMs: 1_000,
      handler: async (data) => recheckWebhook(data.provider, data.providerReference, data.attempt),
    });
    queue.define<{ paymentId: string }>({
      queue: SETTLE_QUEUE,
      concurrency: 4,
      attempts: 10,
      backoffMs: 2_000,
      handler: async (data) => settle(data.paymentId),
    });
  }

  async function view(paymentId: string): Promise<PaymentView | undefined> {
    const { state } = await load(paymentId);
    return state.status === 'NONE' ? undefined : paymentView(paymentId, state);
  }

  return {
    initiate,
    refresh,
    settle,
    recoverCollection,
    handleWebhook,
    poll,
    sweep,
    defineJobs,
    load,
    view,
    newId: randomUUID,
  };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
