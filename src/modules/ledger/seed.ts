import {
  customerPointsId,
  customerWalletId,
  driverFeeMinor,
  orderEscrowId,
  orderSettlement,
  pointsIssuanceId,
  providerClearingId,
  providerFeesExpenseId,
  restaurantPayableId,
  settlementTransfers,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { Ledger } from './service.js';

/**
 * Demo ledger movements, so that `npm run ledger -- verify` has something to prove: two top-ups
 * with their provider fees, an order paid by a hold posted on acceptance and settled in one linked
 * chain, an order whose hold was voided on decline, loyalty points, and a payout hold still open.
 * Transfer ids are fixed: running the seed twice answers `exists` and moves nothing.
 */
const alice = 'demo-alice';
const bob = 'demo-bob';
const restaurant = 'demo-restaurant-1';
const driver = 'demo-driver-1';

function demoTransfers(): Transfer[][] {
  const paidOrder = 'demo-order-1';
  const settlement = orderSettlement({
    subtotalMinor: 6_500n,
    deliveryFeeChargedMinor: 700n,
    tipMinor: 200n,
    taxMinor: 0n,
    discountMinor: 0n,
    commissionRate: '0.15',
    driverFeeMinor: driverFeeMinor(1_850),
  });
  const aliceWallet = customerWalletId(alice, 'XAF');
  const bobWallet = customerWalletId(bob, 'XAF');
  const move = (
    id: string,
    debit: string,
    credit: string,
    amount: bigint,
    code: Transfer['code'],
    extra: Partial<Transfer> = {},
  ): Transfer => ({
    id,
    debitAccountId: debit,
    creditAccountId: credit,
    amountMinor: amount,
    currency: extra.currency ?? 'XAF',
    code,
    flags: {},
    ...extra,
  });
  return [
    [
      move('demo:topup:alice', providerClearingId('mtn_momo', 'XAF'), aliceWallet, 20_000n, 'topup', {
        userData: { userId: alice },
      }),
      move(
        'demo:fee:alice',
        providerFeesExpenseId('XAF'),
        providerClearingId('mtn_momo', 'XAF'),
        500n,
        'provider_fee',
      ),
      move('demo:topup:bob', providerClearingId('campay', 'XAF'), bobWallet, 5_000n, 'topup', {
        userData: { userId: bob },
      }),
      move(
        'demo:fee:bob',
        providerFeesExpenseId('XAF'),
        providerClearingId('campay', 'XAF'),
        100n,
        'provider_fee',
      ),
    ],
    [
      move(
        'demo:pay:order-1',
        aliceWallet,
        orderEscrowId(paidOrder, 'XAF'),
        settlement.escrowMinor,
        'payment_capture',
        { flags: { pending: true }, timeoutSeconds: 3_600, userData: { orderId: paidOrder } },
      ),
    ],
    [
      move('demo:accept:order-1', '', '', 0n, 'payment_capture', {
        flags: { postPending: true },
        pendingId: 'demo:pay:order-1',
        userData: { orderId: paidOrder },
      }),
    ],
    settlementTransfers({
      orderId: paidOrder,
      restaurantId: restaurant,
      driverId: driver,
      currency: 'XAF',
      settlement,
    }),
    [
      move('demo:pay:order-2', bobWallet, orderEscrowId('demo-order-2', 'XAF'), 3_000n, 'payment_capture', {
        flags: { pending: true },
        timeoutSeconds: 3_600,
        userData: { orderId: 'demo-order-2' },
      }),
    ],
    [
      move('demo:decline:order-2', '', '', 0n, 'payment_capture', {
        flags: { voidPending: true },
        pendingId: 'demo:pay:order-2',
      }),
    ],
    [
      move('demo:points:alice', pointsIssuanceId(), customerPointsId(alice), 74n, 'points_award', {
        currency: 'PTS',
        userData: { orderId: paidOrder },
      }),
    ],
    [
      move(
        'demo:payout:1',
        restaurantPayableId(restaurant, 'XAF'),
        providerClearingId('mtn_momo', 'XAF'),
        5_000n,
        'payout',
        { flags: { pending: true }, userData: { payoutId: 'demo-payout-1' } },
      ),
    ],
  ];
}

export const ledgerSeedStep = {
  name: 'ledger',
  async run(services: { ledger: Pick<Ledger, 'submit'> }): Promise<string[]> {
    let ok = 0;
    let existing = 0;
    for (const transfers of demoTransfers()) {
      const outcomes = await services.ledger.submit(transfers);
      for (const outcome of outcomes) {
        if (outcome.result === 'ok') ok += 1;
        else if (outcome.result === 'exists') existing += 1;
        else throw new Error(`demo ledger transfer ${outcome.id} was rejected: ${outcome.result}`);
      }
    }
    return [`${ok} demo transfers posted${existing > 0 ? `, ${existing} already there` : ''}`];
  },
};
