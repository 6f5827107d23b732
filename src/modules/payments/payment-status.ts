/**
 * Learning an attempt's outcome from its provider: finding an attempt whose reference we never
 * recorded (by our id), re-reading the provider's status and applying it (a success is booked
 * before its row is written), and polling with backoff.
 */
import type { Logger } from 'pino';
import type { JobQueue } from '../../jobs/index.js';
import { paymentsErrors } from './errors.js';
import type { PaymentAttemptsRepository } from './payment-attempts-repository.js';
import type { PaymentBooking } from './payment-booking.js';
import type { PaymentState } from './payment-decider.js';
import type { PaymentStore } from './payment-store.js';
import {
  PROVIDER_NAMES,
  type Operator,
  type PaymentRouter,
  type ProviderName,
  type TransactionStatus,
} from './providers/index.js';

export const POLL_QUEUE = 'payments-poll';
export const MAX_POLLS = 12;

/** Where an attempt is at its provider. */
export interface KnownReference {
  provider: string;
  provider_reference: string;
  operator: string;
}

export interface PaymentStatusOptions {
  store: PaymentStore;
  attempts: PaymentAttemptsRepository;
  booking: PaymentBooking;
  router: PaymentRouter;
  queue: JobQueue;
  logger: Logger;
  pollInitialDelayMs: number;
  now: () => Date;
}

export type PaymentStatus = ReturnType<typeof createPaymentStatus>;

export function createPaymentStatus(options: PaymentStatusOptions) {
  const { store, attempts, booking, router, queue, logger, now } = options;

  async function schedulePoll(paymentId: string, attempt: number): Promise<void> {
    const delayMs = Math.min(options.pollInitialDelayMs * 2 ** (attempt - 1), 5 * 60_000);
    await queue.enqueue(
      POLL_QUEUE,
      { paymentId, attempt },
      { jobId: `poll-${paymentId}-${attempt}`, delayMs },
    );
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
    await store.execute(paymentId, {
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

  /** The providers that serve an operator and are configured here. */
  function providersOf(operator: Operator): ProviderName[] {
    return PROVIDER_NAMES.filter((name) => {
      try {
        return router.provider(name).operators.includes(operator);
      } catch {
        return false; // not configured here
      }
    });
  }

  /**
   * Finds where an attempt with no provider reference went, by our id at every provider that
   * serves its operator, and records it. `absent`: every provider answered that it holds nothing.
   */
  async function locate(paymentId: string): Promise<'found' | 'absent' | 'unknown'> {
    const { state } = await store.load(paymentId);
    if (state.requested !== null) return 'found';
    if (state.initiated === null) return 'unknown';
    const candidates = providersOf(state.initiated.operator);
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

  async function referenceOf(paymentId: string): Promise<KnownReference | undefined> {
    const row = await attempts.referenceOf(paymentId);
    if (row === undefined)
      throw paymentsErrors.of('not_found', 'payment_not_found', 'There is no such payment.');
    if (row.provider !== null && row.provider_reference !== null)
      return { provider: row.provider, provider_reference: row.provider_reference, operator: row.operator };
    if ((await locate(paymentId)) !== 'found') return undefined;
    const { state } = await store.load(paymentId);
    return {
      provider: state.requested!.provider,
      provider_reference: state.requested!.providerReference,
      operator: row.operator,
    };
  }

  /** Re-reads the provider and applies what it says; books the money when it succeeded. */
  async function refresh(paymentId: string, known?: KnownReference): Promise<PaymentState> {
    const row = known ?? (await referenceOf(paymentId));
    if (row === undefined) return (await store.load(paymentId)).state; // not at any provider (yet)
    const status = await router.status(row.provider as ProviderName, row.provider_reference, 'collection');
    const { state, newEvents, revision } = await store.execute(
      paymentId,
      {
        type: 'ApplyProviderStatus',
        data: {
          status: status.status,
          amountMinor: status.amountMinor,
          operator: status.operator ?? (row.operator as Operator),
          ...(status.reason === undefined ? {} : { reason: status.reason }),
          ...(status.operatorReference === undefined ? {} : { operatorReference: status.operatorReference }),
          source: { provider: row.provider, providerReference: row.provider_reference },
          at: now(),
        },
      },
      true,
    );
    if (
      state.requested !== null &&
      (state.requested.provider !== row.provider ||
        state.requested.providerReference !== row.provider_reference)
    ) {
      // A collection at another provider than the attempt recorded (a webhook raced our record of
      // the first one): the payer paid twice, and this one goes back to the wallet.
      await booking.returnSecondCollection(paymentId, status);
      return state;
    }
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
      // A success recorded earlier whose booking never finished (the process that appended it
      // died before the ledger answered, leaving the row PENDING or unsettled) is booked now:
      // booking is idempotent by the attempt's transfer ids.
      const unbooked =
        succeeded === undefined &&
        state.status === 'SUCCEEDED' &&
        (await attempts.settledAt(paymentId)) === null;
      if (succeeded !== undefined || unbooked) {
        await booking.settle(paymentId, state, { revision }).catch(async (error: unknown) => {
          await store.saveRow(paymentId, state, revision);
          throw error;
        });
      } else {
        await store.saveRow(paymentId, state, revision);
      }
    }
    for (const event of newEvents) {
      if (event.type === 'PaymentFailed') await booking.tellOrderFailed(state, event.data.reason);
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
    const { state: before } = await store.load(paymentId);
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
    await booking.settle(paymentId, state);
    return { transferId: `pay:${paymentId}:${booking.bookingOf(state)}` };
  }

  async function poll(paymentId: string, attempt: number): Promise<void> {
    const state = await refresh(paymentId);
    if (state.status === 'PENDING' && attempt < MAX_POLLS) await schedulePoll(paymentId, attempt + 1);
  }

  return { schedulePoll, adoptReference, locate, refresh, recoverCollection, poll };
}
