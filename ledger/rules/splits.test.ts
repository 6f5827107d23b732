import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAccounts } from './apply.js';
import {
  chartAccount,
  commissionRevenueId,
  customerWalletId,
  deliveryExpenseId,
  deliveryRevenueId,
  driverPayableId,
  orderEscrowId,
  promotionsExpenseId,
  restaurantPayableId,
  taxPayableId,
} from './chart.js';
import {
  allocate,
  applyRateMinor,
  commissionMinor,
  commissionTier,
  driverFeeMinor,
  loyaltyPointsEarned,
  netOutOfEscrowMinor,
  orderSettlement,
  providerFeeMinor,
  settlementTransfers,
  type OrderSettlementInput,
} from './splits.js';
import { commitChanges, evictable } from './state.js';
import { codes, fund, ledgerWith, netCreditMinor, run, transfer, T0_MS } from './testing/fixtures.js';

const DAY_MS = 86_400_000;

describe('allocate', () => {
  it('gives leftover units to the largest remainders, ties to the lower index', () => {
    expect(allocate(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(allocate(10n, [3n, 3n, 4n])).toEqual([3n, 3n, 4n]);
    expect(allocate(5n, [1n, 2n])).toEqual([2n, 3n]);
    expect(allocate(1n, [0n, 1n, 1n])).toEqual([0n, 1n, 0n]);
    expect(allocate(-100n, [1n, 1n, 1n])).toEqual([-34n, -33n, -33n]);
  });

  it('refuses weights it cannot allocate by', () => {
    expect(() => allocate(10n, [])).toThrow(RangeError);
    expect(() => allocate(10n, [0n, 0n])).toThrow(RangeError);
    expect(() => allocate(10n, [1n, -1n])).toThrow(RangeError);
  });

  it('always sums exactly to the whole, each part within one unit of its exact share', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc
          .array(fc.bigInt({ min: 0n, max: 10n ** 6n }), { minLength: 1, maxLength: 20 })
          .filter((weights) => weights.some((weight) => weight > 0n)),
        (whole, weights) => {
          const parts = allocate(whole, weights);
          const total = weights.reduce((sum, weight) => sum + weight, 0n);
          expect(parts.reduce((sum, part) => sum + part, 0n)).toBe(whole);
          parts.forEach((part, index) => {
            const exactTimesTotal = whole * (weights[index] ?? 0n);
            const distance = part * total - exactTimesTotal;
            expect(distance < 0n ? -distance : distance).toBeLessThan(total);
            if (weights[index] === 0n) expect(part).toBe(0n);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('commission tiers (spec §6.3)', () => {
  const activated = T0_MS;
  const at = (days: number, completedOrders: number, overrideRate?: string) =>
    commissionTier({
      restaurantActivatedAtMs: activated,
      nowMs: activated + days * DAY_MS,
      completedOrders,
      ...(overrideRate === undefined ? {} : { overrideRate }),
    });

  it('charges 15 % during the first 30 days, whatever the volume', () => {
    expect(at(0, 0)).toEqual({ tier: 'new', rate: '0.15' });
    expect(at(29.99, 600)).toEqual({ tier: 'new', rate: '0.15' });
  });

  it('charges by volume from day 30: 15 % up to 100 orders, 12 % above 100, 10 % above 500', () => {
    expect(at(30, 100)).toEqual({ tier: 'standard', rate: '0.15' });
    expect(at(30, 101)).toEqual({ tier: 'established', rate: '0.12' });
    expect(at(400, 500)).toEqual({ tier: 'established', rate: '0.12' });
    expect(at(400, 501)).toEqual({ tier: 'premium', rate: '0.10' });
  });

  it('lets an admin override win over every tier', () => {
    expect(at(1, 0, '0.08')).toEqual({ tier: 'override', rate: '0.08' });
    expect(() => at(1, 0, '1.5')).toThrow(RangeError);
    expect(() => at(1, 0, '0.1234567')).toThrow(RangeError);
  });

  it("takes the city's rate over the tiers, and a restaurant's override over the city's (issue #26)", () => {
    const city = (days: number, completedOrders: number, cityRate: string, overrideRate?: string) =>
      commissionTier({
        restaurantActivatedAtMs: activated,
        nowMs: activated + days * DAY_MS,
        completedOrders,
        cityRate,
        ...(overrideRate === undefined ? {} : { overrideRate }),
      });
    expect(city(0, 0, '0.125')).toEqual({ tier: 'city', rate: '0.125' });
    expect(city(400, 501, '0.125')).toEqual({ tier: 'city', rate: '0.125' });
    expect(city(400, 501, '0.125', '0.08')).toEqual({ tier: 'override', rate: '0.08' });
    expect(city(1, 0, '0')).toEqual({ tier: 'city', rate: '0' });
    expect(() => city(1, 0, '12.5')).toThrow(RangeError);
    expect(() => city(1, 0, '-0.1')).toThrow(RangeError);
    // 12.5 % of 4,999 XAF is 624.875: 625, to the franc.
    expect(commissionMinor(4_999n, '0.125')).toBe(625n);
  });

  it('rounds the commission half to even, to the franc', () => {
    expect(commissionMinor(5n, '0.10')).toBe(0n);
    expect(commissionMinor(15n, '0.10')).toBe(2n);
    expect(commissionMinor(25n, '0.10')).toBe(2n);
    expect(commissionMinor(12_345n, '0.15')).toBe(1_852n);
    expect(applyRateMinor(2n ** 63n - 1n, '1')).toBe(2n ** 63n - 1n);
  });
});

describe('fees and points', () => {
  it('charges drivers 500 XAF plus 10 XAF per started 100 m', () => {
    expect([0, 1, 100, 101, 1_000, 1_050, 2_500].map(driverFeeMinor)).toEqual([
      500n,
      510n,
      510n,
      520n,
      600n,
      610n,
      750n,
    ]);
    expect(() => driverFeeMinor(1.5)).toThrow(RangeError);
    expect(() => driverFeeMinor(-1)).toThrow(RangeError);
  });

  it('estimates MTN at 2.5 % and Orange at 2.0 %, half to even', () => {
    expect(providerFeeMinor(10_000n, 'MTN')).toBe(250n);
    expect(providerFeeMinor(10_000n, 'ORANGE')).toBe(200n);
    expect(providerFeeMinor(1_100n, 'MTN')).toBe(28n);
    expect(providerFeeMinor(1_060n, 'MTN')).toBe(26n);
  });

  it('awards one point per whole 100 XAF', () => {
    expect([0n, 99n, 100n, 1_999n].map(loyaltyPointsEarned)).toEqual([0n, 0n, 1n, 19n]);
  });
});

const BASE_ORDER: OrderSettlementInput = {
  subtotalMinor: 10_000n,
  deliveryFeeChargedMinor: 1_000n,
  tipMinor: 300n,
  taxMinor: 0n,
  discountMinor: 0n,
  commissionRate: '0.15',
  driverFeeMinor: 800n,
};

describe('orderSettlement', () => {
  it('splits a plain order into restaurant, commission, driver fee, tip and delivery margin', () => {
    const settlement = orderSettlement(BASE_ORDER);
    expect(settlement.escrowMinor).toBe(11_300n);
    expect(settlement.legs.map((leg) => [leg.kind, leg.direction, leg.amountMinor])).toEqual([
      ['restaurant_share', 'out', 8_500n],
      ['platform_commission', 'out', 1_500n],
      ['driver_fee', 'out', 800n],
      ['driver_tip', 'out', 300n],
      ['delivery_margin', 'out', 200n],
    ]);
  });

  it('funds a negative delivery margin and a platform discount from expenses, first', () => {
    const settlement = orderSettlement({
      ...BASE_ORDER,
      deliveryFeeChargedMinor: 500n,
      driverFeeMinor: 900n,
      discountMinor: 1_000n,
      taxMinor: 193n,
    });
    expect(settlement.escrowMinor).toBe(9_993n);
    expect(settlement.legs.slice(0, 2).map((leg) => [leg.kind, leg.direction, leg.amountMinor])).toEqual([
      ['promotion_funding', 'in', 1_000n],
      ['delivery_subsidy', 'in', 400n],
    ]);
    expect(settlement.legs.find((leg) => leg.kind === 'restaurant_share')?.amountMinor).toBe(8_500n);
    expect(settlement.legs.find((leg) => leg.kind === 'tax')?.amountMinor).toBe(193n);
  });

  it('charges commission on the discounted subtotal when the restaurant funds the discount', () => {
    const settlement = orderSettlement({
      ...BASE_ORDER,
      discountMinor: 2_000n,
      discountFundedBy: 'restaurant',
    });
    expect([settlement.commissionBaseMinor, settlement.commissionMinor]).toEqual([8_000n, 1_200n]);
    expect(settlement.legs.some((leg) => leg.direction === 'in')).toBe(false);
  });

  it('books a waived delivery fee on its own leg from the promotions expense; the driver is paid in full', () => {
    const fee = BASE_ORDER.deliveryFeeChargedMinor;
    const settlement = orderSettlement({
      ...BASE_ORDER,
      discountMinor: 2_000n + fee,
      discountFundedBy: 'restaurant',
      restaurantDiscountMinor: 2_000n,
      deliveryDiscountMinor: fee,
    });
    const legOf = (kind: string) => settlement.legs.find((leg) => leg.kind === kind);
    expect(legOf('delivery_benefit')).toMatchObject({ direction: 'in', amountMinor: fee, code: 'promotion' });
    expect(legOf('promotion_funding')).toBeUndefined();
    expect(legOf('driver_fee')?.amountMinor).toBe(BASE_ORDER.driverFeeMinor);
    expect(settlement.commissionBaseMinor).toBe(BASE_ORDER.subtotalMinor - 2_000n);
    expect(netOutOfEscrowMinor(settlement.legs)).toBe(settlement.escrowMinor);
    // Never more than the fee, nor than the discount.
    expect(() =>
      orderSettlement({ ...BASE_ORDER, discountMinor: fee + 1n, deliveryDiscountMinor: fee + 1n }),
    ).toThrow(RangeError);
    expect(() => orderSettlement({ ...BASE_ORDER, discountMinor: 10n, deliveryDiscountMinor: 11n })).toThrow(
      RangeError,
    );
  });

  it('splits a discount with two funders: the restaurant its coupon, the promotions expense the points', () => {
    const settlement = orderSettlement({
      ...BASE_ORDER,
      discountMinor: 2_500n,
      discountFundedBy: 'restaurant',
      restaurantDiscountMinor: 2_000n,
    });
    expect([settlement.commissionBaseMinor, settlement.commissionMinor]).toEqual([8_000n, 1_200n]);
    expect(settlement.legs.find((leg) => leg.kind === 'promotion_funding')?.amountMinor).toBe(500n);
    expect(netOutOfEscrowMinor(settlement.legs)).toBe(settlement.escrowMinor);
    expect(() =>
      orderSettlement({ ...BASE_ORDER, discountMinor: 100n, restaurantDiscountMinor: 101n }),
    ).toThrow(RangeError);
    expect(() =>
      orderSettlement({ ...BASE_ORDER, discountMinor: 100n, restaurantDiscountMinor: -1n }),
    ).toThrow(RangeError);
  });

  it('refuses negative amounts and a discount above the subtotal', () => {
    expect(() => orderSettlement({ ...BASE_ORDER, tipMinor: -1n })).toThrow(RangeError);
    expect(() => orderSettlement({ ...BASE_ORDER, discountMinor: 10_001n })).toThrow(RangeError);
  });

  const orderInputs = fc
    .record({
      subtotalMinor: fc.bigInt({ min: 0n, max: 5_000_000n }),
      deliveryFeeChargedMinor: fc.bigInt({ min: 0n, max: 20_000n }),
      tipMinor: fc.bigInt({ min: 0n, max: 10_000n }),
      taxMinor: fc.bigInt({ min: 0n, max: 500_000n }),
      discountShare: fc.integer({ min: 0, max: 100 }),
      restaurantShare: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      discountFundedBy: fc.constantFrom('platform' as const, 'restaurant' as const),
      commissionRate: fc.constantFrom('0', '0.10', '0.12', '0.15', '0.175', '1'),
      driverFeeMinor: fc.bigInt({ min: 0n, max: 20_000n }),
    })
    .map(({ discountShare, restaurantShare, ...rest }): OrderSettlementInput => {
      const discountMinor = (rest.subtotalMinor * BigInt(discountShare)) / 100n;
      return {
        ...rest,
        discountMinor,
        // Sometimes two funders: the restaurant a part, the promotions expense the rest.
        ...(restaurantShare === undefined
          ? {}
          : { restaurantDiscountMinor: (discountMinor * BigInt(restaurantShare)) / 100n }),
      };
    });

  it('nets its legs exactly to the escrow amount, every leg positive, for any order', () => {
    fc.assert(
      fc.property(orderInputs, (input) => {
        const settlement = orderSettlement(input);
        expect(netOutOfEscrowMinor(settlement.legs)).toBe(settlement.escrowMinor);
        expect(settlement.legs.every((leg) => leg.amountMinor > 0n)).toBe(true);
        const firstOut = settlement.legs.findIndex((leg) => leg.direction === 'out');
        expect(
          settlement.legs.slice(firstOut < 0 ? 0 : firstOut).every((leg) => leg.direction === 'out'),
        ).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('settles on the ledger as one linked chain that empties and closes the escrow', () => {
    fc.assert(
      fc.property(orderInputs, (input) => {
        const settlement = orderSettlement(input);
        const transfers = settlementTransfers({
          orderId: 'o1',
          restaurantId: 'r1',
          driverId: 'd1',
          currency: 'XAF',
          settlement,
        });
        const escrow = orderEscrowId('o1', 'XAF');
        const ids = [
          customerWalletId('u1', 'XAF'),
          escrow,
          restaurantPayableId('r1', 'XAF'),
          driverPayableId('d1', 'XAF'),
          commissionRevenueId('XAF'),
          deliveryRevenueId('XAF'),
          deliveryExpenseId('XAF'),
          promotionsExpenseId('XAF'),
          taxPayableId('XAF'),
        ];
        const state = ledgerWith([]);
        commitChanges(
          state,
          createAccounts(
            state,
            ids.map((id) => chartAccount(id)!),
          ).changes,
        );
        if (settlement.escrowMinor > 0n) {
          fund(state, customerWalletId('u1', 'XAF'), settlement.escrowMinor);
          run(state, [
            transfer({
              id: 'pay',
              debitAccountId: customerWalletId('u1', 'XAF'),
              creditAccountId: escrow,
              amountMinor: settlement.escrowMinor,
              code: 'payment_capture',
            }),
          ]);
        }
        const outcome = run(state, transfers);
        expect(codes(outcome).every((code) => code === 'ok')).toBe(true);
        expect(netCreditMinor(state, escrow)).toBe(0n);
        if (transfers.length > 0) expect(evictable(state.accounts.get(escrow)!)).toBe(true);
        expect(netCreditMinor(state, driverPayableId('d1', 'XAF'))).toBe(
          input.driverFeeMinor + input.tipMinor,
        );
        expect(run(state, transfers).results.every((entry) => entry.result === 'exists')).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
