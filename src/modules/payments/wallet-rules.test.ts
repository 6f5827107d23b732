import { describe, expect, it } from 'vitest';
import { TRANSFER_CODES } from '../../../ledger/rules/index.js';
import { categoryFilter, categoryOf, WALLET_CATEGORIES } from './wallet-categories.js';
import { paymentParts } from './wallet-service.js';
import { doualaPeriods, uuidFromName } from './ids.js';

describe('wallet payment parts', () => {
  it('splits an order total into food (less discount), taxes, delivery and tips that sum to it exactly', () => {
    const parts = paymentParts({
      subtotalMinor: 6_500,
      discountMinor: 500,
      deliveryFeeMinor: 620,
      taxMinor: 1_100,
      tipMinor: 200,
      totalMinor: 7_920,
    });
    expect(parts).toEqual([
      { category: 'food', amountMinor: 6_000n },
      { category: 'taxes', amountMinor: 1_100n },
      { category: 'delivery', amountMinor: 620n },
      { category: 'tips', amountMinor: 200n },
    ]);
  });
  it('refuses a discount larger than the food', () => {
    expect(() =>
      paymentParts({
        subtotalMinor: 500,
        discountMinor: 600,
        deliveryFeeMinor: 700,
        taxMinor: 0,
        tipMinor: 0,
        totalMinor: 600,
      }),
    ).toThrow(RangeError);
  });
  it('leaves out empty parts and refuses a total the parts do not make', () => {
    expect(
      paymentParts({
        subtotalMinor: 1_000,
        discountMinor: 0,
        deliveryFeeMinor: 500,
        taxMinor: 0,
        tipMinor: 0,
        totalMinor: 1_500,
      }).map((part) => part.category),
    ).toEqual(['food', 'delivery']);
    expect(() =>
      paymentParts({
        subtotalMinor: 1_000,
        discountMinor: 0,
        deliveryFeeMinor: 500,
        taxMinor: 0,
        tipMinor: 0,
        totalMinor: 1_501,
      }),
    ).toThrow(RangeError);
  });
});

describe('statement categories', () => {
  it('files a capture under the leg it declares (food, delivery, taxes), and an undeclared one under food', () => {
    expect(categoryOf('payment_capture', { category: 'delivery' })).toBe('delivery');
    expect(categoryOf('payment_capture', { category: 'taxes' })).toBe('taxes');
    expect(categoryOf('payment_capture', null)).toBe('food');
    expect(categoryOf('payment_capture', { category: 'withdrawals' })).toBe('food');
  });
  it('files everything else by its code alone, whatever the transfer declares', () => {
    expect(categoryOf('topup', null)).toBe('top-ups');
    expect(categoryOf('refund', null)).toBe('refunds');
    expect(categoryOf('tip', null)).toBe('tips');
    expect(categoryOf('tax', null)).toBe('taxes');
    expect(categoryOf('payout', { category: 'refunds' })).toBe('withdrawals');
    expect(categoryOf('points_redeem', null)).toBe('rewards');
    expect(categoryOf('provider_fee', null)).toBe('fees');
    expect(categoryOf('adjustment', { category: 'food' })).toBe('other');
    expect(categoryOf('no-such-code', null)).toBe('other');
  });
  it('gives every transfer code a category, and its filter finds exactly what categoryOf files there', () => {
    const declarations = [
      null,
      { category: 'food' },
      { category: 'delivery' },
      { category: 'taxes' },
      { category: 'x' },
    ];
    for (const code of TRANSFER_CODES) {
      for (const userData of declarations) {
        const category = categoryOf(code, userData);
        expect(WALLET_CATEGORIES).toContain(category);
        for (const candidate of WALLET_CATEGORIES) {
          const { codes, capture } = categoryFilter(candidate);
          const leg = userData?.category;
          const matches =
            (codes as string[]).includes(code) ||
            (code === 'payment_capture' &&
              capture !== null &&
              (leg === capture.declared ||
                (capture.undeclared && (leg === undefined || !capture.legs.includes(leg as never)))));
          expect(matches, `${code} ${JSON.stringify(userData)} in ${candidate}`).toBe(candidate === category);
        }
      }
    }
  });
});

describe('ids and periods', () => {
  it('derives the same attempt id from the same key, another from another', () => {
    expect(uuidFromName('payment', 'u1\nkey-1')).toBe(uuidFromName('payment', 'u1\nkey-1'));
    expect(uuidFromName('payment', 'u1\nkey-1')).not.toBe(uuidFromName('payment', 'u2\nkey-1'));
    expect(uuidFromName('payment', 'x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
  it('counts limits in Douala days (UTC+1): 23:30 UTC is already tomorrow', () => {
    expect(doualaPeriods(new Date('2026-11-30T23:30:00Z'))).toEqual({
      day: 'D2026-12-01',
      month: 'M2026-12',
    });
    expect(doualaPeriods(new Date('2026-11-30T22:30:00Z'))).toEqual({
      day: 'D2026-11-30',
      month: 'M2026-11',
    });
  });
});
