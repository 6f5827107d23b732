/**
 * A payment attempt's persistence: its stream (loaded through the last-written-state cache,
 * commands run through the decider) and its read-model row, written after each change.
 */
import {
  aggregateStream,
  createAggregateCache,
  handleCommand,
  type EventStore,
} from '../../eventstore/index.js';
import type { PaymentAttemptsRepository } from './payment-attempts-repository.js';
import {
  evolvePayment,
  initialPaymentState,
  paymentDecider,
  paymentStream,
  type PaymentCommand,
  type PaymentEvent,
  type PaymentState,
} from './payment-decider.js';

export interface PaymentStoreOptions {
  eventStore: EventStore;
  attempts: PaymentAttemptsRepository;
  now: () => Date;
}

export type PaymentStore = ReturnType<typeof createPaymentStore>;

export function createPaymentStore({ eventStore, attempts, now }: PaymentStoreOptions) {
  // The last state written per payment stream: the webhook, the re-read and the settlement that
  // follow an initiation need no read of the stream (see AggregateCache).
  const states = createAggregateCache<PaymentState>();

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

  /** The read-model row of a state at a revision (nothing before the attempt is initiated). */
  async function saveRow(
    paymentId: string,
    state: PaymentState,
    revision: bigint,
    settledAt?: Date,
  ): Promise<void> {
    const initiated = state.initiated;
    const requested = state.requested;
    if (initiated === null || state.status === 'NONE') return;
    await attempts.save({
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
      cache: states,
    });
    if (result.revision !== 'no_stream' && !deferRow) await saveRow(paymentId, result.state, result.revision);
    return { state: result.state, newEvents: result.newEvents, revision: result.revision };
  }

  /** Remembers a state appended outside `execute` (the initiation). */
  function remember(paymentId: string, state: PaymentState, revision: bigint): void {
    states.set(paymentStream(paymentId), state, revision);
  }

  return { load, saveRow, execute, remember };
}
