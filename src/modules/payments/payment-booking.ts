/**
 * Booking a succeeded payment in the ledger, exactly once (transfer ids are named after the
 * payment, so a retry lands nothing twice):
 *   - a top-up: provider clearing → the customer's wallet, and the provider fee as its own transfer;
 *   - an order's payment: provider clearing → the order's escrow (+ fee), then the order is told;
 *     if the order can no longer take it (expired, cancelled), the money goes on to the wallet;
 *   - a bulk order's deposit or balance: provider clearing → the request's own escrow (+ fee),
 *     then community is asked whether the request takes it; if not (cancelled, expired, another
 *     collection already paid it), the money goes on to the wallet (`pay:<id>:return`);
 *   - a late success after the attempt expired: the money lands in the customer's wallet.
 */
import type { Logger } from 'pino';
import {
  bulkOrderEscrowId,
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

/**
 * What payments needs of community's bulk orders (late-bound: community is built after payments).
 * `collected` is asked each time a collection for a bulk order has been captured into its escrow
 * (a webhook, a poll, the sweep and a retry may each ask): it answers whether the request keeps
 * the money, and answers the same thing every time for one payment. `failed` says a collection
 * will not land (the request may be paid again).
 */
export interface BulkCollectionsHook {
  collected(collection: {
    bulkOrderId: string;
    part: 'deposit' | 'balance';
    paymentId: string;
    amountMinor: bigint;
  }): Promise<boolean>;
  failed(collection: { bulkOrderId: string; part: 'deposit' | 'balance'; paymentId: string }): Promise<void>;
}

export interface PaymentBookingOptions {
  store: PaymentStore;
  attempts: PaymentAttemptsRepository;
  ledger: LedgerPort;
  orders: () => OrdersHook | undefined;
  /** Absent (or answering undefined) where community is not built: a bulk order's money goes to the wallet. */
  bulkOrders?: () => BulkCollectionsHook | undefined;
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
    const kind = initiated?.purpose.kind;
    const taker =
      kind === 'order' ? options.orders() : kind === 'bulk_order' ? options.bulkOrders?.() : undefined;
    return taker !== undefined &&
      succeeded !== null &&
      !succeeded.afterExpiry &&
      BigInt(succeeded.amountMinor) === BigInt(initiated!.amountMinor)
      ? 'capture'
      : 'credit';
  }

  async function tellOrderFailed(state: PaymentState, reason: string): Promise<void> {
    const purpose = state.initiated?.purpose;
    if (purpose?.kind === 'bulk_order') {
      await options.bulkOrders?.()?.failed({
        bulkOrderId: purpose.bulkOrderId,
        part: purpose.part,
        paymentId: state.initiated!.paymentId,
      });
      return;
    }
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
   * A bulk order's deposit or balance: captured into the request's escrow, then community decides
   * (under the request's lock, once per payment) whether the request keeps it; a refusal (the
   * request ended meanwhile, or this part was paid another way) sends it on to the wallet. Every
   * step is named after the payment, so a webhook, a poll, the sweep and a retry book it once.
   */
  async function captureIntoBulkOrder(
    paymentId: string,
    purpose: { bulkOrderId: string; part: 'deposit' | 'balance' },
    userId: string,
    clearing: string,
    received: bigint,
    fee: Transfer[],
    bulkOrders: BulkCollectionsHook,
  ): Promise<void> {
    const escrow = bulkOrderEscrowId(purpose.bulkOrderId, 'XAF');
    await book([
      {
        id: `pay:${paymentId}:capture`,
        debitAccountId: clearing,
        creditAccountId: escrow,
        amountMinor: received,
        currency: 'XAF',
        code: 'payment_capture',
        flags: {},
        userData: { paymentId, bulkOrderId: purpose.bulkOrderId, userId, part: purpose.part },
      },
      ...fee,
    ]);
    const kept = await bulkOrders.collected({ ...purpose, paymentId, amountMinor: received });
    if (kept) return;
    logger.warn(
      { paymentId, bulkOrderId: purpose.bulkOrderId, part: purpose.part },
      'payment arrived for a bulk order that no longer takes it: crediting the wallet',
    );
    await book([toWallet(paymentId, userId, escrow, received, 'return', 'refund')]);
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
    const bulkOrders = options.bulkOrders?.();
    if (bookingOf(state) === 'capture' && purpose.kind === 'bulk_order' && bulkOrders !== undefined) {
      await captureIntoBulkOrder(paymentId, purpose, initiated.userId, clearing, received, fee, bulkOrders);
    } else if (bookingOf(state) === 'credit' || purpose.kind !== 'order' || orders === undefined) {
      await book([toWallet(paymentId, initiated.userId, clearing, received, 'credit', 'topup'), ...fee]);
      // Less than the order's total cannot pay it: the money is the customer's, the order fails.
      if (purpose.kind !== 'topup' && !succeeded.afterExpiry) await tellOrderFailed(state, 'AMOUNT_SHORT');
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
