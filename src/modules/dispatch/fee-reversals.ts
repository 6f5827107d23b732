/**
 * A driver's fee reversed after a dispute decided against the delivery (issue #20): finance
 * staff name a resolved order; the driver fee the ledger booked for it at the escrow's release
 * goes back from the driver's payable to the platform's delivery revenue (where the delivery
 * margin goes: the platform keeps what the customer paid for a delivery that failed them),
 * exactly once. The transfer's id is derived from the order (`drv:fee-reversal:<orderId>`), so a
 * retry, a second instance or a second decision books nothing more; the audit log says who
 * decided and why. The payable may not go below zero (`debits_must_not_exceed_credits`): a driver
 * who already withdrew the money gets nothing booked (409), and the same reversal can be asked
 * again once they hold it.
 */
import { deliveryRevenueId, driverPayableId, type Transfer } from '../../../ledger/rules/index.js';
import type { EarningsRepository } from './earnings-repository.js';
import type { IncentiveLedger } from './earnings.js';
import { dispatchErrors } from './errors.js';
import type { DispatchOrders } from './offers.js';
import type { OnboardingActor, OnboardingIdentity } from './onboarding.js';

export const feeReversalTransferId = (orderId: string) => `drv:fee-reversal:${orderId}`;
/** The code of the reversal transfer, and what its `userData.reversal` names. */
export const FEE_REVERSAL = { code: 'reversal', reversal: 'driver_fee' } as const;

export interface FeeReversal {
  orderId: string;
  driverId: string;
  amountMinor: bigint;
  transferId: string;
  /** `reversed`: booked by this call; `already_reversed`: an earlier one booked it. */
  status: 'reversed' | 'already_reversed';
}

/** The transfer that gives a driver fee back (pure: the same order, the same transfer). */
export function feeReversalTransfer(fee: {
  orderId: string;
  driverId: string;
  amountMinor: bigint;
}): Transfer {
  return {
    id: feeReversalTransferId(fee.orderId),
    debitAccountId: driverPayableId(fee.driverId, 'XAF'),
    creditAccountId: deliveryRevenueId('XAF'),
    amountMinor: fee.amountMinor,
    currency: 'XAF',
    code: FEE_REVERSAL.code,
    flags: {},
    userData: { reversal: FEE_REVERSAL.reversal, orderId: fee.orderId, driverId: fee.driverId },
  };
}

export function createFeeReversals(deps: {
  ledger: () => IncentiveLedger;
  orders: () => Pick<DispatchOrders, 'find'>;
  earnings: Pick<EarningsRepository, 'driverFeeOf'>;
  identity: Pick<OnboardingIdentity, 'audit'>;
}) {
  async function bookedFee(orderId: string) {
    const found = await deps.orders().find(orderId);
    if (found === undefined || found.state.order === null)
      throw dispatchErrors.of('not_found', 'order_not_found', 'There is no such order.');
    if (found.state.status !== 'RESOLVED')
      throw dispatchErrors.of(
        'conflict',
        'driver_fee_not_reversible',
        'Only the fee of a delivered order whose dispute was resolved is reversed.',
        { details: { orderStatus: found.state.status } },
      );
    const fee = await deps.earnings.driverFeeOf(orderId);
    if (fee === undefined)
      throw dispatchErrors.of(
        'conflict',
        'driver_fee_not_booked',
        'No driver fee was booked for this order (never delivered, or the ledger statement has not caught up yet).',
      );
    return { orderId, ...fee };
  }

  return {
    /** Reverses the order's driver fee once; `reason` is the decision's, audited. */
    async reverse(orderId: string, reason: string, actor: OnboardingActor): Promise<FeeReversal> {
      const fee = await bookedFee(orderId);
      const transfer = feeReversalTransfer(fee);
      const [outcome] = await deps.ledger().submit([transfer]);
      const result = outcome?.result;
      const answer = { ...fee, transferId: transfer.id };
      // Same id, same body: booked before. The body is the order's, so a different one means a
      // corrupted record, never a second reversal: it is refused like any other ledger refusal.
      if (result === 'exists') return { ...answer, status: 'already_reversed' };
      if (result === 'exceeds_credits')
        throw dispatchErrors.of(
          'conflict',
          'driver_balance_insufficient',
          'The driver no longer holds the fee (paid out): nothing was reversed. Ask again once they do.',
          { details: { amountMinor: Number(fee.amountMinor) } },
        );
      if (result !== 'ok') throw new Error(`the ledger refused the fee reversal of ${orderId}: ${result}`);
      await deps.identity.audit({
        action: 'driver_fee.reversed',
        actor,
        subjectUserId: fee.driverId,
        resource: `order:${orderId}`,
        newValue: { transferId: transfer.id, amountMinor: Number(fee.amountMinor), reason },
      });
      return { ...answer, status: 'reversed' };
    },
  };
}

export type FeeReversals = ReturnType<typeof createFeeReversals>;
