/**
 * Redemption at checkout: loyalty implements orders' PointsPort (a hold of the customer's points
 * at placement, a pending PTS transfer customer → issuance) and follows the order's events to end
 * the hold exactly once:
 *   OrderPaymentCaptured                    → post the hold (the points are spent);
 *   OrderPaymentFailed / OrderPaymentExpired → void it (the points come back);
 *   OrderRejected / OrderCancelled          → void it; already posted (the order was paid), give
 *                                             the points back with a return transfer.
 * A hold that expired before its order was paid (a late payment, or this reactor behind by more
 * than the hold's timeout) is never re-taken: the points went back to the customer, who may have
 * spent them since, so the order takes none; its discount stays (the customer paid the price
 * quoted) and is funded like any points' part, by the promotions expense at settlement. The lapse
 * is recorded once per order (`loyalty_lapsed_holds`) for finance. A tier free delivery taken by
 * the order goes back to the month when the order fails or is cancelled (the same events).
 * Every transfer is named after the order, so a replay books nothing twice. The money side needs
 * nothing new: the order's discount includes the points' value and settlement pays the discount
 * into the escrow from the promotions expense (platform-funded), so the restaurant's share is
 * unchanged and the escrow still ends at zero.
 */
import type { Logger } from 'pino';
import {
  accountSpec,
  customerPointsId,
  pointsIssuanceId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import {
  ORDER_STREAM_PREFIX,
  orderStream,
  orderStreamExists,
  type OrderCreatedData,
  type PointsPort,
} from '../orders/index.js';
import {
  HOLD_TIMEOUT_SECONDS,
  holdTransferId,
  postTransferId,
  RETURN_REASON,
  returnTransferId,
  voidTransferId,
} from './rules.js';
import type { LoyaltyLedger } from './service.js';
import type { FreeDeliveries } from './free-deliveries.js';
import type { LoyaltyDb } from './tables.js';

export const REDEMPTION_REACTOR = 'loyalty-redemptions';
const POSTING = ['OrderPaymentCaptured'] as const;
const VOIDING = ['OrderPaymentFailed', 'OrderPaymentExpired', 'OrderRejected', 'OrderCancelled'] as const;
/** Answers that mean the step was taken before (by this reactor or an earlier run). */
const DONE = new Set(['ok', 'exists']);

export type RedemptionOutcome = 'posted' | 'voided' | 'returned' | 'none' | 'expired' | 'lapsed';

export interface RedemptionOptions {
  db: LoyaltyDb;
  eventStore: EventStore;
  ledger: LoyaltyLedger;
  logger: Logger;
  freeDeliveries?: FreeDeliveries;
  /** How long a hold waits for the payment (LOYALTY_POINTS_HOLD_SECONDS); default one hour. */
  holdTimeoutSeconds?: number;
}

export function createRedemption(options: RedemptionOptions) {
  const { ledger, logger, eventStore } = options;
  const listeners: ((orderId: string, outcome: RedemptionOutcome) => void)[] = [];

  const { freeDeliveries } = options;
  const points: PointsPort = {
    ...(freeDeliveries === undefined
      ? {}
      : {
          async freeDelivery(customerId, at, orderId) {
            // Guests have no points account, hence no tier.
            if (accountSpec(customerPointsId(customerId)) === null) return undefined;
            return freeDeliveries.available(customerId, at, orderId);
          },
          reserveFreeDelivery: (reservation) => freeDeliveries.reserve(reservation),
          async releaseFreeDelivery(orderId) {
            if (await orderStreamExists(eventStore, orderId)) return;
            await freeDeliveries.release(orderId, new Date());
          },
        }),
    async available(customerId) {
      if (accountSpec(customerPointsId(customerId)) === null) return 0n;
      const account = await ledger.account(customerPointsId(customerId));
      return account?.availableMinor ?? 0n;
    },
    async hold(orderId, customerId, amount) {
      const [outcome] = await ledger.submit([
        {
          id: holdTransferId(orderId),
          debitAccountId: customerPointsId(customerId),
          creditAccountId: pointsIssuanceId(),
          amountMinor: amount,
          currency: 'PTS',
          code: 'points_redeem',
          flags: { pending: true },
          timeoutSeconds: options.holdTimeoutSeconds ?? HOLD_TIMEOUT_SECONDS,
          userData: { orderId, userId: customerId },
        },
      ]);
      if (DONE.has(outcome!.result)) return true;
      if (outcome!.result === 'exceeds_credits' || outcome!.result === 'debit_account_not_found')
        return false;
      throw new Error(`points hold for order ${orderId} refused: ${outcome!.result}`);
    },
  };

  const settle = (id: string, orderId: string, flag: 'postPending' | 'voidPending'): Transfer => ({
    id,
    debitAccountId: '',
    creditAccountId: '',
    amountMinor: 0n,
    currency: 'PTS',
    code: 'points_redeem',
    flags: { [flag]: true },
    pendingId: holdTransferId(orderId),
    userData: { orderId },
  });

  async function end(orderId: string, data: OrderCreatedData, eventType: string): Promise<RedemptionOutcome> {
    if (data.pointsUsed === undefined) return 'none';
    const posting = (POSTING as readonly string[]).includes(eventType);
    const [outcome] = await ledger.submit([
      posting
        ? settle(postTransferId(orderId), orderId, 'postPending')
        : settle(voidTransferId(orderId), orderId, 'voidPending'),
    ]);
    const result = outcome!.result;
    if (DONE.has(result)) return posting ? 'posted' : 'voided';
    if (!posting && result === 'pending_transfer_already_posted') return giveBack(orderId, data);
    if (!posting && result === 'pending_transfer_already_voided') return 'voided';
    if (result === 'pending_transfer_expired') {
      // The hold outlived its timeout before the order was paid (or ended): nothing is held any
      // more and nothing is taken now (the points are the customer's again). Paid: the order
      // keeps its discount without spending points; recorded once for finance.
      if (!posting) return 'expired';
      await recordLapse(orderId, data);
      return 'lapsed';
    }
    throw new Error(`points hold of order ${orderId}: ${result}`);
  }

  async function recordLapse(orderId: string, data: OrderCreatedData): Promise<void> {
    const inserted = await options.db
      .insertInto('loyalty_lapsed_holds')
      .values({
        order_id: orderId,
        customer_id: data.customer.id,
        points: BigInt(data.pointsUsed!),
        discount_minor: BigInt(data.pointsDiscountMinor ?? 0),
      })
      .onConflict((conflict) => conflict.column('order_id').doNothing())
      .executeTakeFirst();
    if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n)
      logger.warn({ orderId }, 'points hold expired before payment: the order took no points');
  }

  /** A paid order cancelled or rejected: the spent points go back (once, by order). */
  async function giveBack(orderId: string, data: OrderCreatedData): Promise<RedemptionOutcome> {
    const [outcome] = await ledger.submit([
      {
        id: returnTransferId(orderId),
        debitAccountId: pointsIssuanceId(),
        creditAccountId: customerPointsId(data.customer.id),
        amountMinor: BigInt(data.pointsUsed!),
        currency: 'PTS',
        code: 'points_redeem',
        flags: {},
        userData: { orderId, userId: data.customer.id, reason: RETURN_REASON },
      },
    ]);
    if (DONE.has(outcome!.result)) return 'returned';
    throw new Error(`points return of order ${orderId}: ${outcome!.result}`);
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const [created] = await eventStore.readStream(orderStream(orderId), {
      maxCount: 1,
      missingAsEmpty: true,
    });
    const data = created?.data as OrderCreatedData | undefined;
    if (created?.type !== 'OrderCreated' || data === undefined) return;
    if (data.freeDelivery !== undefined && !(POSTING as readonly string[]).includes(event.type))
      await freeDeliveries?.release(orderId, event.createdAt);
    const outcome = await end(orderId, data, event.type);
    for (const listener of listeners) listener(orderId, outcome);
  }

  const reactor = createReactor({
    name: REDEMPTION_REACTOR,
    db: options.db,
    checkpointTable: 'loyalty_reactor_checkpoints',
    eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: [...POSTING, ...VOIDING] },
    logger,
    handle,
  });

  return {
    points,
    start: reactor.start,
    stop: reactor.stop,
    onEnded(listener: (orderId: string, outcome: RedemptionOutcome) => void) {
      listeners.push(listener);
    },
  };
}

export type Redemption = ReturnType<typeof createRedemption>;
