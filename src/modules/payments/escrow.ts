/**
 * Escrow and release: an order's money sits in `escrow:order:<id>` from capture until the
 * delivery PIN. This reactor follows the orders' events in the global order (a checkpointed
 * subscription; effects are idempotent by transfer id, so a redelivery lands nothing twice):
 *   OrderDelivered        → the settlement chain (restaurant share at its commission tier or an
 *                           admin override, platform commission, driver fee + 100 % of the tip,
 *                           delivery margin, tax), the last leg closing the escrow at zero;
 *   OrderRejected/Cancelled → the refund to the customer's wallet at once; what the order's
 *                           policy keeps (a late-cancellation fee) goes to the restaurant;
 *   OrderDisputeResolved  → the refund: from the escrow if it still holds the money (delivery
 *                           failed), else from the restaurant's payable up to its share of this
 *                           order and the rest from the platform (promotions expense);
 *   OrderPaymentFailed/Expired → nothing, unless money reached the escrow anyway (the wallet chain
 *                           landed but the capture was never appended): all of it back to the
 *                           customer's wallet (`refund-unplaced:<orderId>`).
 * Beside the reactor, `sweepStranded` (scheduled) gives back what sits in the escrow of an order
 * whose stream was never appended (placement paid from the wallet, then the process stopped).
 */
import type { Logger } from 'pino';
import {
  accountSpec,
  customerWalletId,
  orderEscrowId,
  promotionsExpenseId,
  restaurantPayableId,
  type Currency,
  type Transfer,
} from '../../../ledger/rules/index.js';
import { createCommissionRepository } from './commission-repository.js';
import { createEscrowRelease, type EscrowOrders, type OrderLike } from './escrow-release.js';
import { createSettlementsRepository, type StrandedEscrow } from './settlements-repository.js';
import type { PaymentsDb } from './tables.js';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import type { AuditFunction } from '../identity/index.js';
import { ORDER_STREAM_PREFIX, orderStreamExists } from '../orders/index.js';
import { LedgerRefusal, linked, submitAll, type LedgerPort } from './ledger-port.js';

export const ESCROW_REACTOR = 'escrow';
const HANDLED = [
  'OrderDelivered',
  'OrderRejected',
  'OrderCancelled',
  'OrderDisputeResolved',
  'OrderPaymentFailed',
  'OrderPaymentExpired',
] as const;
const RESTART_DELAY_MS = 2_000;
/** A streamless escrow is left alone this long after its first credit (placement pays, then appends the order). */
export const STRANDED_GRACE_MS = 10 * 60_000;
/** Stranded escrows refunded per sweep at most (the next sweep takes the rest). */
const STRANDED_BATCH = 100;
/** `escrow:order:` and `wallet:customer:`, from the chart itself so that they cannot drift from it. */
const chartPrefix = (id: string): string => id.slice(0, id.length - 'x:XAF'.length);
const ESCROW_PREFIX = chartPrefix(orderEscrowId('x', 'XAF'));
const WALLET_PREFIX = chartPrefix(customerWalletId('x', 'XAF'));

export type { EscrowOrders } from './escrow-release.js';

export interface EscrowOptions {
  db: PaymentsDb;
  eventStore: EventStore;
  ledger: LedgerPort;
  logger: Logger;
  orders: () => EscrowOrders | undefined;
  /** Each refund of an unplaced or stranded escrow is audited (ids and amounts only). */
  audit?: AuditFunction;
  now?: () => Date;
}

/** A streamless escrow holding money, as the ledger projection sees it (the writer decides). */
type StrandedCandidate = StrandedEscrow;

export function createEscrow(options: EscrowOptions) {
  const { db, ledger, logger } = options;
  const commission = createCommissionRepository(db);
  const settlements = createSettlementsRepository(db);
  const now = options.now ?? (() => new Date());
  const listeners: ((event: RecordedEvent) => void)[] = [];

  /** What the escrow holds now, from the writer (never the projection); 0 once closed. */
  async function escrowAvailable(orderId: string, currency: Currency = 'XAF'): Promise<bigint> {
    const account = await ledger.account(orderEscrowId(orderId, currency));
    return account === null || account.closed === true ? 0n : account.availableMinor;
  }

  async function book(transfers: Transfer[]): Promise<void> {
    const refusal = await submitAll(ledger, linked(transfers));
    if (refusal !== null) throw new LedgerRefusal(refusal);
  }

  const { release } = createEscrowRelease({
    settlements,
    commission,
    orders: options.orders,
    escrowAvailable: (orderId) => escrowAvailable(orderId),
    book,
    logger,
    now,
  });

  /** Money given back to a customer's wallet: code `refund`, category `refunds` on the statement. */
  function refundTransfer(
    id: string,
    orderId: string,
    debitAccountId: string,
    walletId: string,
    amountMinor: bigint,
    currency: Currency = 'XAF',
  ): Transfer {
    return {
      id,
      debitAccountId,
      creditAccountId: walletId,
      amountMinor,
      currency,
      code: 'refund',
      flags: {},
      userData: { orderId, category: 'refunds' },
    };
  }

  /**
   * Books a refund of a whole escrow balance under its fixed id: 'booked' now, or 'done' by an
   * earlier run. The same id with another amount means that run refunded what was there then; what
   * came in since is someone else's (a late Mobile Money capture, which the payments service
   * returns itself), so it is reported, not retried: a retry could never succeed.
   */
  async function bookWholeRefund(transfer: Transfer): Promise<'booked' | 'done'> {
    const [outcome] = await ledger.submit([transfer]);
    if (outcome!.result === 'ok') return 'booked';
    if (outcome!.result === 'exists') return 'done';
    if (outcome!.result === 'exists_with_different_fields') {
      logger.error(
        {
          transferId: transfer.id,
          escrowId: transfer.debitAccountId,
          amountMinor: Number(transfer.amountMinor),
          detail: outcome!.detail,
        },
        'escrow refunded earlier with another amount; what it holds now is left for finance',
      );
      return 'done';
    }
    throw new LedgerRefusal(outcome!);
  }

  /** Logs and audits a whole-escrow refund just booked (ids and amounts only, no personal data). */
  async function reportRefund(
    action: string,
    message: string,
    orderId: string,
    customerId: string,
    transfer: Transfer,
    extra: Record<string, string>,
  ): Promise<void> {
    const detail = {
      transferId: transfer.id,
      escrowId: transfer.debitAccountId,
      walletId: transfer.creditAccountId,
      amountMinor: Number(transfer.amountMinor),
      currency: transfer.currency,
      ...extra,
    };
    logger.warn({ orderId, ...detail }, message);
    await options.audit?.({
      action,
      actor: { kind: 'system' },
      subjectUserId: customerId,
      resource: `order:${orderId}`,
      newValue: detail,
    });
  }

  /** Refund `refundMinor` from the escrow to the wallet; the rest (a kept fee) to the restaurant; the escrow ends at zero. */
  async function refundFromEscrow(
    orderId: string,
    refundMinor: bigint,
    outcome: 'refunded' | 'resolved',
  ): Promise<void> {
    const { state } = await options.orders()!.load(orderId);
    const order = state.order;
    if (order === null) return;
    const held = await escrowAvailable(orderId);
    if (held === 0n) return; // never funded (payment failed or expired), or already settled
    const refund = refundMinor > held ? held : refundMinor;
    const kept = held - refund;
    const escrow = orderEscrowId(orderId, 'XAF');
    const transfers: Transfer[] = [];
    if (refund > 0n)
      transfers.push(
        refundTransfer(
          `refund:${orderId}:escrow`,
          orderId,
          escrow,
          customerWalletId(order.customer.id, 'XAF'),
          refund,
        ),
      );
    if (kept > 0n)
      transfers.push({
        id: `refund:${orderId}:kept`,
        debitAccountId: escrow,
        creditAccountId: restaurantPayableId(order.restaurantId, 'XAF'),
        amountMinor: kept,
        currency: 'XAF',
        code: 'escrow_release',
        flags: {},
        userData: { orderId, restaurantId: order.restaurantId },
      });
    const last = transfers.length - 1;
    transfers[last] = { ...transfers[last]!, flags: { closingDebit: true } };
    await recordRefund(order, state.driverId, outcome, held, refund);
    await book(transfers);
  }

  /** The order's row in `order_settlements` for a refund from its escrow (what is not refunded was kept by the restaurant). */
  async function recordRefund(
    order: OrderLike,
    driverId: string | null,
    outcome: 'refunded' | 'resolved',
    held: bigint,
    refund: bigint,
  ): Promise<void> {
    await settlements.recordRefund({
      order_id: order.orderId,
      restaurant_id: order.restaurantId,
      driver_id: driverId,
      customer_id: order.customer.id,
      currency: 'XAF',
      outcome,
      escrow_minor: held,
      subtotal_minor: BigInt(order.pricing.subtotalMinor),
      commission_rate: '0',
      commission_tier: 'none',
      commission_minor: 0n,
      restaurant_share_minor: held - refund,
      driver_fee_minor: 0n,
      tip_minor: 0n,
      delivery_margin_minor: 0n,
      tax_minor: 0n,
      refund_minor: refund,
      settled_at: now(),
    });
  }

  /**
   * An order whose payment failed or expired normally has an empty escrow. If money reached it
   * anyway (the wallet chain landed, then the process stopped before the capture was appended),
   * all of it goes back to the customer's wallet. The escrow stays open: a Mobile Money capture
   * arriving later must still land there, so that the payments service can return it as usual.
   */
  async function refundUnplaced(
    orderId: string,
    cause: 'OrderPaymentFailed' | 'OrderPaymentExpired',
  ): Promise<void> {
    const held = await escrowAvailable(orderId);
    if (held === 0n) return; // the normal case: no money ever reached the escrow
    const { state } = await options.orders()!.load(orderId);
    const order = state.order;
    if (order === null || (state.status !== 'PAYMENT_FAILED' && state.status !== 'PAYMENT_EXPIRED')) return;
    const transfer = refundTransfer(
      `refund-unplaced:${orderId}`,
      orderId,
      orderEscrowId(orderId, 'XAF'),
      customerWalletId(order.customer.id, 'XAF'),
      held,
    );
    await recordRefund(order, state.driverId, 'refunded', held, held);
    if ((await bookWholeRefund(transfer)) === 'done') return;
    await reportRefund(
      'escrow.refund_unplaced',
      'escrow of an order that was never placed refunded to the wallet',
      orderId,
      order.customer.id,
      transfer,
      { cause },
    );
  }

  /** A dispute resolved after release: the restaurant gives back up to its share, the platform the rest. */
  async function refundAfterRelease(orderId: string, refundMinor: bigint): Promise<void> {
    const settled = await settlements.get(orderId);
    const payable = restaurantPayableId(settled.restaurant_id, 'XAF');
    const wallet = customerWalletId(settled.customer_id, 'XAF');
    const payableAvailable = (await ledger.account(payable))?.availableMinor ?? 0n;
    let fromRestaurant =
      refundMinor < settled.restaurant_share_minor ? refundMinor : settled.restaurant_share_minor;
    if (fromRestaurant > payableAvailable) fromRestaurant = payableAvailable;
    const fromPlatform = refundMinor - fromRestaurant;
    const transfers: Transfer[] = [];
    if (fromRestaurant > 0n)
      transfers.push(
        refundTransfer(`refund:${orderId}:dispute-restaurant`, orderId, payable, wallet, fromRestaurant),
      );
    if (fromPlatform > 0n)
      transfers.push(
        refundTransfer(
          `refund:${orderId}:dispute-platform`,
          orderId,
          promotionsExpenseId('XAF'),
          wallet,
          fromPlatform,
        ),
      );
    if (transfers.length === 0) return;
    await book(transfers);
    await settlements.resolveAfterRelease(orderId, refundMinor);
  }

  /** Escrows stranded without an order, first credited before `at − STRANDED_GRACE_MS`. */
  async function strandedCandidates(at: Date): Promise<StrandedCandidate[]> {
    return settlements.strandedEscrows({
      creditedBeforeNs: BigInt(at.getTime() - STRANDED_GRACE_MS) * 1_000_000n,
      ordersIn: options.eventStore.kind === 'postgres' ? 'event_store' : 'orders_view',
      escrowPrefix: ESCROW_PREFIX,
      orderStreamPrefix: ORDER_STREAM_PREFIX,
      walletPrefix: WALLET_PREFIX,
      limit: STRANDED_BATCH,
    });
  }

  /** One candidate: re-read with the writer, then the whole balance back to the wallet that paid it. */
  async function refundStranded(candidate: StrandedCandidate): Promise<'refunded' | 'left' | 'skipped'> {
    const spec = accountSpec(candidate.id);
    if (spec === null || spec.role !== 'order_escrow') return 'skipped';
    const orderId = spec.subject;
    const held = await escrowAvailable(orderId, spec.currency);
    if (held <= 0n) return 'skipped'; // refunded meanwhile (the projection lags)
    const payer = candidate.payers.length === 1 ? accountSpec(candidate.payers[0]!) : null;
    if (payer?.role !== 'customer_wallet' || payer.currency !== spec.currency) {
      logger.error(
        { escrowId: candidate.id, orderId, heldMinor: Number(held), payers: candidate.payers },
        'stranded escrow not paid by one customer wallet: left for finance',
      );
      return 'left';
    }
    // The order may have been appended since the query (placement far slower than the grace period).
    // Asked through the port: the query's prefilter reads PostgreSQL's stream table, which is empty
    // when the events live in EventStoreDB.
    if (await orderStreamExists(options.eventStore, orderId)) return 'skipped';
    const transfer = refundTransfer(
      `refund-stranded:${orderId}`,
      orderId,
      candidate.id,
      payer.id,
      held,
      spec.currency,
    );
    if ((await bookWholeRefund(transfer)) === 'done') return 'skipped';
    const firstCreditAt = new Date(Number(BigInt(candidate.first_ns) / 1_000_000n)).toISOString();
    await reportRefund(
      'escrow.refund_stranded',
      'stranded escrow (no order stream) refunded to the wallet that paid it',
      orderId,
      payer.subject,
      transfer,
      { firstCreditAt },
    );
    return 'refunded';
  }

  /** Scheduled: refunds stranded escrows (at most STRANDED_BATCH a run; one failure does not stop the others). */
  async function sweepStranded(
    at: Date = now(),
  ): Promise<{ refunded: number; leftForFinance: number; failed: number }> {
    const counts = { refunded: 0, leftForFinance: 0, failed: 0 };
    for (const candidate of await strandedCandidates(at)) {
      try {
        const outcome = await refundStranded(candidate);
        if (outcome === 'refunded') counts.refunded += 1;
        if (outcome === 'left') counts.leftForFinance += 1;
      } catch (error) {
        counts.failed += 1;
        logger.error(
          { err: error, escrowId: candidate.id },
          'stranded escrow refund failed; the next sweep tries again',
        );
      }
    }
    return counts;
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const data = event.data as { refundMinor?: number };
    const type = event.type as (typeof HANDLED)[number];
    switch (type) {
      case 'OrderDelivered':
        await release(orderId);
        break;
      case 'OrderRejected':
      case 'OrderCancelled':
        await refundFromEscrow(orderId, BigInt(data.refundMinor ?? 0), 'refunded');
        break;
      case 'OrderDisputeResolved': {
        const released = await settlements.find(orderId);
        if (released?.outcome === 'released' || released?.outcome === 'resolved')
          await refundAfterRelease(orderId, BigInt(data.refundMinor ?? 0));
        else await refundFromEscrow(orderId, BigInt(data.refundMinor ?? 0), 'resolved');
        break;
      }
      case 'OrderPaymentFailed':
      case 'OrderPaymentExpired':
        await refundUnplaced(orderId, type);
        break;
      default:
        return;
    }
    for (const listener of listeners) listener(event);
  }

  const reactor = createReactor({
    name: ESCROW_REACTOR,
    db,
    checkpointTable: 'payments_reactor_checkpoints',
    eventStore: options.eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: [...HANDLED] },
    logger,
    handle,
    restartDelayMs: RESTART_DELAY_MS,
  });

  return {
    start: reactor.start,
    stop: reactor.stop,
    /** Called after each order event this reactor acted on (tests wait on it). */
    onHandled(listener: (event: RecordedEvent) => void) {
      listeners.push(listener);
    },
    release,
    refundFromEscrow,
    refundUnplaced,
    sweepStranded,
    escrowAvailable,
  };
}

export type Escrow = ReturnType<typeof createEscrow>;
