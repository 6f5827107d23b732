/**
 * Bulk orders' pure rules (docs/community.md, "Bulk orders"): the deposit, what a cancellation
 * gives back, and the id of every transfer a bulk order makes. Ids are derived from the bulk
 * order alone, so a retry, a second instance or the sweep books each one once.
 */
import {
  bulkOrderEscrowId,
  customerWalletId,
  restaurantPayableId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { BulkOrderStatus } from './tables.js';

/** At most this many lines (orders' own cap), each 1 to 50 portions (orders' cap per line). */
export const BULK_MAX_LINES = 50;
export const BULK_MAX_QUANTITY_PER_LINE = 50;
export const BULK_NOTE_MAX_LENGTH = 500;

/** Statuses a request may still end from, and the ended ones (their money given back once). */
export const LIVE: readonly BulkOrderStatus[] = ['requested', 'proposed', 'confirmed'];
export const ENDED: readonly BulkOrderStatus[] = ['cancelled', 'refused', 'expired', 'failed'];

/** The deposit: `percent` of the total, rounded up to the franc, never more than the total. */
export function depositOf(totalMinor: bigint, percent: number): bigint {
  if (totalMinor <= 0n) throw new RangeError(`a bulk order's total is positive, not ${totalMinor}`);
  if (!Number.isInteger(percent) || percent < 1 || percent > 100)
    throw new RangeError(`a deposit is 1 to 100 percent, not ${percent}`);
  const deposit = (totalMinor * BigInt(percent) + 99n) / 100n;
  return deposit > totalMinor ? totalMinor : deposit;
}

export interface CancellationPolicy {
  freeCancelHoursBefore: number;
  lateCancelRefundPercent: number;
}

/**
 * What of the deposit goes back when the customer cancels: all of it before the restaurant
 * confirmed, or until the free-cancellation cutoff; after it, the configured percent (rounded
 * down: the franc in doubt is the restaurant's, whose capacity was held).
 */
export function cancellationRefund(
  request: { status: BulkOrderStatus; scheduledFor: Date; depositMinor: bigint },
  at: Date,
  policy: CancellationPolicy,
): bigint {
  if (request.status !== 'confirmed') return request.depositMinor;
  const cutoff = request.scheduledFor.getTime() - policy.freeCancelHoursBefore * 3_600_000;
  if (at.getTime() < cutoff) return request.depositMinor;
  return (request.depositMinor * BigInt(policy.lateCancelRefundPercent)) / 100n;
}

const XAF = 'XAF' as const;

export const bulkTransferIds = (id: string) => ({
  deposit: `bulk-deposit:${id}`,
  balance: `bulk-balance:${id}`,
  release: `bulk-release:${id}`,
  depositRefund: `bulk-refund-deposit:${id}`,
  balanceRefund: `bulk-refund-balance:${id}`,
  forfeit: `bulk-forfeit:${id}`,
});

/** A payment from the customer's wallet into the bulk order's escrow (its deposit or its balance). */
export function paymentTransfer(
  id: string,
  customerId: string,
  part: 'deposit' | 'balance',
  amountMinor: bigint,
): Transfer {
  return {
    id: bulkTransferIds(id)[part],
    debitAccountId: customerWalletId(customerId, XAF),
    creditAccountId: bulkOrderEscrowId(id, XAF),
    amountMinor,
    currency: XAF,
    code: 'payment_capture',
    flags: {},
    userData: { bulkOrderId: id, userId: customerId, part },
  };
}

/** Everything held, to the customer's wallet, which then pays the order like any wallet order. */
export function releaseTransfer(id: string, customerId: string, amountMinor: bigint): Transfer {
  return {
    id: bulkTransferIds(id).release,
    debitAccountId: bulkOrderEscrowId(id, XAF),
    creditAccountId: customerWalletId(customerId, XAF),
    amountMinor,
    currency: XAF,
    code: 'escrow_release',
    flags: {},
    userData: { bulkOrderId: id, userId: customerId },
  };
}

/**
 * The transfers that empty an ended request's escrow: the deposit's refund, the part of it kept
 * for the restaurant (to its payable, paid out with its orders), and a paid balance back whole.
 */
export function endingTransfers(request: {
  id: string;
  customerId: string;
  restaurantId: string;
  depositMinor: bigint;
  depositRefundMinor: bigint;
  balanceMinor: bigint;
  balancePaid: boolean;
}): Transfer[] {
  const ids = bulkTransferIds(request.id);
  const escrow = bulkOrderEscrowId(request.id, XAF);
  const wallet = customerWalletId(request.customerId, XAF);
  const userData = { bulkOrderId: request.id, userId: request.customerId };
  if (request.depositRefundMinor < 0n || request.depositRefundMinor > request.depositMinor)
    throw new RangeError(`refund ${request.depositRefundMinor} of a ${request.depositMinor} deposit`);
  const transfers: Transfer[] = [];
  const kept = request.depositMinor - request.depositRefundMinor;
  if (request.depositRefundMinor > 0n)
    transfers.push({
      id: ids.depositRefund,
      debitAccountId: escrow,
      creditAccountId: wallet,
      amountMinor: request.depositRefundMinor,
      currency: XAF,
      code: 'refund',
      flags: {},
      userData: { ...userData, part: 'deposit' },
    });
  if (kept > 0n)
    transfers.push({
      id: ids.forfeit,
      debitAccountId: escrow,
      creditAccountId: restaurantPayableId(request.restaurantId, XAF),
      amountMinor: kept,
      currency: XAF,
      code: 'escrow_release',
      flags: {},
      userData: { ...userData, part: 'cancellation_fee' },
    });
  if (request.balancePaid && request.balanceMinor > 0n)
    transfers.push({
      id: ids.balanceRefund,
      debitAccountId: escrow,
      creditAccountId: wallet,
      amountMinor: request.balanceMinor,
      currency: XAF,
      code: 'refund',
      flags: {},
      userData: { ...userData, part: 'balance' },
    });
  return transfers;
}
