import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountId,
  accountSpec,
  chartAccount,
  commissionRevenueId,
  customerPointsId,
  customerWalletId,
  deliveryExpenseId,
  deliveryRevenueId,
  driverPayableId,
  orderEscrowId,
  pointsIssuanceId,
  promotionsExpenseId,
  providerClearingId,
  providerFeesExpenseId,
  restaurantPayableId,
  taxPayableId,
  worldId,
  fxBridgeId,
  fxSpreadRevenueId,
  fxRoundingId,
  customerReceivableId,
  providerPayableId,
  groupCartEscrowId,
  bulkOrderEscrowId,
  type AccountRole,
} from './chart.js';
import { LIMITS } from './types.js';

const USER = '0b6d3f2e-8f4a-4c1e-9a57-2f1c3d4e5f60';

describe('chart of accounts', () => {
  const table: ReadonlyArray<[string, string, AccountRole, string, boolean, boolean]> = [
    // id, expected id, role, kind, debits ≤ credits, credits ≤ debits
    [
      customerWalletId(USER, 'XAF'),
      `wallet:customer:${USER}:XAF`,
      'customer_wallet',
      'liability',
      true,
      false,
    ],
    [orderEscrowId('ord_1', 'XAF'), 'escrow:order:ord_1:XAF', 'order_escrow', 'liability', true, false],
    [
      restaurantPayableId('r1', 'XAF'),
      'payable:restaurant:r1:XAF',
      'restaurant_payable',
      'liability',
      true,
      false,
    ],
    [driverPayableId('d1', 'XAF'), 'payable:driver:d1:XAF', 'driver_payable', 'liability', true, false],
    [taxPayableId('XAF'), 'payable:tax:platform:XAF', 'tax_payable', 'liability', true, false],
    [
      commissionRevenueId('XAF'),
      'revenue:commission:platform:XAF',
      'commission_revenue',
      'revenue',
      true,
      false,
    ],
    [deliveryRevenueId('XAF'), 'revenue:delivery:platform:XAF', 'delivery_revenue', 'revenue', true, false],
    [
      promotionsExpenseId('XAF'),
      'expense:promotions:platform:XAF',
      'promotions_expense',
      'expense',
      false,
      true,
    ],
    [
      providerFeesExpenseId('XAF'),
      'expense:provider_fees:platform:XAF',
      'provider_fees_expense',
      'expense',
      false,
      true,
    ],
    [deliveryExpenseId('XAF'), 'expense:delivery:platform:XAF', 'delivery_expense', 'expense', false, true],
    [
      providerClearingId('mtn_momo', 'XAF'),
      'clearing:provider:mtn_momo:XAF',
      'provider_clearing',
      'asset',
      false,
      true,
    ],
    [customerPointsId(USER), `points:customer:${USER}:PTS`, 'customer_points', 'liability', true, false],
    [pointsIssuanceId(), 'points:issuance:platform:PTS', 'points_issuance', 'equity', false, true],
    [worldId('USD'), 'world:external:platform:USD', 'world', 'equity', false, false],
    [fxBridgeId('XAF'), 'fx:bridge:platform:XAF', 'fx_bridge', 'asset', false, false],
    [fxSpreadRevenueId('XAF'), 'revenue:fx_spread:platform:XAF', 'fx_spread_revenue', 'revenue', true, false],
    [fxRoundingId('XAF'), 'fx:rounding:platform:XAF', 'fx_rounding', 'revenue', true, false],
    [
      customerReceivableId(USER, 'USD'),
      `receivable:customer:${USER}:USD`,
      'customer_receivable',
      'asset',
      false,
      true,
    ],
    [
      providerPayableId('flutterwave', 'USD'),
      'payable:provider:flutterwave:USD',
      'provider_payable',
      'liability',
      true,
      false,
    ],
    [
      groupCartEscrowId(USER, 'XAF'),
      `escrow:group:${USER}:XAF`,
      'group_cart_escrow',
      'liability',
      true,
      false,
    ],
    [
      bulkOrderEscrowId(USER, 'XAF'),
      `escrow:bulk:${USER}:XAF`,
      'bulk_order_escrow',
      'liability',
      true,
      false,
    ],
  ];

  for (const [id, expectedId, role, kind, noDebitBalance, noCreditBalance] of table) {
    it(`builds ${expectedId} as a ${kind} (${role}) and parses it back`, () => {
      expect(id).toBe(expectedId);
      expect(accountSpec(id)).toMatchObject({
        role,
        kind,
        flags: { debitsMustNotExceedCredits: noDebitBalance, creditsMustNotExceedDebits: noCreditBalance },
      });
    });
  }

  it('rejects ids the chart does not define', () => {
    for (const id of [
      'wallet:customer:u1',
      'wallet:customer:u1:PTS',
      'points:customer:u1:XAF',
      'clearing:provider:paypal:XAF',
      'revenue:commission:r1:XAF',
      'wallet:customer:a:b:XAF',
      'wallet:customer::XAF',
      `wallet:customer:${'u'.repeat(65)}:XAF`,
      'unknown:thing:platform:XAF',
    ]) {
      expect(accountSpec(id), id).toBeNull();
    }
    expect(() => customerWalletId('bad:id', 'XAF')).toThrow(RangeError);
    expect(() => accountId('customer_points', 'u1', 'XAF')).toThrow(RangeError);
  });

  it('opens the same account for the same id on any writer', () => {
    expect(chartAccount(orderEscrowId('o9', 'XAF'))).toEqual({
      id: 'escrow:order:o9:XAF',
      currency: 'XAF',
      kind: 'liability',
      flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false },
    });
    expect(chartAccount('nonsense')).toBeNull();
  });

  it('round-trips every entity id and stays within the ledger id length', () => {
    const subject = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
    fc.assert(
      fc.property(subject, fc.constantFrom('XAF' as const, 'USD' as const), (entity, currency) => {
        for (const id of [
          customerWalletId(entity, currency),
          orderEscrowId(entity, currency),
          driverPayableId(entity, currency),
        ]) {
          expect(id.length).toBeLessThanOrEqual(LIMITS.accountIdMaxLength);
          expect(accountSpec(id)?.subject).toBe(entity);
        }
      }),
      { numRuns: 150 },
    );
  });
});
