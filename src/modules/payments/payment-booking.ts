/**
 * Booking a succeeded payment in the ledger, exactly once (transfer ids are named after the
 * payment, so a retry lands nothing twice):
 *   - a top-up: provider clearing → the customer's wallet, and the provider fee as its own transfer;
 *   - an order's payment: provider clearing → the order's escrow (+ fee), then the order is told;
 *     if the order can no longer take it (expired, cancelled), the money goes on to the wallet;
 *   - a late success after the attempt expired: the money lands in the customer's wallet.
 */
import type { Logger } from 'pino';
import {
  customerWalletId,
  orderEscrowId,
  providerClearingId,
  providerFeeMinor,
  providerFeesExpenseId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import { isOrderRefusal } from '../orders/index.js';
import { LedgerRefusal, linked, submitAll, type LedgerPort } from './ledger-port.js';
import type { PaymentAttemptsRepository } from './payment-attempts-repository.js';
import type { PaymentState } from './payment-decider.js';
import type { PaymentStore } from './payment-store.js';
import type { ProviderName, TransactionStatus } from './providers/index.js';

/** What payments needs of the orders context (late-bound: orders is built after payments). */
export interface OrdersHook {
  recordPaymentOutcome(
    orderId: string,
    outcome:
      { status: 'captured'; paymentId: string; amountMinor: bigint } | { status: 'failed'; reason: string },
  ): Promise<unknown>;
  load(orderId: string): Promise<{ state: { status: string; paymentId?: string | null } }>;
}

export interface PaymentBookingOptions {
  store: PaymentStore;
  attempts: PaymentAttemptsRepository;
  ledger: LedgerPort;
  orders: () => OrdersHook | undefined;
  logger: Logger;
  now: () => Date;
}

function feeTransfer(
  paymentId: string,
  provider: ProviderName,
  feeMinor: bigint,
  suffix = 'fee',
): Transfer[] {
  if (feeMinor === 0n) return [];
  return [
    {
      id: `pay:${paymentId}:${suffix}`,
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

export type PaymentBooking = ReturnType<typeof createPaymentBooking>;

export function createPaymentBooking(options: PaymentBookingOptions) {
  const { store, attempts, ledger, logger, now } = options;

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

  /**
   * Books a succeeded payment once. `row`: write the read-model row at this revision with
   * settled_at (else only mark settled_at).
   */
  async function settle(paymentId: string, known?: PaymentState, row?: { revision: bigint }): Promise<void> {
    const state = known ?? (await store.load(paymentId)).state;
    const { initiated, requested, succeeded } = state;
    if (state.status !== 'SUCCEEDED' || initiated === null || requested === null || succeeded === null) {
      if (row !== undefined) await store.saveRow(paymentId, state, row.revision);
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
    if (row !== undefined) await store.saveRow(paymentId, state, row.revision, now());
    else await attempts.markSettled(paymentId, now());
  }

  /**
   * Another provider than the one the attempt recorded collected it too: the payer paid twice
   * (the first provider answered "not processed" and had taken it anyway, so the router went on
   * to the fallback, and its late success arrives after the switch). The attempt keeps its own
   * booking; this money goes back to the payer's wallet (code `refund`, never into an order),
   * once per provider by its transfer id, never more than the attempt asked. The customer can
   * send it back to Mobile Money from the wallet. Answers what was returned (0 when nothing).
   */
  async function returnSecondCollection(paymentId: string, found: TransactionStatus): Promise<bigint> {
    const { state } = await store.load(paymentId);
    const { initiated, requested } = state;
    if (initiated === null || found.status !== 'SUCCESSFUL') return 0n;
    if (requested?.provider === found.provider && requested.providerReference === found.providerReference)
      return 0n; // the attempt's own collection
    const asked = BigInt(initiated.amountMinor);
    const amount = found.amountMinor < asked ? found.amountMinor : asked;
    if (amount <= 0n) return 0n;
    const suffix = `second:${found.provider}`;
    const clearing = providerClearingId(found.provider, 'XAF');
    const fee = providerFeeMinor(amount, initiated.operator);
    await book([
      toWallet(paymentId, initiated.userId, clearing, amount, suffix, 'refund'),
      ...feeTransfer(paymentId, found.provider, fee, `${suffix}:fee`),
    ]);
    logger.error(
      {
        paymentId,
        provider: found.provider,
        recordedProvider: requested?.provider ?? null,
        amountMinor: String(amount),
      },
      "a second provider collected this attempt: the money went back to the payer's wallet",
    );
    return amount;
  }

  return { settle, bookingOf, tellOrderFailed, returnSecondCollection };
}
